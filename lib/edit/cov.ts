/**
 * ROME's second-moment matrix of MLP keys, C = E[k kᵀ] (uncentred) over every token of a text
 * corpus, k = the input of the MLP's output projection (blocks.l.mlp.hook_post). ROME uses 100k
 * Wikipedia texts; in the browser we use the model's own held-out general text, which is far
 * smaller, so C is shrunk towards a multiple of the identity:
 *
 *   C_γ = C + γ · (tr C / d_mlp) · I
 *
 * which is symmetric positive definite for any γ > 0 even when there are fewer tokens than
 * d_mlp, so C_γ u = k* is solved by Cholesky (lib/edit/linalg.ts) in float64 on the host. A
 * d_mlp² matrix is 1 MiB for the bundled model (512²) and 72 MiB for GPT-2 small (3072²) in
 * float64. As in ROME and MEMIT, C is computed once on the unedited model (the root of any edited
 * view, lib/edit/root-cache.ts) per layer and corpus and reused by every later edit of a stack;
 * its factorisation is cached per C and γ.
 */

import * as tf from "@tensorflow/tfjs";
import type { Gpt2Model } from "../model/gpt2";
import { blockHook } from "../model/hooks";
import type { TextTokenizer } from "../util/tokenizer";
import type { ModelLike } from "./apply";
import { chunks, padRows } from "./batch";
import { type WorkWatch, workDone } from "./cancel";
import { cholesky, choleskySolve } from "./linalg";
import { RootCache } from "./root-cache";

export interface SecondMoment {
  /** d_mlp × d_mlp, row-major, E[k kᵀ]. */
  C: Float64Array;
  n: number;
  tokens: number;
}

/** C per root model, layer and corpus (exported so tests can count computations). */
export const momentCache = new RootCache<SecondMoment>();
const factorCache = new WeakMap<SecondMoment, Map<number, Float64Array>>();

function hashTexts(texts: readonly string[]): string {
  let h = 2166136261;
  for (const t of texts) {
    for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 16777619);
    h = Math.imul(h ^ 10, 16777619);
  }
  return `${texts.length}:${(h >>> 0).toString(16)}`;
}

/**
 * E[k kᵀ] of blocks.{layer}.mlp.hook_post of the unedited root of `model` over every token of
 * `texts` (each cut to n_ctx).
 */
export function secondMoment(
  model: ModelLike,
  tok: TextTokenizer,
  texts: readonly string[],
  layer: number,
  watch?: WorkWatch,
): Promise<SecondMoment> {
  return momentCache.get(model, momentKey(layer, texts), (root) =>
    compute(root, tok, texts, layer, watch),
  );
}

/** The in-memory cache's key of C for a layer and corpus (also names it in browser storage). */
export function momentKey(layer: number, texts: readonly string[]): string {
  return `${layer}|${hashTexts(texts)}`;
}

/**
 * Puts a C read from browser storage (lib/edit/cov-cache.ts) into the in-memory cache of the
 * root of `model`, so the next secondMoment for this layer and corpus uses it (a C already held
 * wins).
 */
export function primeMoment(
  model: ModelLike,
  layer: number,
  texts: readonly string[],
  m: SecondMoment,
): Promise<SecondMoment> {
  return momentCache.get(model, momentKey(layer, texts), async () => m);
}

async function compute(
  model: Gpt2Model,
  tok: TextTokenizer,
  texts: readonly string[],
  layer: number,
  watch?: WorkWatch,
): Promise<SecondMoment> {
  const { nCtx, dMlp: M } = model.config;
  const rows = texts.map((t) => tok.encode(t).slice(0, nCtx)).filter((r) => r.length > 0);
  const hook = blockHook(layer, "mlp.hook_post");
  const T = Math.max(...rows.map((r) => r.length));
  let acc = tf.keep(tf.zeros([M, M]));
  let tokens = 0;
  let sum: Float32Array | Int32Array | Uint8Array;
  watch?.onProgress?.(0, rows.length); // the phase shows before its first chunk ends
  try {
    for (const [s, e] of chunks(rows.length, T, M, 1 << 22)) {
      const part = padRows(rows.slice(s, e));
      const mask = new Float32Array(part.ids.length * part.T);
      part.lengths.forEach((n, b) => {
        mask.fill(1, b * part.T, b * part.T + n);
      });
      tokens += part.lengths.reduce((a, b) => a + b, 0);
      const next = tf.tidy(() => {
        // only the blocks up to `layer`: the keys of layer l do not depend on later blocks
        const plan = model.hooks({ record: [hook] });
        let resid = model.embed(part.ids, { hooks: plan }).resid; // [B, T, D]
        let keys: tf.Tensor | undefined;
        for (let l = 0; l <= layer; l++) {
          const b = model.block(l, resid, { hooks: plan });
          resid = b.resid;
          keys = b.activations.get(hook);
        }
        const B = part.ids.length;
        const k = keys!.reshape([B * part.T, M]); // [B·T, M]
        const km = k.mul(tf.tensor2d(mask, [B * part.T, 1])); // padding rows → 0
        // Σ k kᵀ [M, M], with kᵀ made explicitly: tfjs-wasm sends a matMul with a transposed
        // operand to a scalar loop, 10–50× slower than XNNPACK (docs/benchmarks.md "Kernels")
        return acc.add(tf.matMul(km.transpose(), km));
      });
      acc.dispose();
      acc = tf.keep(next);
      // progress in texts; on wasm a chunk runs synchronously, so this is also where a cancel
      // can arrive
      await workDone(watch, e, rows.length);
    }
    sum = await acc.data();
  } finally {
    acc.dispose(); // also when a pass fails (e.g. the model was disposed meanwhile)
  }
  const C = new Float64Array(M * M);
  for (let i = 0; i < M * M; i++) C[i] = sum[i] / tokens;
  return { C, n: M, tokens };
}

/** Solves (C + γ·(tr C/n)·I) x = k by Cholesky; the factor is cached per (C, γ). */
export function solveShrunk(m: SecondMoment, gamma: number, k: ArrayLike<number>): Float64Array {
  const { C, n } = m;
  let byGamma = factorCache.get(m);
  if (!byGamma) {
    byGamma = new Map();
    factorCache.set(m, byGamma);
  }
  let L = byGamma.get(gamma);
  if (!L) {
    let tr = 0;
    for (let i = 0; i < n; i++) tr += C[i * n + i];
    const A = Float64Array.from(C);
    const add = (gamma * tr) / n;
    for (let i = 0; i < n; i++) A[i * n + i] += add;
    L = cholesky(A, n);
    byGamma.set(gamma, L);
  }
  return choleskySolve(L, n, k);
}
