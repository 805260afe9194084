/**
 * Where ROME's rank-one update writes (issue 14 item 5; docs/edits.md "ROME on cases nobody tuned
 * on"). ΔW = u vᵀ, u ∝ w = C⁻¹k*, v = (v* − out(k)) / (uᵀk), out(k) = k W + b, changes the MLP
 * output at every position t, whose key is k_t, by
 *
 *   (uᵀk_t)·v = c_t · (δ + e),   c_t = wᵀk_t / wᵀk,   e = v₀ − out(k)
 *
 * (v* = v₀ + δ; k the update key: e = 0 for the bare prompt's key, whose output is v₀; c = 1 at
 * the bare prompt's subject token). ROME's own optimisation adds δ at the subject's last token
 * only, so what the edit writes at the other tokens (the subject's other pieces, the prompt) is
 * never seen by it. With the footprint, δ is learned under c_t·(δ + e) at every position of
 * every prompt: the keys are those of the unedited model at layer l, which ΔW of layer l does not
 * change, so the optimisation sees exactly the edited model's MLP output at that layer.
 */
import * as tf from "@tensorflow/tfjs";
import type { Gpt2Model } from "../model/gpt2";
import { dot } from "./linalg";
import { EditError } from "./types";

/** The update key k: the bare prompt's (ROME's code) or k* (the paper). */
export type UpdateKey = "bare" | "mean";

/** c and e of the formula above for one padded batch; the caller disposes both. */
export interface FootprintTensors {
  coef: tf.Tensor3D; // [B, T, 1] c_t, 0 past each row's length
  offset: tf.Tensor1D; // [D] e
}

export function footprintTensors(o: {
  view: Gpt2Model;
  layer: number;
  keys: tf.Tensor3D; // [B, T, M] blocks.l.mlp.hook_post of the unedited batch
  lengths: readonly number[];
  kStar: Float64Array;
  kBare: Float64Array;
  v0: Float64Array;
  /** w = C⁻¹k* (rome-preserve.ts: with the prompts' keys). */
  w: Float64Array;
  key: UpdateKey;
}): FootprintTensors {
  const { w } = o;
  const k = o.key === "mean" ? o.kStar : o.kBare;
  const wk = dot(w, k);
  if (!(Math.abs(wk) > 1e-12)) {
    throw new EditError("bad_edit", "uᵀk is zero: the update key is orthogonal to C⁻¹k*");
  }
  const [B, T, M] = o.keys.shape;
  const valid = new Float32Array(B * T);
  o.lengths.forEach((n, b) => {
    valid.fill(1, b * T, b * T + n);
  });
  return tf.tidy(() => {
    const wCol = tf.tensor2d(
      Float32Array.from(w, (x) => x / wk),
      [M, 1],
    );
    const coef = o.keys
      .reshape([B * T, M])
      .matMul(wCol)
      .reshape([B, T, 1])
      .mul(tf.tensor3d(valid, [B, T, 1])) as tf.Tensor3D;
    const out = tf
      .matMul(
        tf.tensor2d(Float32Array.from(k), [1, M]),
        o.view.blockWeight(o.layer, "wOut") as tf.Tensor2D,
      )
      .add(o.view.blockWeight(o.layer, "bOut"))
      .reshape([-1]);
    const offset = tf.tensor1d(Float32Array.from(o.v0)).sub(out) as tf.Tensor1D;
    return { coef, offset };
  });
}
