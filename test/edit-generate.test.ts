/**
 * Generation (lib/edit/generate.ts) and the LoRA weight delta (lib/edit/lora-site.ts) on the
 * bundled model, against test/fixtures/generate/bundled.json, written by the independent numpy
 * reference scripts/reference/generate_ref.py (float64 forward, its own rng and sampler):
 * greedy and seeded-sampled token ids must match exactly; a LoRA edit with the fixture's factors
 * must give numpy's logits and greedy ids (the reference folds s·A·B into the weights itself).
 */
import "../lib/model/backends-node";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import { editedCheckpoint } from "../lib/edit/checkpoint";
import { argmax, generate, sampleLogits } from "../lib/edit/generate";
import { learnLora } from "../lib/edit/lora";
import type { LoraEdit } from "../lib/edit/types";
import type { Engine } from "../lib/engine";
import { GaussianRng } from "../lib/interp/rng";
import { gpt2WeightsFromTensors } from "../lib/load/gpt2-checkpoint";
import { gpt2Weights, loadModelFiles } from "../lib/load/model-files";
import { directorySource } from "../lib/load/node-source";
import type { Gpt2Weights } from "../lib/load/types";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const FIXTURE = path.join(__dirname, "fixtures/generate/bundled.json");
const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));

interface Gen {
  prompt: string;
  prompt_ids: number[];
  ids: number[];
  stop: string;
  seed?: number;
  temperature?: number;
  top_k?: number;
}
const fx = JSON.parse(readFileSync(FIXTURE, "utf8")) as {
  max_new: number;
  eos_id: number;
  greedy: Gen[];
  sampled: Gen[];
  lora: Gen & {
    rank: number;
    alpha: number;
    layers: [number, number];
    factors: { layer: number; module: "c_proj"; a: number[]; b: number[] }[];
    last_logits: number[];
    last_logits_original: number[];
  };
};

const loraEdit = (): LoraEdit => ({
  kind: "lora",
  site: { layers: fx.lora.layers },
  params: { prefix: "x", suffix: " y", rank: fx.lora.rank, alpha: fx.lora.alpha },
  learned: { factors: fx.lora.factors },
});

let engine: Engine;
let host: Gpt2Weights;

describe.skipIf(!present)("generation and LoRA on the bundled model", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(BUNDLED_DIR);
    host = gpt2Weights(await loadModelFiles(directorySource(BUNDLED_DIR)));
  });
  afterAll(() => engine?.dispose());

  it("greedy decoding gives numpy's token ids, stopping at end of text", async () => {
    const before = tf.memory().numTensors;
    for (const g of fx.greedy) {
      expect(engine.tokenizer.encode(g.prompt)).toEqual(g.prompt_ids);
      const out = await generate(engine.model, engine.tokenizer, g.prompt, {
        maxNew: fx.max_new,
        eosId: fx.eos_id,
      });
      expect(out.ids, g.prompt).toEqual(g.ids);
      expect(out.stop).toBe(g.stop);
      expect(out.text).toBe(engine.tokenizer.decode(g.ids));
    }
    expect(fx.greedy.some((g) => g.stop === "eos")).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("seeded sampling (temperature, top-k) gives numpy's token ids", async () => {
    for (const g of fx.sampled) {
      const out = await generate(engine.model, engine.tokenizer, g.prompt_ids, {
        maxNew: fx.max_new,
        eosId: fx.eos_id,
        sample: true,
        seed: g.seed,
        temperature: g.temperature,
        topK: g.top_k,
      });
      expect(out.ids, `seed ${g.seed}`).toEqual(g.ids);
    }
    // different seeds give different texts here (the test would be vacuous otherwise)
    expect(fx.sampled[0].ids).not.toEqual(fx.sampled[1].ids);
  });

  it("stops at the context length and rejects bad settings", async () => {
    const n = engine.model.config.nCtx;
    const ids = new Array(n - 2).fill(fx.greedy[1].prompt_ids[0]);
    const out = await generate(engine.model, engine.tokenizer, ids, { maxNew: 10 });
    expect(out.ids).toHaveLength(2);
    expect(out.stop).toBe("context");
    const bad = (o: object) => generate(engine.model, engine.tokenizer, "The", o);
    await expect(bad({ maxNew: -1 })).rejects.toThrow(/max new tokens/);
    await expect(bad({ sample: true, temperature: 0 })).rejects.toThrow(/temperature/);
    await expect(bad({ sample: true, topK: 1.5 })).rejects.toThrow(/top-k/);
    await expect(generate(engine.model, engine.tokenizer, "")).rejects.toThrow(/no tokens/);
    await expect(
      generate(engine.model, engine.tokenizer, new Array(n + 1).fill(1)),
    ).rejects.toThrow(/context/);
  });

  it("the sampler: top-1 is greedy; ties go to the lower id", () => {
    const logits = [0.5, 2, 2, -1];
    expect(argmax(logits)).toBe(1);
    const rng = new GaussianRng(3);
    for (let i = 0; i < 20; i++) expect(sampleLogits(logits, 1, 1, rng)).toBe(1);
  });

  it("a LoRA edit's weight delta is s·A·B, and the edited model gives numpy's logits and ids", async () => {
    const before = tf.memory().numTensors;
    const e = loraEdit();
    const edited = applyEdits(engine.model, [e]);
    const s = fx.lora.alpha / fx.lora.rank;
    for (const f of fx.lora.factors) {
      const delta = tf.tidy(() =>
        edited.weights.blockWeight(f.layer, "wOut").sub(engine.model.blockWeight(f.layer, "wOut")),
      );
      const got = await delta.data();
      delta.dispose();
      const [M, D, r] = [engine.model.config.dMlp, engine.model.config.dModel, fx.lora.rank];
      let maxErr = 0;
      for (let i = 0; i < M; i += 7) {
        for (let j = 0; j < D; j++) {
          let want = 0;
          for (let k = 0; k < r; k++) want += f.a[i * r + k] * f.b[k * D + j];
          maxErr = Math.max(maxErr, Math.abs(got[i * D + j] - s * want));
        }
      }
      expect(maxErr).toBeLessThan(1e-5);
    }
    const ids = fx.lora.prompt_ids;
    const last = tf.tidy(() =>
      edited.forward({ inputIds: [ids], logitPositions: "last" }).logits.reshape([-1]),
    );
    const lg = await last.data();
    last.dispose();
    const err = Math.max(...Array.from(lg, (x, i) => Math.abs(x - fx.lora.last_logits[i])));
    expect(err).toBeLessThan(1e-4); // 4e-6 measured (float32 against float64)
    // the edit changes the prediction (the fixture's delta is not negligible)
    expect(argmax(fx.lora.last_logits)).not.toBe(argmax(fx.lora.last_logits_original));
    const out = await generate(edited, engine.tokenizer, ids, {
      maxNew: fx.max_new,
      eosId: fx.eos_id,
    });
    expect(out.ids).toEqual(fx.lora.ids);
    edited.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("folding the LoRA edit into host weights equals applying it through the plan (≤ 1e-5)", async () => {
    const ck = editedCheckpoint(engine.model.config, host, [loraEdit()]);
    expect(ck.weightEdits).toEqual([0]);
    expect(ck.notWeightEdits).toEqual([]);
    const config = engine.model.config;
    const folded = Gpt2Model.fromWeights(config, gpt2WeightsFromTensors(ck.tensors, config, "x"));
    const edited = applyEdits(engine.model, [loraEdit()]);
    const ids = [fx.lora.prompt_ids];
    const [a, b] = tf.tidy(() => [
      folded.forward({ inputIds: ids }).logits,
      edited.forward({ inputIds: ids }).logits,
    ]);
    const diff = tf.tidy(() => a.sub(b).abs().max());
    expect((await diff.data())[0]).toBeLessThan(1e-5);
    tf.dispose([a, b, diff]);
    folded.dispose();
    edited.dispose();
  });

  it("B = 0 (LoRA's init, zero training steps) is the identity", async () => {
    const dataset = JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8"));
    const before = tf.memory().numTensors;
    const e = await learnLora(
      engine.model,
      engine.tokenizer,
      {
        kind: "lora",
        site: { layers: [0, 1] },
        params: { prefix: fx.lora.prompt, suffix: " Orvane", steps: 0, texts: 10 },
      },
      { dataset },
    );
    const f = e.learned!.factors;
    expect(f).toHaveLength(2);
    expect(f.every((x) => x.b.every((v) => v === 0))).toBe(true);
    expect(f.some((x) => x.a.some((v) => v !== 0))).toBe(true);
    expect(e.learned!.info!.loss_ratio).toBe(1);
    const edited = applyEdits(engine.model, [e]);
    const [a, b] = tf.tidy(() => [
      edited.forward({ inputIds: [fx.lora.prompt_ids] }).logits,
      engine.model.forward({ inputIds: [fx.lora.prompt_ids] }).logits,
    ]);
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    tf.dispose([a, b]);
    edited.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
