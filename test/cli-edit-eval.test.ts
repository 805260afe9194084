/**
 * `causeway edit --counterfact/--zsre` (lib/cli/edit-eval.ts) in process on the bundled model:
 * bad flags are one-line usage errors before any editing starts, the zsRE suite runs end to end
 * on one case, and the table and CSV carry every method's scores.
 */
import "../lib/model/backends-node";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../lib/cli/args";
import { curveCsv, evalRun, scoreTable } from "../lib/cli/edit-eval";
import { loadDataset } from "../lib/cli/edit-inputs";
import type { EditDataset } from "../lib/edit/dataset";
import type { EditRunResult } from "../lib/edit/eval-run";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import { workLimit } from "./helpers/work-budget";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));
let engine: Engine;
let dataset: EditDataset | undefined;
const quiet = () => {};

describe.skipIf(!present)("causeway edit --counterfact / --zsre", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(BUNDLED_DIR);
    dataset = loadDataset(BUNDLED_DIR);
  });
  afterAll(() => engine?.dispose());

  it("refuses bad flags before any work, naming what is wrong", async () => {
    const run = (flags: Record<string, string | boolean>) =>
      evalRun(engine, dataset, flags, quiet).catch((e) => e);
    const cases = [
      [{ counterfact: "2", zsre: "2" }, /--counterfact or --zsre, not both/],
      [{ counterfact: "2", method: "rome", compare: "rome,memit" }, /--method or --compare/],
      [{ counterfact: "2", method: "bogus" }, /unknown editing method "bogus"/],
      [{ counterfact: "2", compare: "rome,rome" }, /named twice/],
      [{ counterfact: "2", batch: "0" }, /batch/],
      [{ counterfact: "2", layers: "1,1" }, /--layers must be distinct layers from 0 to 5/],
      [{ counterfact: "2", hparams: "[1]" }, /--hparams must be a JSON object/],
      [{ counterfact: "2", params: '{"steps": 0}' }, /steps/],
      [{ counterfact: "999" }, /--counterfact 999: the dataset has 150 cases/],
      [{ zsre: "5:5" }, /--zsre 5:5: the range A:B is empty/],
    ] as const;
    for (const [flags, msg] of cases) {
      const e = await run(flags);
      expect(e, JSON.stringify(flags)).toBeInstanceOf(Error);
      expect(String(e.message), JSON.stringify(flags)).toMatch(msg);
    }
    const none = await evalRun(engine, { general_text: ["x"] }, { zsre: "1" }, quiet).catch(
      (e) => e,
    );
    expect(none).toBeInstanceOf(UsageError);
    expect(none.message).toMatch(/no zsre cases/);
  });

  it(
    "runs ROME on one zsRE case and reports the unedited and edited token accuracies",
    async () => {
      const r = (await evalRun(
        engine,
        dataset,
        { zsre: "1", steps: "10", prefixes: "1", texts: "3", "no-fluency": true },
        quiet,
      )) as Record<string, unknown> & { unedited: { efficacy: number; neighborhood: number } };
      expect(r.mode).toBe("zsre");
      expect(r.n_cases).toBe(1);
      expect(r.unedited.efficacy).toBe(0);
      expect(r.unedited.neighborhood).toBe(1);
      expect(String(r.table)).toMatch(/^\| method \| efficacy/);
      expect(String(r.table).split("\n")).toHaveLength(4);
    },
    workLimit({ units: 10 + 5, perUnitMs: 5_000, fixedMs: 30_000 }),
  );

  it("writes the table and the CSV from run results", () => {
    const s = {
      n_cases: 2,
      efficacy: 1,
      paraphrase: 0.5,
      neighborhood: 0.75,
      score: 0.6923,
      efficacy_diff: 0.4,
      paraphrase_diff: 0.1,
      neighborhood_diff: 0.2,
      fluency: 5,
    };
    const run = (method: string, curve: boolean): EditRunResult => ({
      method,
      batch: 1,
      sequential: curve,
      n_cases: 2,
      edited: { ...s, general_text_ratio: 1.01 },
      unedited: s,
      general_text_nll: 1,
      curve: curve
        ? [
            { ...s, edits: 1, general_text_ratio: 1 },
            { ...s, edits: 2, general_text_ratio: 1.01 },
          ]
        : [],
      cases: [],
      edits: [],
    });
    const csv = curveCsv([run("rome", true), run("memit", false)])
      .trim()
      .split("\n");
    expect(csv[0]).toBe(
      "method,edits,efficacy,paraphrase,neighborhood,score,efficacy_diff,paraphrase_diff,neighborhood_diff,fluency,general_text_ratio",
    );
    expect(csv.slice(1).map((l) => l.split(",").slice(0, 2).join(","))).toEqual([
      "rome,1",
      "rome,2",
      "memit,2",
    ]);
    expect(csv[3].split(",").at(-1)).toBe("1.01");
    const t = scoreTable([run("rome", false)], s).split("\n");
    expect(t[2]).toMatch(/^\| unedited \| 1\.000 \| 0\.500 \| 0\.750 \| 0\.692 /);
    expect(t[3]).toMatch(/^\| rome .* \| 1\.010 \|$/);
  });
});
