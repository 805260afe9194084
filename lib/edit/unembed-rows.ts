/**
 * Logits at each row's own positions of a pass (a right-padded batch's target tokens, last
 * tokens, subjects), for the learning passes of lib/edit. The final norm and its hook
 * (ln_final.hook_normalized) run on the pass's whole [B, T, D] as in forward(), and the rows'
 * positions are picked after: picking first and unembedding [B, P, D] as if it were a pass would
 * put an intervention there on the wrong rows and positions (its batch indices and positions
 * are the pass's). No edit kind acts at ln_final today, so this guards models built by hand.
 */
import * as tf from "@tensorflow/tfjs";
import type { Gpt2Model, HookPlan } from "../model/gpt2";
import { selector } from "./batch";

/**
 * Logits [B, P, V] of resid [B, T, D] (positions [posOffset, posOffset + T) of the pass) at
 * `positions` (per row: indices into resid's T axis, P = the longest row's count; a shorter row's
 * extra slots get zero logits). Call inside tf.tidy (the selector is left to it, as the tape
 * needs it).
 */
export function unembedRows(
  view: Gpt2Model,
  resid: tf.Tensor3D,
  positions: readonly (number | readonly number[])[],
  opts: { hooks: HookPlan; posOffset?: number },
): tf.Tensor3D {
  const select = selector(positions, resid.shape[1]); // [B, P, T]
  return view.unembed(resid, "all", { ...opts, select }).logits; // [B, P, V]
}

/**
 * Log-probabilities of a rewrite batch (ROME, MEMIT, PMET, SWEA): rows [0, R) at their target
 * positions → lpR [R, nT, V]; the K rows after them (KL prompts) at one position each → lpK
 * [K, V] (null when K = 0). resid [R + K, T, D] as for unembedRows.
 */
export function rewriteLogProbs(
  view: Gpt2Model,
  resid: tf.Tensor3D,
  pos: { targets: readonly (readonly number[])[]; kl: readonly number[] },
  opts: { hooks: HookPlan; posOffset?: number },
): { lpR: tf.Tensor3D; lpK: tf.Tensor2D | null } {
  const R = pos.targets.length;
  const K = pos.kl.length;
  const logits = unembedRows(view, resid, [...pos.targets, ...pos.kl], opts); // [R + K, nT, V]
  const nT = logits.shape[1];
  const lpR = tf.logSoftmax(logits.slice([0, 0, 0], [R, nT, -1])) as tf.Tensor3D; // [R, nT, V]
  if (K === 0) return { lpR, lpK: null };
  const atKl = logits.slice([R, 0, 0], [K, 1, -1]).reshape([K, -1]); // slot 0 of each KL row: [K, V]
  return { lpR, lpK: tf.logSoftmax(atKl) as tf.Tensor2D };
}
