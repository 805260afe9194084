/**
 * Training a LoReFT edit on the bundled model (public/models/tiny-facts) with its aspect-sentiment
 * reviews (dataset.json absc): the default recipe (layer 2, resid_post, "aspect" position, rank 4,
 * 16 seeded training reviews, 40 Adam steps at lr 0.01, seed 0) lowers the training loss and
 * raises the argmax accuracy over the three label words on the 300 held-out test reviews. The
 * measured values (docs/edits.md) are 0.383 → 0.433; the test asserts a rise, not those digits.
 * Also: R stays orthonormal, learning is deterministic given the seed, progress is reported
 * through LearnOptions.onTrainStep, and no tensor leaks. Skipped when the model is absent.
 */
import "../lib/model/backends-node";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import { type EditDataset, parseEditDataset } from "../lib/edit/dataset";
import { learnStack } from "../lib/edit/learn";
import { abscAccuracy, LOREFT_DEFAULTS } from "../lib/edit/loreft";
import type { Edit, LoreftEdit } from "../lib/edit/types";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import { workLimit } from "./helpers/work-budget";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));
let engine: Engine;
let dataset: EditDataset;
/** A full-batch step on ≤ 16 reviews is well under a second idle; the evaluation of 300 reviews a few. */
const LOREFT_LIMIT = (steps: number) =>
  workLimit({ units: steps, perUnitMs: 20_000, fixedMs: 300_000 });

describe.skipIf(!present)("LoReFT on the bundled model", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(BUNDLED_DIR);
    dataset = parseEditDataset(
      JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8")),
    );
  });
  afterAll(() => engine?.dispose());

  it(
    "the default recipe raises held-out ABSC accuracy",
    async () => {
      const before = tf.memory().numTensors;
      const steps: number[] = [];
      const recipe: LoreftEdit = { kind: "loreft", site: {}, params: {} };
      const { edits } = await learnStack(engine.model, engine.tokenizer, [recipe], {
        dataset,
        onTrainStep: (i, s) => {
          expect(i).toBe(0);
          steps.push(s.step);
        },
      });
      const e = edits[0] as LoreftEdit;
      const info = e.learned!.info!;
      console.log(
        `loreft default: accuracy ${info.accuracy_before.toFixed(3)} → ${info.accuracy_after.toFixed(3)}, loss ${info.losses[0].loss.toFixed(3)} → ${info.losses.at(-1)!.loss.toFixed(3)}, ${Math.round(info.ms)} ms`,
      );
      expect(steps).toEqual(Array.from({ length: 41 }, (_, i) => i));
      expect(e.site.layers).toEqual([2]);
      expect(info.params).toBe(2 * 4 * 128 + 4);
      expect([info.n_train, info.n_test]).toEqual([16, 300]);
      expect(info.losses.at(-1)!.loss).toBeLessThan(info.losses[0].loss - 0.05);
      expect(info.accuracy_after).toBeGreaterThan(info.accuracy_before + 0.02);
      // accuracy_before is the unedited model's, measured here independently
      const test = dataset.absc!.test.slice(0, 300);
      expect(
        await abscAccuracy(engine.model, engine.tokenizer, test, dataset.absc!.labels),
      ).toBeCloseTo(info.accuracy_before, 10);
      // R keeps orthonormal rows
      const { R } = e.learned!.layers[0];
      const D = 128;
      for (let i = 0; i < 4; i++) {
        for (let k = 0; k < 4; k++) {
          let s = 0;
          for (let j = 0; j < D; j++) s += R[i * D + j] * R[k * D + j];
          expect(Math.abs(s - (i === k ? 1 : 0))).toBeLessThan(1e-5);
        }
      }
      expect(tf.memory().numTensors).toBe(before);
    },
    LOREFT_LIMIT(LOREFT_DEFAULTS.steps),
  );

  it(
    "training matches torch (scripts/reference/loreft_train_ref.py): losses and R, W, b",
    async () => {
      const ref = JSON.parse(
        readFileSync(path.join(__dirname, "fixtures/edit/loreft-train.json"), "utf8"),
      );
      const recipe: LoreftEdit = {
        kind: "loreft",
        site: { layers: ref.layers, position: "aspect" },
        params: {
          rank: ref.rank,
          lr: ref.lr,
          seed: ref.seed,
          steps: ref.steps,
          n_train: ref.n_train,
          n_test: 10,
        },
      };
      const e = (await learnStack(engine.model, engine.tokenizer, [recipe], { dataset }))
        .edits[0] as LoreftEdit;
      const got = e.learned!.info!.losses.map((l) => l.loss);
      expect(got).toHaveLength(ref.losses.length);
      got.forEach((l, i) => {
        expect(Math.abs(l - ref.losses[i])).toBeLessThan(1e-4);
      });
      let worst = 0;
      for (const [i, want] of ref.learned.entries()) {
        const have = e.learned!.layers[i];
        expect(have.layer).toBe(want.layer);
        for (const k of ["R", "W", "b"] as const) {
          have[k].forEach((x, j) => {
            worst = Math.max(worst, Math.abs(x - want[k][j]));
          });
        }
      }
      console.log(
        `loreft vs torch: loss diff ${Math.max(...got.map((l, i) => Math.abs(l - ref.losses[i]))).toExponential(2)}, parameter diff ${worst.toExponential(2)}`,
      );
      // measured 5.6e-4: Adam moves each component by about lr·m/√v, which for components whose
      // gradient is near zero depends on float32 (tfjs) vs float64 (torch) rounding
      expect(worst).toBeLessThan(1e-3);
    },
    LOREFT_LIMIT(4),
  );

  it(
    "is deterministic given the seed, and the seed matters",
    async () => {
      const recipe = (seed: number): LoreftEdit => ({
        kind: "loreft",
        site: { layers: [1, 3], position: "last" },
        params: { steps: 3, n_train: 4, n_test: 8, seed },
      });
      const learn = async (seed: number) =>
        (await learnStack(engine.model, engine.tokenizer, [recipe(seed)], { dataset }))
          .edits[0] as LoreftEdit;
      const [a, b, c] = [await learn(7), await learn(7), await learn(8)];
      expect(a.learned!.layers).toEqual(b.learned!.layers);
      expect(a.learned!.layers[1].W).not.toEqual(c.learned!.layers[1].W);
      expect(a.learned!.info!.params).toBe(2 * (2 * 4 * 128 + 4));
    },
    LOREFT_LIMIT(3 * 3),
  );

  it(
    "learns on top of the edits below it in the stack",
    async () => {
      const before = tf.memory().numTensors;
      const steer: Edit = {
        kind: "resid_steer",
        site: { layer: 1, position: "last" },
        params: { alpha: 1, vector: Array.from({ length: 128 }, (_, i) => Math.sin(i)) },
      };
      const recipe: LoreftEdit = {
        kind: "loreft",
        site: { layers: [3] },
        params: { steps: 2, n_train: 6, n_test: 40 },
      };
      const alone = (await learnStack(engine.model, engine.tokenizer, [recipe], { dataset }))
        .edits[0] as LoreftEdit;
      const { edits } = await learnStack(engine.model, engine.tokenizer, [steer, recipe], {
        dataset,
      });
      const onTop = (edits[1] as LoreftEdit).learned!.info!;
      const below = applyEdits(engine.model, [edits[0]]);
      const test = dataset.absc!.test.slice(0, 40);
      const steered = await abscAccuracy(below, engine.tokenizer, test, dataset.absc!.labels);
      below.dispose();
      expect(onTop.accuracy_before).toBeCloseTo(steered, 10);
      // the identity start: step 0's loss is the loss of the model below, which the steering changes
      expect(Math.abs(onTop.losses[0].loss - alone.learned!.info!.losses[0].loss)).toBeGreaterThan(
        1e-3,
      );
      expect(tf.memory().numTensors).toBe(before);
    },
    LOREFT_LIMIT(2 * 2),
  );

  it("says what is wrong with bad settings", async () => {
    const bad = (params: LoreftEdit["params"], ds: EditDataset | undefined = dataset) =>
      learnStack(engine.model, engine.tokenizer, [{ kind: "loreft", site: {}, params }], {
        dataset: ds,
      });
    await expect(bad({ n_train: 501 })).rejects.toThrow(/n_train must be 1 to 500/);
    await expect(bad({ n_test: 0 })).rejects.toThrow(/n_test must be 1 to 300/);
    await expect(bad({}, {})).rejects.toThrow(/absc/);
    await expect(bad({ rank: 200 })).rejects.toThrow(/rank must be 1 to 128/);
  });
});
