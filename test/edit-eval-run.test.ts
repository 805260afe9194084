/**
 * Batch and sequential editing runs on the bundled model (lib/edit/eval-run.ts), bounded by cases
 * and ROME steps: the curve's shape (one point per batch, edits so far), what the unedited model
 * scores by construction of the dataset (zsRE: it answers every src and loc question correctly,
 * so the new answer is never its top-1 and the neighbour's answer always is), that a sequential
 * run scores every case edited so far on the model with all edits, and that nothing leaks.
 */
import "../lib/model/backends-node";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEditDataset } from "../lib/edit/dataset";
import { suiteCases } from "../lib/edit/eval-cases";
import { editorFor, parseMethods } from "../lib/edit/eval-methods";
import { batchesOf, runEditEval, uneditedScores } from "../lib/edit/eval-run";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import { workLimit } from "./helpers/work-budget";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));
let engine: Engine;
const dataset = present
  ? parseEditDataset(JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8")))
  : undefined;
/** Few steps and prefixes, C = I: these tests check the runner, not ROME's or MEMIT's quality. */
const romeParams = { steps: 8, context: { per_length: 1 }, cov: "identity" as const };

describe.skipIf(!present)("batch and sequential editing runs", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(BUNDLED_DIR);
  });
  afterAll(() => engine?.dispose());

  it(
    "zsRE: the unedited model scores 0 on the new answers and 1 on the neighbours",
    async () => {
      const cases = suiteCases(dataset, "zsre").slice(0, 12);
      expect(cases).toHaveLength(12);
      const u = await uneditedScores({
        model: engine.model,
        tok: engine.tokenizer,
        cases,
        editor: editorFor("rome"),
        batch: 1,
        sequential: false,
        fluency: null,
      });
      expect(u.scores.efficacy).toBe(0);
      expect(u.scores.paraphrase).toBeLessThan(0.5);
      expect(u.scores.neighborhood).toBe(1);
      expect(u.nll).toBeNull();
    },
    workLimit({ units: 12, perUnitMs: 2_000, fixedMs: 30_000 }),
  );

  it(
    "sequential ROME over 3 CounterFact cases in batches of 2: two curve points, no leak",
    async () => {
      const cases = suiteCases(dataset, "counterfact").slice(0, 3);
      const before = tf.memory().numTensors;
      const points: number[] = [];
      const r = await runEditEval({
        model: engine.model,
        tok: engine.tokenizer,
        dataset,
        cases,
        editor: editorFor("rome", { romeParams }),
        batch: 2,
        sequential: true,
        texts: dataset!.general_text!.slice(0, 5),
        fluency: { maxLength: 24 },
        onProgress: (p) => {
          if (p.phase === "score" && p.point) points.push(p.point.edits);
        },
      });
      expect(points).toEqual([2, 3]);
      expect(r.curve.map((p) => [p.edits, p.n_cases])).toEqual([
        [2, 2],
        [3, 3],
      ]);
      expect(r.edits).toHaveLength(3);
      expect(r.cases.map((c) => c.case_id)).toEqual([0, 1, 2]);
      // the last point is the final model's scores over every case
      expect(r.curve[1].efficacy).toBe(r.edited.efficacy);
      expect(r.curve[1].general_text_ratio).toBe(r.edited.general_text_ratio);
      expect(r.unedited.efficacy).toBe(0);
      for (const c of r.cases) expect(c.fluency).toBeGreaterThan(0);
      expect(r.edited.general_text_ratio).toBeGreaterThan(0.9);
      expect(tf.memory().numTensors).toBe(before);
    },
    workLimit({ units: 3 * 8 + 20, perUnitMs: 5_000, fixedMs: 30_000 }),
  );

  it(
    "MEMIT through applyBatchEdit: one batch of 2 requests is one edit, scored on both cases",
    async () => {
      const cases = suiteCases(dataset, "counterfact").slice(3, 5);
      const before = tf.memory().numTensors;
      const r = await runEditEval({
        model: engine.model,
        tok: engine.tokenizer,
        dataset,
        cases,
        editor: editorFor("memit", {
          // C from general_text+facts (MEMIT's default, 920 texts per layer) was most of this
          // test's time; batch-worker.test.ts runs MEMIT with C from text through the same runner
          hparams: { v_num_grad_steps: 4, context: { per_length: 1 }, mom2_dataset: "identity" },
        }),
        batch: 2,
        sequential: false,
        fluency: null,
      });
      expect(r.edits.map((e) => e.kind)).toEqual(["memit"]);
      expect(r.cases.map((c) => c.case_id)).toEqual([3, 4]);
      expect(r.curve).toEqual([]);
      expect(r.edited.general_text_ratio).toBeNull();
      expect(tf.memory().numTensors).toBe(before);
    },
    workLimit({ units: 2 * 4 + 10, perUnitMs: 10_000, fixedMs: 30_000 }),
  );

  it("a batch with a repeated subject: the runner defers it, the editor refuses it naming the cases", async () => {
    const cases = suiteCases(dataset, "zsre").slice(70, 80);
    const subjects = cases.map((c) => c.request.subject);
    expect(new Set(subjects).size).toBeLessThan(subjects.length);
    // the runner never hands an editor two rewrites of one subject (test/edit-eval-batches.test.ts)
    expect(batchesOf(cases, 10).map((b) => b.length)).toEqual([9, 1]);
    // handed one anyway, the batch editor refuses it before any work, naming both cases
    const e = await editorFor("memit")
      .edit({
        base: engine.model,
        before: [],
        tok: engine.tokenizer,
        requests: cases.map((c) => c.request),
      })
      .catch((x) => x);
    expect(String(e.message)).toMatch(
      /case 7\d, request \d \(".+"\): the same subject as request \d \(case 7\d\)/,
    );
    // a request the editor refuses inside a run is named by its batch and cases
    const bad = cases
      .slice(0, 3)
      .map((c, i) =>
        i === 1 ? { ...c, request: { ...c.request, prompt: "no slot for the subject" } } : c,
      );
    const stub = { n_cases: 3, efficacy: 0, paraphrase: 0, neighborhood: 1, score: 0 };
    const e2 = await runEditEval({
      model: engine.model,
      tok: engine.tokenizer,
      cases: bad,
      editor: editorFor("memit"),
      batch: 10,
      sequential: false,
      unedited: {
        scores: {
          ...stub,
          efficacy_diff: null,
          paraphrase_diff: null,
          neighborhood_diff: null,
          fluency: null,
        },
        nll: null,
      },
    }).catch((x) => x);
    expect(String(e2.message)).toMatch(
      /^memit, batch 1 \(cases 70, 71, 72\): .*case 71, request 1 \(".+"\): prompt "no slot for the subject" has no "\{\}" for the subject/,
    );
  });

  it("refuses unknown and unavailable methods by name, and duplicates", () => {
    expect(() => editorFor("romez")).toThrow(/unknown editing method "romez"/);
    expect(() => parseMethods("rome,rome")).toThrow(/named twice/);
    expect(() => parseMethods(" , ")).toThrow(/at least one/);
  });
});
