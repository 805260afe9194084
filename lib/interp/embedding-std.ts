/**
 * The standard deviation of every entry of the token-embedding matrix (wte), the scale of
 * ROME's noise (ν = multiplier × this). Population std (ddof = 0), accumulated in float64 from
 * hook_embed read back in chunks (await data(), never dataSync); computed once per model.
 */
import * as tf from "@tensorflow/tfjs";
import type { Gpt2Model } from "../model/gpt2";

const cache = new WeakMap<Gpt2Model, Promise<number>>();

export function embeddingStd(model: Gpt2Model): Promise<number> {
  let p = cache.get(model);
  if (!p) {
    p = compute(model);
    cache.set(model, p);
    p.catch(() => cache.delete(model));
  }
  return p;
}

async function compute(model: Gpt2Model): Promise<number> {
  const { vocabSize: V, nCtx, dModel: D } = model.config;
  const T = Math.min(nCtx, V);
  const B = Math.max(1, Math.floor((1 << 20) / (T * D))); // ~4 MiB per read
  // shifted sums (shift = the first entry) keep float64 exact enough for any mean
  let shift: number | null = null;
  let sum = 0;
  let sumSq = 0;
  const hooks = model.hooks({ record: ["hook_embed"] });
  for (let start = 0; start < V; start += B * T) {
    const n = Math.min(B * T, V - start);
    const rows = Math.ceil(n / T);
    const ids: number[][] = [];
    for (let r = 0; r < rows; r++) {
      ids.push(Array.from({ length: T }, (_, i) => Math.min(V - 1, start + r * T + i)));
    }
    const emb = tf.tidy(() => {
      const e = model.embed(ids, { hooks });
      return e.activations
        .get("hook_embed")!
        .reshape([rows * T, D])
        .slice([0, 0], [n, D]); // [n, D]
    });
    const data = await emb.data();
    emb.dispose();
    shift ??= data[0];
    for (let i = 0; i < data.length; i++) {
      const x = data[i] - shift;
      sum += x;
      sumSq += x * x;
    }
  }
  const count = V * D;
  const mean = sum / count; // of the shifted values
  return Math.sqrt(Math.max(0, sumSq / count - mean * mean));
}
