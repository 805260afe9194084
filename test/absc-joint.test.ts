/**
 * The ABSC recipe's objective against the independent torch reference
 * (scripts/reference/absc_joint_ref.py → test/fixtures/edit/absc-joint.json) on the bundled
 * tiny-facts: the same 6 seeded restaurant reviews, the loss and its gradient with respect to
 * LoReFT's R, W, b and LoRA's A, B at the identity state, and 3 full-batch Adam steps of each
 * method (joint, lora_all, ft_layer) with their trainable-parameter counts. Skipped when the
 * model is absent.
 */
import "../lib/model/backends-node";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { abscSample, abscSplits } from "../lib/edit/absc-data";
import {
  ABSC_DEFAULTS,
  abscLoss,
  abscVars,
  disposeAbscVars,
  runAbscMethod,
} from "../lib/edit/absc-train";
import { parseEditDataset } from "../lib/edit/dataset";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import { relErr } from "./helpers/rel-err";
import { workLimit } from "./helpers/work-budget";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

interface MethodGolden {
  losses: number[];
  params: number;
  grad_norms: Record<string, number>;
  grads?: Record<string, number[]>;
}
interface Golden {
  layers: number[];
  rank: number;
  lr: number;
  seed: number;
  steps: number;
  n_train: number;
  prompts: string[];
  methods: Record<"joint" | "lora_all" | "ft_layer", MethodGolden>;
}

const G: Golden = JSON.parse(
  readFileSync(path.join(__dirname, "fixtures/edit/absc-joint.json"), "utf8"),
);
const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));
const params = {
  ...ABSC_DEFAULTS,
  layers: G.layers,
  rank: G.rank,
  lr: G.lr,
  seed: G.seed,
  steps: G.steps,
  n_train: G.n_train,
  n_test: 4,
};
let engine: Engine;
let splits: ReturnType<typeof abscSplits>;

describe.skipIf(!present)("ABSC joint objective vs the torch reference", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(BUNDLED_DIR);
    splits = abscSplits(
      parseEditDataset(JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8"))),
    );
  });
  afterAll(() => engine?.dispose());

  it("picks the reference's reviews", () => {
    expect(abscSample(splits, params).train.map((r) => r.prompt)).toEqual(G.prompts);
  });

  it("loss and gradient at the identity state equal the reference's", () => {
    const before = tf.memory().numTensors;
    const { train } = abscSample(splits, params);
    const v = abscVars("joint", params, engine.model);
    const { loss, dispose } = abscLoss(engine.model, engine.tokenizer, v, {
      train,
      labels: splits.labels,
      scale: 1,
    });
    const named: Record<string, tf.Variable> = {
      [`reft.${G.layers[0]}.R`]: v.loreft[0].v.R,
      [`reft.${G.layers[0]}.W`]: v.loreft[0].v.W,
      [`reft.${G.layers[0]}.b`]: v.loreft[0].v.b,
      [`lora.${G.layers[0]}.A`]: v.lora[0].a,
      [`lora.${G.layers[0]}.B`]: v.lora[0].b,
    };
    const { value, grads } = tf.variableGrads(loss, Object.values(named));
    expect(value.dataSync()[0]).toBeCloseTo(G.methods.joint.losses[0], 4); // float32 vs float64
    const golden = G.methods.joint.grads!;
    for (const [k, t] of Object.entries(named)) {
      const g = grads[t.name].dataSync();
      const norm = Math.hypot(...g);
      expect(Math.abs(norm - G.methods.joint.grad_norms[k])).toBeLessThan(
        1e-4 * Math.max(1e-3, G.methods.joint.grad_norms[k]) + 1e-9,
      );
      // A's gradient is exactly 0 at B = 0
      if (G.methods.joint.grad_norms[k] > 0) expect(relErr(g, golden[k])).toBeLessThan(1e-3);
      else expect(norm).toBe(0);
    }
    tf.dispose([value, ...Object.values(grads)]);
    dispose();
    disposeAbscVars(v);
    expect(tf.memory().numTensors).toBe(before);
  });

  it(
    "three Adam steps of each method follow the reference's losses, with its parameter counts",
    async () => {
      const before = tf.memory().numTensors;
      for (const method of ["joint", "lora_all", "ft_layer"] as const) {
        const r = await runAbscMethod(engine.model, engine.tokenizer, splits, method, params);
        const g = G.methods[method];
        expect(r.params).toBe(g.params);
        expect(r.losses.map((l) => l.step)).toEqual([0, 1, 2, 3]);
        r.losses.forEach((l, i) => {
          expect(Math.abs(l.loss - g.losses[i])).toBeLessThan(2e-3);
        });
        expect(r.splits.map((s) => [s.name, s.n])).toEqual([
          ["in_domain", 4],
          ["out_of_domain", 4],
        ]);
      }
      expect(tf.memory().numTensors).toBe(before);
    },
    workLimit({ units: 3, perUnitMs: 30_000, fixedMs: 60_000 }),
  );
});
