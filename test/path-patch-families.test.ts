/**
 * Path patching (lib/interp/path-patch.ts) on the Llama and GPT-NeoX families against the numpy
 * reference (scripts/reference/path_patch_family_ref.py → test/fixtures/path-patch/family-goldens.json):
 * the bundled tiny-facts-llama and the random llama-gqa-bf16 (grouped-query attention: a k / v
 * receiver moves its group's shared K/V head) and pythia-parallel-f16 (parallel residual) fixtures;
 * every receiver's effect and the joint effect within 1e-4, no tensors left.
 */
import "../lib/model/backends-node";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPathPatch } from "../lib/interp/path-patch";
import { selectBackend } from "../lib/model/backend";
import type { Gpt2Model } from "../lib/model/gpt2";
import { ROOT } from "../scripts/reference/golden";
import {
  loadGoldenModels,
  pathSpecOf,
  readPathGoldens,
  receiverGridDiff,
} from "./helpers/path-goldens";

const TOL = 1e-4;

const goldens = readPathGoldens("family-goldens.json");

let models = new Map<string, Gpt2Model>();

beforeAll(async () => {
  await selectBackend(["wasm"]);
  const sha = createHash("sha256")
    .update(readFileSync(path.join(ROOT, "public/models/tiny-facts-llama/model.safetensors")))
    .digest("hex");
  if (sha !== goldens.bundledLlamaSha256)
    throw new Error(
      "path-patch family goldens are for another tiny-facts-llama: rerun path_patch_family_ref.py",
    );
  models = await loadGoldenModels(goldens.cases);
});
afterAll(() => {
  for (const m of models.values()) m.dispose();
});

describe("path patching on Llama and GPT-NeoX (numpy reference)", () => {
  for (const c of goldens.cases) {
    it(`${c.name}: every receiver and the joint effect within ${TOL}`, async () => {
      const model = models.get(c.model) as Gpt2Model;
      const before = tf.memory().numTensors;
      const r = await runPathPatch({ model }, pathSpecOf(c));
      expect(tf.memory().numTensors).toBe(before);
      expect(Math.abs(r.clean_logit_diff - c.clean_logit_diff)).toBeLessThan(TOL);
      expect(Math.abs(r.corrupt_logit_diff - c.corrupt_logit_diff)).toBeLessThan(TOL);
      const d = receiverGridDiff(r.scores, c.scores);
      console.log(`${c.name}: max |Δ| ${d.toExponential(2)}`);
      expect(d).toBeLessThan(TOL);
      if (c.joint !== undefined) expect(Math.abs((r.joint as number) - c.joint)).toBeLessThan(TOL);
      else expect(r.joint).toBeNull();
    });
  }
});
