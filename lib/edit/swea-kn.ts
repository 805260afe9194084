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
import { chunks, pickPositions } from "./batch";
import { GradBlocks } from "./grad-blocks";

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
  const scores: Float32Array[] = [];
  try {
    const next = tf.tidy(() => {
      const r = blocks.run(e.resid, hooks);
      const last = pickPositions(r, [T - 1]);
      return view.unembed(last, "all", { hooks }).logits.reshape([-1]).argMax();
    });
    const nextId = (await next.data())[0];
    next.dispose();
    // the subject's positions in groups (all at once on a small model): rows [P·m, T, D]
    for (const [a, z] of chunks(o.last - o.first + 1, T * m, 4 * D)) {
      const P = z - a;
      const first = o.first + a;
      const g = tf.tidy(() => {
        const base = tokEmb.slice([0, first, 0], [1, P, D]).reshape([P, 1, D]); // e [P, 1, D]
        const at = new Float32Array(P * T);
        for (let j = 0; j < P; j++) at[j * T + first + j] = 1; // (tf.oneHot gives zeros on wasm)
        const onehot = tf.tile(tf.tensor4d(at, [P, 1, T, 1]), [1, m, 1, 1]).reshape([P * m, T, 1]);
        const baseRows = tf.tile(base, [1, m, 1]).reshape([P * m, D]); // e of each row's position
        const resid0 = tf.tile(e.resid, [P * m, 1, 1]); // [P·m, T, D]
        const f = (x: tf.Tensor) => {
          const resid = resid0.add(
            onehot.mul(x.sub(baseRows).reshape([P * m, 1, D])),
          ) as tf.Tensor3D;
          const r = blocks.run(resid, hooks);
          const last = pickPositions(r, new Array(P * m).fill(T - 1)); // [P·m, 1, D]
          const logits = view.unembed(last, "all", { hooks }).logits.reshape([P * m, -1]);
          return tf
            .softmax(logits)
            .slice([0, target], [P * m, 1])
            .sum();
        };
        const grad = tf.grad(f)(alphas.mul(base).reshape([P * m, D])); // [P·m, D], rows p-major
        return grad
          .reshape([P, m, D])
          .sum(1)
          .mul(base.reshape([P, D]))
          .div(m); // [P, D]
      });
      const flat = await g.data();
      g.dispose();
      for (let j = 0; j < P; j++) scores.push(Float32Array.from(flat.subarray(j * D, (j + 1) * D)));
    }
    return { scores, next: nextId };
  } finally {
    blocks.dispose();
    alphas.dispose();
    tf.dispose([e.resid, ...e.activations.values()]);
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
