/**
 * Head and representation steering on the bundled model (public/models/tiny-facts) with its
 * aspect-sentiment reviews (dataset.json absc): positive vs negative training reviews give the
 * directions and the per-head probes; the effect is log P(" positive") − log P(" negative") on
 * held-out negative reviews. Checks docs/methods.md §6's ITI properties on a trained model: α = 0 is
 * the identity, the effect grows monotonically with α, the hook and weight (bias) forms agree,
 * and the probe-accuracy grid ranks the chosen heads. Skipped when the bundled model is absent.
 */
import "../lib/model/backends-node";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import { parseEditDataset } from "../lib/edit/dataset";
import { learnStack } from "../lib/edit/learn";
import { alphaCurve, runEval } from "../lib/edit/steer";
import type { Edit, EditEval, HeadSteerEdit } from "../lib/edit/types";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));
let engine: Engine;

const sets = {
  positive: { dataset: "absc" as const, label: " positive", limit: 40 },
  negative: { dataset: "absc" as const, label: " negative", limit: 40 },
};
const ev: EditEval = {
  prompts: { dataset: "absc", label: " negative", split: "test", limit: 16 },
  target: " positive",
  foil: " negative",
};

describe.skipIf(!present)("steering the bundled model", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(BUNDLED_DIR);
  });
  afterAll(() => engine?.dispose());

  it("top-K head steering and a residual steering vector: α = 0 is the identity, the effect grows with α", async () => {
    const dataset = parseEditDataset(
      JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8")),
    );
    const before = tf.memory().numTensors;
    const recipes: Edit[] = [
      { kind: "head_steer", site: { top_k: 4, position: "last" }, params: { alpha: 4, ...sets } },
      { kind: "resid_steer", site: { layer: 3, position: "last" }, params: { alpha: 1, ...sets } },
    ];
    const { edits } = await learnStack(engine.model, engine.tokenizer, recipes, { dataset });
    // learned independently (each alone), so the curves are each edit's own effect
    const heads = edits[0] as HeadSteerEdit;
    const grid = heads.learned!.probe_accuracy!;
    const { nLayer, nHead } = engine.model.config;
    expect(grid).toHaveLength(nLayer);
    expect(grid.every((row) => row.length === nHead)).toBe(true);
    const chosen = heads.learned!.heads.map((h) => grid[h.layer][h.head]);
    const rest = grid.flat().sort((a, b) => b - a);
    expect(chosen).toEqual(rest.slice(0, 4));
    console.log(
      `probe accuracy grid: ${JSON.stringify(grid.map((r) => r.map((x) => Number(x.toFixed(2)))))}; top 4: ${heads.learned!.heads.map((h) => `L${h.layer}H${h.head}`).join(" ")}`,
    );

    const base = await runEval(engine.model, engine.tokenizer, ev, dataset);
    for (const e of edits as (Edit & { kind: "head_steer" | "resid_steer" })[]) {
      const curve = await alphaCurve({
        model: engine.model,
        tok: engine.tokenizer,
        edit: e,
        alphas: [0, 1, 2, 4],
        ev,
        dataset,
      });
      console.log(
        `${e.kind}: ${curve.map((c) => `α=${c.alpha}: ${c.mean_logprob_diff.toFixed(3)} (acc ${c.accuracy.toFixed(2)})`).join(", ")}`,
      );
      expect(curve[0].mean_logprob_diff).toBe(base.mean_logprob_diff);
      for (let i = 1; i < curve.length; i++) {
        expect(curve[i].mean_logprob_diff).toBeGreaterThan(curve[i - 1].mean_logprob_diff);
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("steering at every position: the hook form and the bias form give the same predictions", async () => {
    const dataset = parseEditDataset(
      JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8")),
    );
    const { edits } = await learnStack(
      engine.model,
      engine.tokenizer,
      [
        {
          kind: "head_steer",
          site: { heads: [{ layer: 4, head: 1 }], position: "all" },
          params: { alpha: 3, ...sets },
        },
        {
          kind: "resid_steer",
          site: { layer: 2, position: "all" },
          params: { alpha: 0.5, ...sets },
        },
      ],
      { dataset },
    );
    const hooks = applyEdits(engine.model, edits);
    const folded = applyEdits(engine.model, edits, { fold: true });
    expect(folded.plan.maps).toHaveLength(0);
    const [a, b] = [
      await runEval(hooks, engine.tokenizer, ev, dataset),
      await runEval(folded, engine.tokenizer, ev, dataset),
    ];
    expect(Math.abs(a.mean_logprob_diff - b.mean_logprob_diff)).toBeLessThan(1e-4);
    hooks.dispose();
    folded.dispose();
  });
});
