/**
 * Forgetting regularisation (Song et al. 2025, "How to Alleviate Catastrophic Forgetting in LLMs
 * Finetuning? Hierarchical Layer-Wise and Element-Wise Regularization", arXiv 2501.13669): a
 * penalty added to a fine-tuning edit's loss that holds back the weight elements, and the layers,
 * that matter for the model's general text. docs/recipes.md "Forgetting regularisation".
 *
 * 1. Element-wise importance (the paper's §4.1, Synaptic Intelligence's path integral): from the
 *    model as given, `steps` plain SGD steps (learning rate η) on the mean next-token NLL of the
 *    general text (dataset.json general_text, `batch` texts per step, in order) move each
 *    regularised weight W; along that path
 *        ω = Σ_t −g_t ⊙ Δ_t = η Σ_t g_t²        (g_t the gradient, Δ_t = −η g_t the step)
 *        Ω = ω / (Δ² + ξ)                        (Δ = W_steps − W_0, ξ against division by 0)
 *    and Ω is divided by its mean over every regularised element (mean 1), so that λ has one
 *    scale across models. The SGD steps only measure: the model keeps its weights.
 * 2. Element-wise penalty of a layer l (§4.2), for the edit's weight changes ΔW:
 *        R_l = Σ_{W in layer l} Σ_ij Ω_ij ΔW_ij²
 * 3. Layer-wise coefficients (§4.3), recomputed from the current changes at every step:
 *        c_l = R_l / Σ_k R_k   (held constant in the gradient, as a coefficient; 0 when all R = 0)
 *        penalty = Σ_l c_l R_l,   loss = edit loss + λ · penalty
 *    so the layers that drift most from what the general text needs are pulled back hardest.
 *
 * The paper's full text was not available here (only its summary: SI-style importance, a
 * regulariser on the weights' change and dynamic layer coefficients); the exact forms of ξ's
 * scale, the mean-1 normalisation and c_l are this file's choices. The torch reference
 * scripts/reference/forget_reg_ref.py checks Ω and the penalised loss and gradient.
 *
 * For other trainers (e.g. the ABSC joint method): computeImportance once on the unedited model,
 * then add `lambda · forgettingPenalty(importance, deltas)` inside the loss closure, and
 * dispose the importance when training ends.
 */
import * as tf from "@tensorflow/tfjs";
import type { TextTokenizer } from "../util/tokenizer";
import { baseOf, type ModelLike, viewOf } from "./apply";
import { padRows } from "./batch";
import { type CancelSignal, checkLearningCancelled } from "./cancel";
import type { WeightRole } from "./family-sites";
import { EditError, type ForgetParams } from "./types";

export type { ForgetParams };

export const FORGET_DEFAULTS = { steps: 4, lr: 0.1, xi: 1e-6, batch: 16 };

/** One regularised weight: the block's weight role in [in, out] layout. */
export interface ForgetWeight {
  layer: number;
  name: WeightRole;
}

/** Ω of every regularised weight (mean 1 over all their elements), on the backend. */
export interface ForgetImportance {
  weights: (ForgetWeight & { omega: tf.Tensor2D })[];
  /** Mean of the raw Ω before normalising (what 1 stands for), and the importance steps' NLL. */
  rawMean: number;
  losses: number[];
  dispose(): void;
}

/** A weight's change under the edit, [in, out] (on the tape). */
export interface WeightDelta extends ForgetWeight {
  delta: tf.Tensor;
}

const keyOf = (w: ForgetWeight) => `${w.layer}:${w.name}`;

/** Checks the settings; `fail` throws. */
export function checkForget(f: ForgetParams, fail: (msg: string) => never): void {
  const p = { ...FORGET_DEFAULTS, ...f };
  if (!(p.lambda >= 0) || !Number.isFinite(p.lambda)) fail("forget.lambda must be ≥ 0");
  if (!Number.isInteger(p.steps) || p.steps < 1 || p.steps > 100)
    fail("forget.steps must be a whole number from 1 to 100");
  if (!(p.lr > 0) || !Number.isFinite(p.lr)) fail("forget.lr must be above 0");
  if (!(p.xi > 0) || !Number.isFinite(p.xi)) fail("forget.xi must be above 0");
  if (!Number.isInteger(p.batch) || p.batch < 1 || p.batch > 1000)
    fail("forget.batch must be a whole number from 1 to 1000");
}

/** The general texts of importance step t: `batch` rows from t·batch on, wrapping around. */
function stepRows(rows: readonly number[][], t: number, batch: number): number[][] {
  const n = Math.min(batch, rows.length);
  return Array.from({ length: n }, (_, i) => rows[(t * batch + i) % rows.length]);
}

/** Mean next-token NLL of a right-padded batch, with the given weights replacing the model's. */
function batchNll(o: {
  model: ModelLike;
  rows: readonly number[][];
  weights: { layer: number; name: WeightRole; value: tf.Tensor }[];
}): { nll: () => tf.Scalar; dispose: () => void } {
  const padded = padRows(o.rows);
  const { T } = padded;
  const V = baseOf(o.model).config.vocabSize;
  const mask = new Float32Array(o.rows.length * T * V); // [B, T, V]: 1 at each next token
  let count = 0;
  o.rows.forEach((r, b) => {
    for (let t = 0; t + 1 < r.length; t++) {
      mask[(b * T + t) * V + r[t + 1]] = 1;
      count++;
    }
  });
  const m = tf.tensor3d(mask, [o.rows.length, T, V]);
  const view = viewOf(o.model, padded.lengths);
  const nll = () =>
    tf.tidy(() => {
      const { logits } = view
        .withOverrides({ weights: o.weights })
        .forward({ inputIds: padded.ids, logitPositions: "all" }); // [B, T, V]
      return tf.logSoftmax(logits).mul(m).sum().neg().div(count) as tf.Scalar;
    });
  return { nll, dispose: () => m.dispose() };
}

/**
 * Element-wise importance Ω of `weights` for the general text (SI along `steps` SGD steps, see
 * the file comment). The model is not changed.
 */
export async function computeImportance(o: {
  model: ModelLike;
  tok: TextTokenizer;
  weights: readonly ForgetWeight[];
  texts: readonly string[];
  params: ForgetParams;
  signal?: CancelSignal;
}): Promise<ForgetImportance> {
  const p = { ...FORGET_DEFAULTS, ...o.params };
  checkForget(p, (msg) => {
    throw new EditError("bad_edit", msg);
  });
  const nCtx = baseOf(o.model).config.nCtx;
  const rows = o.texts.map((t) => o.tok.encode(t).slice(0, nCtx)).filter((r) => r.length > 1);
  if (rows.length === 0)
    throw new EditError("bad_dataset", "the forgetting regulariser needs general text");
  const unique = [...new Map(o.weights.map((w) => [keyOf(w), w])).values()];
  const view0 = viewOf(o.model, rows[0].length);
  const w0 = unique.map((w) => view0.blockWeight(w.layer, w.name) as tf.Tensor2D);
  const theta = w0.map((w) => tf.variable(w, true)); // a copy: the model's weight stays
  const omega = w0.map((w) => tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
  const losses: number[] = [];
  try {
    for (let t = 0; t < p.steps; t++) {
      await checkLearningCancelled(o.signal);
      const weights = unique.map((w, i) => ({ ...w, value: theta[i] as tf.Tensor }));
      const b = batchNll({ model: o.model, rows: stepRows(rows, t, p.batch), weights });
      try {
        const { value, grads } = tf.variableGrads(b.nll, theta);
        losses.push((await value.data())[0]);
        value.dispose();
        theta.forEach((v, i) => {
          const g = grads[v.name]; // [in, out]
          tf.tidy(() => {
            omega[i].assign(omega[i].add(g.square().mul(p.lr))); // −g·Δ with Δ = −η g
            v.assign(v.sub(g.mul(p.lr)));
          });
        });
        tf.dispose(Object.values(grads));
      } finally {
        b.dispose();
      }
    }
    const raw = tf.tidy(() =>
      omega.map((om, i) => om.div(theta[i].sub(w0[i]).square().add(p.xi)) as tf.Tensor2D),
    );
    const total = raw.reduce((n, r) => n + r.size, 0);
    const sums = await Promise.all(
      raw.map(async (r) => {
        const t = r.sum();
        const x = (await t.data())[0];
        t.dispose();
        return x;
      }),
    );
    const rawMean = sums.reduce((a, b) => a + b, 0) / total;
    if (!(rawMean > 0) || !Number.isFinite(rawMean)) {
      tf.dispose(raw);
      throw new EditError("bad_edit", `the general-text importance is ${rawMean} (no gradient)`);
    }
    const norm = raw.map((r) => {
      const n = r.div(rawMean) as tf.Tensor2D;
      r.dispose();
      return n;
    });
    const weights = unique.map((w, i) => ({ ...w, omega: norm[i] }));
    return { weights, rawMean, losses, dispose: () => tf.dispose(norm) };
  } finally {
    tf.dispose([...theta, ...omega]);
  }
}

/**
 * c_l = R_l / Σ_k R_k (0 when all R = 0) as one taped op with no gradient: a coefficient of the
 * loss, not a function of it (and no 0/0 from the division's own gradient at R = 0).
 */
const layerCoefficients = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const R = args[0] as tf.Tensor1D; // [layers]
  return {
    value: R.div(R.sum().maximum(1e-30)),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  };
});

/**
 * The hierarchical penalty Σ_l c_l R_l of weight changes `deltas` (see the file comment), a
 * scalar on the tape; deltas of weights without importance are refused.
 */
export function forgettingPenalty(
  imp: ForgetImportance,
  deltas: readonly WeightDelta[],
): tf.Scalar {
  return tf.tidy(() => {
    const omega = new Map(imp.weights.map((w) => [keyOf(w), w.omega]));
    const byLayer = new Map<number, tf.Scalar>();
    for (const d of deltas) {
      const om = omega.get(keyOf(d));
      if (!om) throw new EditError("bad_edit", `no importance for ${d.name} of layer ${d.layer}`);
      const r = om.mul(d.delta.square()).sum() as tf.Scalar; // Σ Ω ⊙ ΔW²
      const prev = byLayer.get(d.layer);
      byLayer.set(d.layer, prev ? prev.add(r) : r);
    }
    if (byLayer.size === 0) return tf.scalar(0);
    const R = tf.stack([...byLayer.values()]) as tf.Tensor1D; // [layers]
    const c = layerCoefficients(R) as tf.Tensor1D; // c_l, no gradient
    return c.mul(R).sum() as tf.Scalar;
  });
}
