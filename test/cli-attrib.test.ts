/**
 * `causeway heads | lens | dla | attrib` end to end through the CLI (lib/cli/main.ts) on the bundled
 * model: the JSON shapes docs/attribution.md lists, numbers equal to the lib calls'
 * (lib/interp/{head-scores,logit-lens,dla,attribution}.ts, themselves checked against numpy in
 * test/interp-attrib.test.ts), and one-line errors with exit code 2.
 */
import "../lib/model/backends-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../lib/engine";
import { attributionPatching, compareWithPatching } from "../lib/interp/attribution";
import { directLogitAttribution } from "../lib/interp/dla";
import { HEAD_SCORE_NAMES, headScores } from "../lib/interp/head-scores";
import { logitLens } from "../lib/interp/logit-lens";
import { selectBackend } from "../lib/model/backend";
import { runCli } from "./helpers/run-cli";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const PROMPT = "Ralkrok Stennos lives in the city of";
const CORRUPT = "Nerzessar Pelpan lives in the city of";
const PAIR = ["--clean", PROMPT, "--corrupt", CORRUPT];
let engine: Engine;

beforeAll(async () => {
  await selectBackend(["wasm"]);
  engine = await loadEngine(BUNDLED_DIR);
});
afterAll(() => engine.dispose());

async function json(args: string[]) {
  const r = await runCli([...args, "--json"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

describe("causeway heads | lens | dla | attrib --json", () => {
  it("heads: every score [L][H] with its definition; numbers as headScores", async () => {
    const out = await json(["heads", "--prompt", PROMPT, "--subject", "Ralkrok Stennos"]);
    const lib = await headScores(engine, { prompt: PROMPT, subject: "Ralkrok Stennos" });
    expect(out.subject_range).toEqual(lib.subject_range);
    expect(out.backend).toBe("wasm");
    for (const name of HEAD_SCORE_NAMES) {
      expect(out.scores[name]).toHaveLength(6);
      expect(out.scores[name][0]).toHaveLength(4);
      expect(typeof out.definitions[name]).toBe("string");
    }
    expect(out.scores.induction[5][3]).toBeCloseTo(lib.scores.induction![5][3], 6);
    expect(out.repeat).toMatchObject({ length: 20, batch: 4, seed: 1 });
  });

  it("lens: L + 1 rows of [T] probabilities and top-k; numbers as logitLens", async () => {
    const out = await json(["lens", "--prompt", PROMPT, "--top", "3"]);
    const lib = await logitLens(engine, { prompt: PROMPT, topK: 3 });
    const T = lib.input_ids.length;
    expect(out.layers).toEqual(lib.layers);
    expect(out.target).toEqual(lib.target);
    expect(out.target_prob).toHaveLength(7);
    expect(out.top[6][T - 1]).toHaveLength(3);
    expect(out.target_prob[3][T - 1]).toBeCloseTo(lib.target_prob[3][T - 1], 6);
  });

  it("dla: the terms and their sum; numbers as directLogitAttribution", async () => {
    const out = await json(["dla", "--prompt", PROMPT, "--target", "Parrow", "--foil", "Belkor"]);
    const lib = await directLogitAttribution(engine, {
      prompt: PROMPT,
      target: "Parrow",
      foil: "Belkor",
    });
    for (const k of ["heads", "mlp", "attn_bias", "embed", "pos_embed", "ln_final_bias", "total"])
      expect(out, k).toHaveProperty(k);
    expect(out.heads).toHaveLength(6);
    expect(out.logit_diff).toBeCloseTo(lib.logit_diff, 6);
    expect(out.heads[3][0]).toBeCloseTo(lib.heads[3][0], 6);
    expect(Math.abs(out.total - out.logit_diff)).toBeLessThan(1e-4);
  });

  it("attrib: every site's estimate and the correlation with exact patching", async () => {
    const args = ["--target", "Parrow", "--foil", "Belkor", "--sites", "head_out"];
    const out = await json(["attrib", ...PAIR, ...args]);
    const spec = { clean: PROMPT, corrupt: CORRUPT, target: "Parrow", foil: "Belkor" };
    const lib = await attributionPatching(engine, spec);
    const [cmp] = await compareWithPatching(engine, spec, lib, ["head_out"]);
    const T = lib.clean_ids.length;
    expect(out.scores.resid_pre).toHaveLength(6);
    expect(out.scores.resid_pre[0]).toHaveLength(T);
    expect(out.scores.head_out_pos[5][T - 1]).toHaveLength(4);
    expect(out.scores.head_out[4][2]).toBeCloseTo(lib.scores.head_out[4][2], 6);
    expect(out.exact).toHaveLength(1);
    expect(out.exact[0].site).toBe("head_out");
    expect(out.exact[0].correlation).toBeCloseTo(cmp.correlation, 6);
  });
});

describe("errors: one line, exit code 2", () => {
  const cases: [string, string[], RegExp][] = [
    ["heads without a prompt", ["heads"], /--prompt is required/],
    ["lens with top 0", ["lens", "--prompt", PROMPT, "--top", "0"], /--top must be an integer/],
    [
      "dla with the foil equal to the target",
      ["dla", "--prompt", PROMPT, "--target", "Parrow", "--foil", "Parrow"],
      /same token/,
    ],
    [
      "attrib with an unknown site",
      ["attrib", ...PAIR, "--target", "a", "--foil", "b", "--sites", "mlp"],
      /--sites takes/,
    ],
  ];
  for (const [name, args, re] of cases) {
    it(name, async () => {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    });
  }
});
