/**
 * Keys and values of positions that a gradient pass does not change, computed once: a pass whose
 * variable enters at position s leaves positions [0, s) as they are (causal attention), so it can
 * run positions [s, T) alone against their cached keys/values (GradBlocks.run's o.past), which
 * saves the work on the prefix at every step (SWEA's δ and integrated gradients).
 */
import * as tf from "@tensorflow/tfjs";
import type { Gpt2Model } from "../model/gpt2";
import type { KeyValue } from "../model/gpt2-types";
import type { HookPlan } from "../model/hook-plan";

/**
 * Every layer's keys/values [B, Hkv, T, E] of resid [B, T, D] (positions from 0, the view's
 * hooks applied) and the last block's output [B, T, D]. The caller disposes both.
 */
export function keysValues(
  view: Gpt2Model,
  resid: tf.Tensor3D,
  hooks: HookPlan,
): { kv: KeyValue[]; out: tf.Tensor3D } {
  const L = view.config.nLayer;
  // [out, k0, v0, k1, v1, …]: a flat list, which tidy keeps
  const [out, ...kvs] = tf.tidy(() => {
    const kept: tf.Tensor[] = [];
    let r = resid;
    for (let l = 0; l < L; l++) {
      const b = view.block(l, r, { hooks });
      kept.push(b.kv.k, b.kv.v);
      r = b.resid;
    }
    return [r, ...kept];
  });
  const kv = Array.from({ length: L }, (_, l) => ({
    k: kvs[2 * l] as tf.Tensor4D,
    v: kvs[2 * l + 1] as tf.Tensor4D,
  }));
  return { kv, out: out as tf.Tensor3D };
}

/** Positions [0, n) of every layer's keys/values ([B, Hkv, n, E]); undefined when n is 0. */
export function firstPositions(kv: readonly KeyValue[], n: number): KeyValue[] | undefined {
  if (n === 0) return undefined;
  const head = (t: tf.Tensor4D) => t.slice([0, 0, 0, 0], [-1, -1, n, -1]);
  return kv.map(({ k, v }) => ({ k: head(k), v: head(v) }));
}

export function disposeKv(kv: readonly KeyValue[] | undefined): void {
  for (const { k, v } of kv ?? []) tf.dispose([k, v]);
}
