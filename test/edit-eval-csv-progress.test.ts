/**
 * `causeway edit --sequential --csv FILE` (lib/cli/edit-eval.ts) rewrites the CSV after every
 * curve point, so a long comparison stopped part way keeps the curve it was drawing: when the
 * CLI reports the point after N edits, the file already holds the unedited row and N points.
 * In process on the bundled model, SWEA with one optimisation step and no attribution (cheap).
 */
import "../lib/model/backends-node";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evalRun } from "../lib/cli/edit-eval";
import { loadDataset } from "../lib/cli/edit-inputs";
import type { Engine } from "../lib/engine";
import { curveCsv } from "../lib/export/edit-curve";
import { selectBackend } from "../lib/model/backend";
import { workLimit } from "./helpers/work-budget";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));
let engine: Engine;
const dir = mkdtempSync(path.join(tmpdir(), "causeway-csv-"));

describe("curveCsv of a run still in progress", () => {
  it("writes the points so far of a run without final scores", () => {
    const point = {
      edits: 1,
      n_cases: 1,
      efficacy: 1,
      paraphrase: null,
      neighborhood: 1,
      score: 1,
      efficacy_diff: 0.5,
      paraphrase_diff: null,
      neighborhood_diff: 0.9,
      fluency: null,
      general_text_ratio: null,
    };
    const lines = curveCsv([{ method: "memit", n_cases: 5, curve: [point] }])
      .trim()
      .split("\n");
    expect(lines.slice(1)).toEqual(["memit,1,1,,1,1,0.5,,0.9,,"]);
    expect(
      curveCsv([{ method: "memit", n_cases: 5, curve: [] }])
        .trim()
        .split("\n"),
    ).toHaveLength(1);
  });
});

describe.skipIf(!present)("causeway edit --sequential --csv", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(BUNDLED_DIR);
  });
  afterAll(() => {
    engine?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    "holds every point reported so far",
    async () => {
      const csv = path.join(dir, "curve.csv");
      const seen: string[][] = [];
      const log = (line: string) => {
        if (/swea after \d+ edits/.test(line)) {
          seen.push(readFileSync(csv, "utf8").trim().split("\n").slice(1));
        }
      };
      await evalRun(
        engine,
        loadDataset(BUNDLED_DIR),
        {
          counterfact: "2",
          method: "swea",
          batch: "1",
          sequential: true,
          "no-fluency": true,
          texts: "0",
          hparams: '{"v_num_grad_steps": 1, "mode": "optimize", "context": {"per_length": 1}}',
          csv,
        },
        log,
      );
      expect(seen.map((rows) => rows.map((r) => r.split(",").slice(0, 2).join(",")))).toEqual([
        ["unedited,0", "swea,1"],
        ["unedited,0", "swea,1", "swea,2"],
      ]);
    },
    workLimit({ units: 8, perUnitMs: 5_000, fixedMs: 30_000 }),
  );
});
