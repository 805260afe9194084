/**
 * `causeway path` through the CLI (lib/cli/main.ts) on the bundled model: the JSON against the numpy
 * goldens of scripts/reference/path_patch_ref.py (within 1e-4), null for heads that are not
 * receivers; --joint-only against path_patch_sets_ref.py's receiver-set goldens; one-line usage
 * errors with exit code 2.
 */
import "../lib/model/backends-node";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import { ROOT } from "../scripts/reference/golden";
import { pathGolden } from "./helpers/path-goldens";
import { runCli } from "./helpers/run-cli";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const PROMPT = "Ralkrok Stennos lives in the city of";
const CORRUPT = "Nerzessar Pelpan lives in the city of";
const golden = pathGolden("tiny-facts-3.0-qkv");
let engine: Engine;

beforeAll(async () => {
  await selectBackend(["wasm"]);
  engine = await loadEngine(BUNDLED_DIR);
});
afterAll(() => engine.dispose());

describe("causeway path", () => {
  it("--json: scores [L][H] and the joint effect as numpy's", async () => {
    expect(engine.tokenize(PROMPT).ids).toEqual(golden.spec.clean);
    const r = await runCli([
      "path",
      "--clean",
      PROMPT,
      "--corrupt",
      CORRUPT,
      "--target",
      engine.tokenText(golden.spec.target),
      "--foil",
      engine.tokenText(golden.spec.foil),
      "--sender",
      "3.0",
      "--receivers",
      "4.2,5.1,5.3",
      "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.sender).toEqual({ layer: 3, head: 0 });
    expect(out.inputs).toEqual(["q", "k", "v"]);
    expect(out.backend).toBe("wasm");
    let d = Math.abs(out.joint - (golden.joint as number)); // this case has receivers: a joint effect
    golden.scores.forEach((row, l) => {
      row.forEach((want, h) => {
        if (want === null) expect(out.scores[l][h]).toBeNull();
        else d = Math.max(d, Math.abs(out.scores[l][h] - want));
      });
    });
    expect(d).toBeLessThan(1e-4);
  });

  it("--joint-only with heads written L3H1: the receiver set's joint effect as numpy's, no grid", async () => {
    const sets = JSON.parse(
      readFileSync(path.join(ROOT, "test/fixtures/path-patch/receiver-sets.json"), "utf8"),
    ) as { cases: { name: string; joint: number }[] };
    const want = sets.cases.find((c) => c.name === "tiny-facts-L1H1-qkv-L2H0+L3H0+L3H3+L5H1");
    const r = await runCli([
      "path",
      "--clean",
      PROMPT,
      "--corrupt",
      CORRUPT,
      "--target",
      engine.tokenText(golden.spec.target),
      "--foil",
      engine.tokenText(golden.spec.foil),
      "--sender",
      "L1H1",
      "--receivers",
      "L2H0,l3h0,L3H3,5.1",
      "--joint-only",
      "--json",
    ]);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout);
    expect(out.receivers).toEqual([
      { layer: 2, head: 0 },
      { layer: 3, head: 0 },
      { layer: 3, head: 3 },
      { layer: 5, head: 1 },
    ]);
    expect(out.evaluations).toBe(4);
    expect(out.scores.flat().every((v: unknown) => v === null)).toBe(true);
    expect(Math.abs(out.joint - (want?.joint as number))).toBeLessThan(1e-4);
  });

  it("refuses a bad head, a receiver before the sender, a bad input list", async () => {
    const base = ["path", "--clean", PROMPT, "--corrupt", CORRUPT, "--target", " Parrow"];
    const cases: [string[], RegExp][] = [
      [[...base, "--foil", " Belkor", "--sender", "3"], /LAYER\.HEAD/],
      [[...base, "--foil", " Belkor", "--sender", "3.0", "--receivers", "2.1"], /not after/],
      [[...base, "--foil", " Belkor", "--sender", "1.0", "--inputs", "q,z"], /q, k, v/],
      [[...base, "--sender", "1.0"], /--foil/],
      [[...base, "--foil", " Belkor", "--sender", "L1H", "--receivers", "L3H0"], /L<layer>H<head>/],
      [[...base, "--foil", " Belkor", "--sender", "L1H0", "--joint-only"], /needs --receivers/],
    ];
    for (const [args, msg] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/^causeway: /);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});
