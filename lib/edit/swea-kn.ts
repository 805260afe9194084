/**
 * SWEA's "suppressing" step: which embedding dimensions of the subject's tokens carry the old
 * object (its Knowledge Embedding Dimensions), by the integrated gradients of Knowledge Neurons
 * (Dai et al. 2022) applied to the token embeddings (xpq-tech/SWEA knowledge_neurons
 * get_scores_for_embd, get_coarse_neurons with coarse_adaptive_threshold):
 *
 *   for each subject position p of the rewrite prompt, with e = its token embedding:
 *     score_p = e ⊙ (1/m) Σ_{k=1..m} ∂ p(old object) / ∂x |_{x = α_k e},   α_k = linspace(1e-4, 1, m)
 *   where x replaces the token embedding at p and p(·) is the next-token probability at the
 *   prompt's last position; an old object of several tokens averages the scores over its tokens,
 *   the prompt extended by the model's greedy token after each (KnowledgeNeurons' n_sampling_steps)
 *   dims = {(p, d) : score_p[d] > kn_threshold · max score}   ("cat", SWEA 0.35; one prompt, p = 0)
 */
import * as tf from "@tensorflow/tfjs";
import { type ModelLike, viewOf } from "./apply";
import { GradBlocks } from "./grad-blocks";
import { disposeKv, firstPositions, keysValues } from "./prefix-kv";

export interface KnOptions {
  model: ModelLike;
  /** The rewrite prompt's ids and the subject's span [first, last] in them. */
  ids: readonly number[];
  first: number;
  last: number;
  /** The old object's ids (a continuation of the prompt). */
  trueIds: readonly number[];
  steps: number;
  threshold: number;
}

/** Integrated-gradients scores [P][D] of the subject's token embeddings for one target token. */
async function scoresFor(
  o: KnOptions,
  ids: number[],
  target: number,
): Promise<{ scores: Float32Array[]; next: number }> {
  const view = viewOf(o.model, ids.length);
  const { dModel: D } = view.config;
  const T = ids.length;
  const m = o.steps;
  const hooks = view.hooks({ record: ["hook_embed"] });
  const e = view.embed([ids], { hooks });
  const tokEmb = e.activations.get("hook_embed")!; // [1, T, D]
  const blocks = new GradBlocks(view, 0);
  const alphas = tf.tidy(() => tf.linspace(1e-4, 1, m).reshape([m, 1])); // [m, 1]
  // the prompt once: every layer's keys/values (what the positions before p attend to) and the
  // greedy next token
  const { kv, out } = keysValues(view, e.resid, hooks);
  const scores: Float32Array[] = [];
  try {
    const next = tf.tidy(() => {
      return view.unembed(out, "last", { hooks }).logits.reshape([-1]).argMax();
    });
    const nextId = (await next.data())[0];
    next.dispose();
    // position p: m rows of positions [p, T) (x changes nothing before p), the last block only
    // at the last position
    for (let p = o.first; p <= o.last; p++) {
      const g = tf.tidy(() => {
        const Tq = T - p;
        const past = firstPositions(kv, p); // [1, Hkv, p, E] per layer, broadcast over the rows
        const base = tokEmb.slice([0, p, 0], [1, 1, D]).reshape([1, D]); // e [1, D]
        const at = new Float32Array(Tq);
        at[0] = 1; // (tf.oneHot gives zeros on wasm)
        const onehot = tf.tensor3d(at, [1, Tq, 1]); // [1, Tq, 1]
        const resid0 = tf.tile(e.resid.slice([0, p, 0], [1, Tq, D]), [m, 1, 1]); // [m, Tq, D]
        const f = (x: tf.Tensor) => {
          const resid = resid0.add(onehot.mul(x.sub(base).reshape([m, 1, D]))) as tf.Tensor3D;
          const last = blocks.run(resid, hooks, view, { past, outFrom: Tq - 1 }); // [m, 1, D]
          const u = view.unembed(last, "all", { hooks, posOffset: T - 1 }); // position T − 1
          const probs = tf.softmax(u.logits.reshape([m, -1]));
          return probs.slice([0, target], [m, 1]).sum();
        };
        const grad = tf.grad(f)(alphas.mul(base)); // [m, D]
        return grad
          .sum(0)
          .mul(base.reshape([D]))
          .div(m); // [D]
      });
      scores.push(Float32Array.from(await g.data()));
      g.dispose();
    }
    return { scores, next: nextId };
  } finally {
    blocks.dispose();
    alphas.dispose();
    disposeKv(kv);
    tf.dispose([out, e.resid, ...e.activations.values()]);
  }
}

/** The attribution scores [P][D], averaged over the old object's tokens. */
export async function knScores(o: KnOptions): Promise<Float32Array[]> {
  const ids = [...o.ids];
  let total: Float32Array[] | null = null;
  for (const target of o.trueIds) {
    const { scores, next } = await scoresFor(o, ids, target);
    if (!total) total = scores;
    else for (const [p, s] of scores.entries()) for (const [d, x] of s.entries()) total[p][d] += x;
    ids.push(next);
  }
  return total!.map((s) => s.map((x) => x / o.trueIds.length));
}

/** The suppressed dimensions per subject position: score > threshold · max score. */
export function knDims(scores: readonly Float32Array[], threshold: number): number[][] {
  let max = -Infinity;
  for (const s of scores) for (const x of s) max = Math.max(max, x);
  const cut = max * threshold;
  return scores.map((s) => [...s.keys()].filter((d) => s[d] > cut));
}
