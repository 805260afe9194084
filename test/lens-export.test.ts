/**
 * The read-out views' CSV exports (lib/export/readouts.ts) read back cell by cell against the
 * results they export (on the bundled model), and DLA, attribution patching and the logit lens on
 * a random Llama fixture (RMSNorm, rotary): they run and DLA sums to the logit difference; their
 * numbers are checked against numpy in test/interp-attrib-families.test.ts.
 */
import "../lib/model/backends-node";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../lib/engine";
import { parseCsv } from "../lib/export/csv";
import { modelAbout } from "../lib/export/model-about";
import { attribCsv, dlaCsv, lensCsv, type ReadoutAbout, readoutJson } from "../lib/export/readouts";
import { attributionPatching, compareWithPatching } from "../lib/interp/attribution";
import { directLogitAttribution } from "../lib/interp/dla";
import { logitLens } from "../lib/interp/logit-lens";
import { loadWeights, readModelConfig } from "../lib/load/model-files";
import { directorySource } from "../lib/load/node-source";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { ROOT } from "../scripts/reference/golden";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const PROMPT = "Ralkrok Stennos lives in the city of";
const CORRUPT = "Nerzessar Pelpan lives in the city of";
let engine: Engine;
let llama: Gpt2Model;

beforeAll(async () => {
  await selectBackend(["wasm"]);
  engine = await loadEngine(BUNDLED_DIR);
  const source = directorySource(path.join(ROOT, "test/fixtures/families/llama-gqa-bf16"));
  const config = await readModelConfig(source);
  llama = Gpt2Model.fromWeights(config, await loadWeights(source, config));
});
afterAll(() => {
  engine?.dispose();
  llama?.dispose();
});

const MODEL = modelAbout(
  { name: "tiny-facts", nParams: 1_360_000, config: {} as never },
  {
    kind: "bundled",
    name: "tiny-facts",
  },
);
const ON_PROMPT: ReadoutAbout = { model: MODEL, backend: "wasm", prompt: PROMPT };

describe("CSV exports of the read-outs", () => {
  it("lens: one row per layer, position and top-k entry, with p(target)", async () => {
    const r = await logitLens(engine, { prompt: PROMPT, topK: 2 });
    const rows = parseCsv(lensCsv(r, ON_PROMPT));
    const T = r.input_ids.length;
    expect(rows[0]).toEqual([
      "layer",
      "position",
      "token",
      "target",
      "target_prob",
      "rank",
      "top_token",
      "top_prob",
      "model",
      "prompt",
    ]);
    // every row says what it is of
    expect(rows.slice(1).every((x) => x[8] === "bundled:tiny-facts" && x[9] === PROMPT)).toBe(true);
    expect(rows.length - 1).toBe(r.layers.length * T * 2);
    const last = rows.filter((x) => x[0] === r.layers[6] && x[1] === String(T - 1));
    expect(Number(last[0][4])).toBe(r.target_prob[6][T - 1]);
    expect(last.map((x) => x[6])).toEqual(r.top[6][T - 1].map((t) => t.token));
  });

  it("dla: every term, and the rows sum to the total", async () => {
    const r = await directLogitAttribution(engine, {
      prompt: PROMPT,
      target: "Parrow",
      foil: "Belkor",
    });
    const all = parseCsv(dlaCsv(r, ON_PROMPT));
    expect(all[0].slice(4)).toEqual(["target", "foil", "model", "prompt"]);
    const rows = all.slice(1);
    expect(
      rows.every(
        (x) =>
          x.slice(4).join("|") === `${r.target.token}|${r.foil.token}|bundled:tiny-facts|${PROMPT}`,
      ),
    ).toBe(true);
    const terms = rows.filter((x) => x[0] !== "total" && x[0] !== "logit_diff");
    expect(terms).toHaveLength(2 + r.n_layer * (r.n_head + 2) + 1);
    const sum = terms.reduce((s, x) => s + Number(x[3]), 0);
    expect(Math.abs(sum - r.logit_diff)).toBeLessThan(1e-4);
    const head = rows.find((x) => x[0] === "head" && x[1] === "3" && x[2] === "1");
    expect(Number(head?.[3])).toBe(r.heads[3][1]);
  });

  it("attrib: estimate and exact side by side, every site", async () => {
    const spec = { clean: PROMPT, corrupt: CORRUPT, target: "Parrow", foil: "Belkor" };
    const r = await attributionPatching(engine, spec);
    const exact = await compareWithPatching(engine, spec, r, ["head_out"]);
    const about = { model: MODEL, clean: PROMPT, corrupt: CORRUPT };
    const all = parseCsv(attribCsv(r, exact, about));
    expect(all[0].slice(6)).toEqual(["target", "foil", "model", "clean", "corrupt"]);
    const rows = all.slice(1);
    expect(rows[0].slice(6)).toEqual([
      r.target.token,
      r.foil.token,
      "bundled:tiny-facts",
      PROMPT,
      CORRUPT,
    ]);
    const { n_layer: L, n_head: H } = r;
    const T = r.clean_ids.length;
    expect(rows).toHaveLength(3 * L * T + L * H + L * T * H);
    const h = rows.find((x) => x[0] === "head_out" && x[1] === "2" && x[3] === "3");
    expect(Number(h?.[4])).toBe(r.scores.head_out[2][3]);
    expect(Number(h?.[5])).toBe((exact[0].exact as number[][])[2][3]);
    const p = rows.find((x) => x[0] === "resid_pre" && x[1] === "1" && x[2] === "4");
    expect(Number(p?.[4])).toBe(r.scores.resid_pre[1][4]);
    expect(p?.[5]).toBe(""); // no exact resid_pre run
  });
});

describe("JSON exports of the read-outs", () => {
  it("the result after the model, backend and prompt it is of", async () => {
    const r = await directLogitAttribution(engine, {
      prompt: PROMPT,
      target: "Parrow",
      foil: "Belkor",
    });
    const j = JSON.parse(readoutJson(r, ON_PROMPT));
    expect(Object.keys(j).slice(0, 3)).toEqual(["model", "backend", "prompt"]);
    expect(j.model).toEqual({
      name: "tiny-facts",
      source: "bundled:tiny-facts",
      n_params: 1_360_000,
    });
    expect(j.prompt).toBe(PROMPT);
    expect(j.target).toEqual(r.target);
    expect(j.foil).toEqual(r.foil);
    expect(j.heads).toEqual(r.heads);
    const hub = modelAbout(
      { name: "x", nParams: 2, config: {} as never },
      {
        kind: "hub",
        repo: "org/tiny",
        revision: "abc123",
      },
    );
    expect(hub.source).toBe("hub:org/tiny@abc123");
  });
});

describe("families", () => {
  it("DLA, attribution patching and the lens run on a Llama model (numbers: interp-attrib-families)", async () => {
    const host = { model: llama };
    const ids = [1, 5, 9, 3, 7];
    const dla = await directLogitAttribution(host, { prompt: ids, target: 4, foil: 6 });
    expect(dla.final_norm).toBe("rms");
    expect(dla.pos_embed).toBe(0); // rotary: no learned positions
    expect(dla.ln_final_bias).toBe(0); // RMSNorm: no bias
    expect(dla.heads).toHaveLength(llama.config.nLayer);
    expect(Math.abs(dla.total - dla.logit_diff)).toBeLessThan(1e-4);
    expect(Number.isFinite(dla.logit_diff)).toBe(true);
    const attrib = await attributionPatching(host, {
      clean: ids,
      corrupt: [2, 5, 9, 3, 7],
      target: 4,
      foil: 6,
    });
    expect(attrib.scores.head_out_pos).toHaveLength(llama.config.nLayer);
    expect(attrib.scores.resid_pre.flat().every(Number.isFinite)).toBe(true);
    expect(parseCsv(dlaCsv(dla, ON_PROMPT)).length).toBeGreaterThan(1);
    const lens = await logitLens(host, { prompt: ids, topK: 2 });
    expect(lens.target_prob).toHaveLength(llama.config.nLayer + 1);
  });
});
