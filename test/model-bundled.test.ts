/**
 * The bundled model (public/models/tiny-facts) against the numpy reference: every hook for one
 * prompt, logits for the others, two intervention cases, and Engine.predict on the prompts' text.
 * Goldens: python3 scripts/reference/make_goldens.py bundled (after every retraining).
 * Skipped only while the model folder does not exist yet.
 */
import "../lib/model/backends-node";
import { existsSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../lib/engine";
import { directorySource } from "../lib/load/node-source";
import { selectBackend } from "../lib/model/backend";
import {
  assertGoldenMatchesModel,
  BUNDLED_MODEL_DIR,
  compareCase,
  type GoldenSet,
  loadGolden,
  worst,
} from "../scripts/reference/golden";

const TOL = 1e-4;
const present = existsSync(path.join(BUNDLED_MODEL_DIR, "model.safetensors"));

describe.skipIf(!present)("bundled tiny-facts vs numpy reference", () => {
  let engine: Engine;
  let golden: GoldenSet;

  beforeAll(async () => {
    await selectBackend(["wasm"]);
    golden = await loadGolden("tiny-facts");
    engine = await Engine.load(directorySource(BUNDLED_MODEL_DIR), "tiny-facts");
  });
  afterAll(() => engine?.dispose());

  it("goldens belong to the bundled checkpoint", async () => {
    await assertGoldenMatchesModel(golden, BUNDLED_MODEL_DIR);
    expect(golden.manifest.hooks).toEqual(engine.model.hookNames);
  });

  it("every golden case: logits and recorded hooks within 1e-4", async () => {
    expect(golden.manifest.cases.length).toBeGreaterThanOrEqual(4);
    expect(golden.manifest.cases[0].recorded).toEqual(engine.model.hookNames);
    for (const c of golden.manifest.cases) {
      const diffs = await compareCase(engine.model, golden, c);
      const [key, d] = worst(diffs);
      console.log(`tiny-facts ${c.name}: max |Δ| = ${d.toExponential(2)} (${key})`);
      for (const [k, v] of diffs) expect(v, `${c.name} ${k}`).toBeLessThanOrEqual(TOL);
    }
  });

  it("Engine tokenizes the prompts to the reference's ids and predicts its distribution", async () => {
    for (const c of golden.manifest.cases.filter((x) => !x.interventions)) {
      expect(engine.tokenize(c.text!).ids, c.text).toEqual(c.ids[0]);
      const want = golden.get(c.name, "probs_last").data;
      const before = tf.memory().numTensors;
      const p = await engine.predict(c.text!, engine.info.config.vocabSize);
      expect(tf.memory().numTensors).toBe(before);
      expect(Math.abs(p.top.reduce((a, t) => a + t.prob, 0) - 1)).toBeLessThan(1e-5);
      const worstP = Math.max(...p.top.map((t) => Math.abs(t.prob - want[t.id])));
      console.log(
        `tiny-facts "${c.text}" → "${p.top[0].token}" (${p.top[0].prob.toFixed(3)}); max |Δp| = ${worstP.toExponential(2)}`,
      );
      expect(worstP).toBeLessThan(1e-5);
    }
  });
});
