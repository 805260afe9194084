/**
 * ROME with its defaults on the bundled model (public/models/tiny-facts), each CounterFact case
 * of its dataset.json edited alone on the original model (ROME's evaluation), with the issue's
 * bar: efficacy ≥ 0.9 and neighbourhood ≥ 0.7, and the development rule's price: mean
 * general-text loss ratio ≤ 1.002. The numbers reached are printed.
 *
 * The cases: the first 4, and 61 and 107, two development failures of ROME's own C that the
 * default `preserve` 10 / `preserve_cost` 2 fixes (with `{"preserve": 0, "preserve_cost": 0}`
 * and these settings both fail, P(new) < P(true), measured in session 8; docs/edits.md "ROME on
 * cases nobody tuned on"), so the test also fails if that default is lost. To keep the test
 * short it uses fewer self-generated prefixes (2 + 2 instead of the default 5 + 5) and cases
 * (the first 20 until session 8), the loss ratio on 3 cases and 50 general texts; C and the
 * templates are computed once and shared by every case. The full measurement, with the
 * defaults, is
 *   node bin/causeway.mjs edit --model tiny-facts --counterfact 0:150 --no-fluency --json
 * (its results are in docs/edits.md). Skipped when the bundled model is absent.
 */
import "../lib/model/backends-node";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import { parseEditDataset, romeEditForCase } from "../lib/edit/dataset";
import {
  aggregateScores,
  type CaseScores,
  caseScores,
  casesScores,
  generalTextLoss,
  rewriteCase,
} from "../lib/edit/metrics";
import { computeRome } from "../lib/edit/rome";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import { workLimit } from "./helpers/work-budget";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));
/** The first cases, then two that the preserve default fixes. */
const CASE_IDS = [0, 1, 2, 3, 61, 107];
const FIXED_BY_PRESERVE = [61, 107];
/** The cases whose general-text loss ratio is measured (one plain, the two preserve ones). */
const RATIO_IDS = [0, 61, 107];
let engine: Engine;

describe.skipIf(!present)("ROME on the bundled model", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(BUNDLED_DIR);
  });
  afterAll(() => engine?.dispose());

  it(
    `efficacy ≥ 0.9, neighbourhood ≥ 0.7, loss ratio ≤ 1.002 over ${CASE_IDS.length} CounterFact cases`,
    async () => {
      const dataset = parseEditDataset(
        JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8")),
      );
      const cases = CASE_IDS.map((id) => dataset.counterfact!.find((c) => c.case_id === id)!);
      expect(cases.map((c) => c?.case_id)).toEqual(CASE_IDS);
      const texts = dataset.general_text!.slice(0, 50);
      const before = tf.memory().numTensors;
      const { tokenizer: tok } = engine;
      const base = await generalTextLoss(engine.model, tok, texts);
      const unedited = await casesScores(engine.model, tok, cases.map(rewriteCase));
      const edited: CaseScores[] = [];
      const ratios: number[] = [];
      const lambdas: number[] = [];
      const t0 = performance.now();
      for (const c of cases) {
        const recipe = romeEditForCase(c);
        recipe.params.context = { per_length: 2 };
        const r = await computeRome(engine.model, tok, recipe, { dataset });
        lambdas.push(r.edit.learned!.info!.preserve!);
        const e = applyEdits(engine.model, [r.edit]);
        edited.push(await caseScores(e, tok, rewriteCase(c)));
        if (RATIO_IDS.includes(c.case_id))
          ratios.push((await generalTextLoss(e, tok, texts)).nll / base.nll);
        e.dispose();
      }
      const a = aggregateScores(edited);
      const u = aggregateScores(unedited);
      const f = (x: number | null) => (x === null ? "–" : x.toFixed(3));
      const meanRatio = ratios.reduce((s, x) => s + x, 0) / ratios.length;
      console.log(
        `ROME, cases ${CASE_IDS.join(", ")}: efficacy ${f(a.efficacy)}, paraphrase ${f(a.paraphrase)}, neighbourhood ${f(a.neighborhood)}, score ${f(a.score)}; unedited ${f(u.efficacy)} / ${f(u.paraphrase)} / ${f(u.neighborhood)}; preserve λ used ${lambdas.map((x) => x.toPrecision(3)).join(", ")}; general-text loss ratio (cases ${RATIO_IDS.join(", ")}) ${ratios.map((x) => x.toFixed(5)).join(", ")}; ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      );
      expect(tf.memory().numTensors).toBe(before);
      expect(u.efficacy).toBe(0); // the model knows the true objects
      expect(a.efficacy).toBeGreaterThanOrEqual(0.9);
      expect(a.neighborhood!).toBeGreaterThanOrEqual(0.7);
      expect(meanRatio).toBeLessThanOrEqual(1.002);
      for (const id of FIXED_BY_PRESERVE) {
        const i = CASE_IDS.indexOf(id);
        expect(lambdas[i], `case ${id}: preserve's λ`).toBeGreaterThan(0);
        expect(edited[i].efficacy, `case ${id}: P(new) > P(true)`).toBe(1);
      }
    },
    // a case (40 steps, C, scores) takes ~6 s on an idle machine
    workLimit({ units: CASE_IDS.length, perUnitMs: 300_000, fixedMs: 300_000 }),
  );
});
