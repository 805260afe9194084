/**
 * Interventions, causal traces and activation patching on the rotary families, through the one
 * hooked model and the same sweep engines as GPT-2, against the numpy references
 * (scripts/reference/family_sweeps_ref.py: llama_ref.py / neox_ref.py with gpt2_ref's
 * interventions and trace_ref's trace / patch) on test/fixtures/families/: GQA (llama-gqa-bf16,
 * 4 query / 2 K/V heads), MQA (qwen2-sharded-bf16), parallel residual (pythia-parallel-f16: no
 * hook_resid_mid; its MLP reads the block's input) and sequential NeoX. Both engines within 1e-4
 * of the reference; fast (with and without singlePosition) within 1e-5 of naive.
 */
import "../lib/model/backends-node";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPatch } from "../lib/interp/patch";
import { runTrace } from "../lib/interp/trace";
import { loadWeights, readModelConfig } from "../lib/load/model-files";
import { directorySource } from "../lib/load/node-source";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model, type ModelIntervention } from "../lib/model/gpt2";
import { maxAbsDiff, ROOT } from "../scripts/reference/golden";
import { maxDiff, type PatchGolden, type TraceGolden } from "./interp-helpers";

const TOL = 1e-4;
const FAST_TOL = 1e-5;
const DIR = path.join(ROOT, "test/fixtures/families");

interface ModelGoldens {
  files: Record<string, string>;
  interventions: {
    ids: number[][];
    interventions: ModelIntervention[];
    logits: number[];
    recorded: Record<string, number[]>;
  };
  cases: (Omit<TraceGolden, "model"> | Omit<PatchGolden, "model">)[];
}

const goldens = JSON.parse(readFileSync(path.join(DIR, "sweeps-golden.json"), "utf8")) as {
  models: Record<string, ModelGoldens>;
};
const models = new Map<string, Gpt2Model>();

beforeAll(async () => {
  await selectBackend(["wasm"]);
  for (const name of Object.keys(goldens.models)) {
    const source = directorySource(path.join(DIR, name));
    const config = await readModelConfig(source);
    models.set(name, Gpt2Model.fromWeights(config, await loadWeights(source, config)));
  }
});
afterAll(() => {
  for (const m of models.values()) m.dispose();
});

const tensors = () => tf.memory().numTensors;

describe.each(Object.keys(goldens.models))("%s", (name) => {
  const g = goldens.models[name];
  const host = () => ({ model: models.get(name)! });

  it("goldens belong to these weight files", async () => {
    for (const [file, sha] of Object.entries(g.files)) {
      const got = createHash("sha256")
        .update(await readFile(path.join(DIR, name, file)))
        .digest("hex");
      expect(got, `${file}: re-run scripts/reference/family_sweeps_ref.py`).toBe(sha);
    }
  });

  it(`interventions at rot_q / rot_k / K/V heads / z within ${TOL}`, async () => {
    const model = models.get(name)!;
    const { ids, interventions, logits, recorded } = g.interventions;
    const before = tensors();
    const out = model.forward({ inputIds: ids, interventions, record: Object.keys(recorded) });
    expect(maxAbsDiff(await out.logits.data(), logits)).toBeLessThan(TOL);
    for (const [hook, want] of Object.entries(recorded)) {
      const got = out.activations.get(hook)!;
      expect(maxAbsDiff(await got.data(), want), hook).toBeLessThan(TOL);
    }
    tf.dispose([out.logits, ...out.activations.values()]);
    expect(tensors()).toBe(before);
  });

  for (const c of g.cases) {
    it(`${c.name}: naive and fast within ${TOL} of numpy, fast within ${FAST_TOL} of naive`, async () => {
      const before = tensors();
      if (c.type === "trace") {
        const [naive, fast, single] = [
          await runTrace(host(), { ...c.spec, strategy: "naive" }),
          await runTrace(host(), { ...c.spec, strategy: "fast" }),
          await runTrace(host(), { ...c.spec, strategy: "fast" }, { singlePosition: true }),
        ];
        for (const r of [naive, fast, single]) {
          expect(Math.abs(r.high - c.high_score)).toBeLessThan(TOL);
          expect(Math.abs(r.low - c.low_score)).toBeLessThan(TOL);
          expect(maxDiff(r.scores, c.scores)).toBeLessThan(TOL);
        }
        expect(maxDiff(fast.scores, naive.scores)).toBeLessThan(FAST_TOL);
        expect(maxDiff(single.scores, naive.scores)).toBeLessThan(FAST_TOL);
        expect(fast.evaluations).toBeLessThan(naive.evaluations);
      } else {
        const [naive, fast, single] = [
          await runPatch(host(), { ...c.spec, strategy: "naive" }),
          await runPatch(host(), { ...c.spec, strategy: "fast" }),
          await runPatch(host(), { ...c.spec, strategy: "fast" }, { singlePosition: true }),
        ];
        const prob = await runPatch(host(), { ...c.spec, strategy: "fast", metric: "prob" });
        for (const r of [naive, fast, single]) {
          expect(Math.abs(r.clean_logit_diff - c.clean_logit_diff)).toBeLessThan(TOL);
          expect(Math.abs(r.corrupt_logit_diff - c.corrupt_logit_diff)).toBeLessThan(TOL);
          expect(maxDiff(r.scores, c.scores)).toBeLessThan(TOL);
        }
        expect(maxDiff(prob.scores, c.prob_scores)).toBeLessThan(TOL);
        expect(maxDiff(fast.scores, naive.scores)).toBeLessThan(FAST_TOL);
        expect(maxDiff(single.scores, naive.scores)).toBeLessThan(FAST_TOL);
      }
      expect(tensors()).toBe(before);
    });
  }
});
