/**
 * The one transformer block of every family: a BlockSpec (data: what the config says) and
 * runBlock (one function). The forward pass and the fast sweeps (Gpt2Model.block, with past
 * keys/values) and the gradient passes of lib/edit (grad-blocks.ts, which only swaps the
 * linear op) all run this code, so they compute the same numbers.
 *
 *   x0   = resid_pre
 *   q, k, v = split(norm1(x0) @ wQkv + bQkv)        [H·E | Hkv·E | Hkv·E] (GPT-2 and NeoX's
 *                                                   fused layouts are reordered to this at upload)
 *   q, k = rotary(q, k) at absolute positions        (rotary families; hook_rot_q / hook_rot_k)
 *   z    = softmax(causal(q kᵀ / √E)) v             query head h reads K/V head ⌊h / (H/Hkv)⌋
 *   attn = z @ wO + bO
 *   sequential: mid = x0 + attn; mlp reads norm2(mid); post = mid + mlp
 *   parallel:   mlp reads norm2(x0);                 post = x0 + attn + mlp   (no hook_resid_mid)
 *   mlp  = act(norm2(·) @ wIn + bIn) @ wOut + bOut   gated: silu(· @ wIn) · (· @ wUp)
 *
 * Every weight is held as [In, Out] (GPT-2's Conv1D layout; hub nn.Linear weights are transposed
 * once at upload), so y = x @ W never multiplies by a transposed operand (wasm's slow path, and
 * tfjs-wasm 4.22 adds a fused bias wrongly with transposeB).
 * Shapes: B batch, T positions, Tp cached positions, D d_model, H query heads, Hkv K/V heads,
 * E head width, M d_mlp.
 */
import * as tf from "@tensorflow/tfjs";
import type { Activation, ModelConfig } from "../load/model-config";
import { attnDims, familyOf } from "../load/model-config";
import type { BlockTensors, KeyValue } from "./gpt2-types";
import type { HookPlan } from "./hook-plan";
import { type BlockHook, blockHook, blockHooksOf } from "./hooks";
import { causalBias, gelu, layerNorm, repeatRows, rmsNorm, swiglu } from "./ops";
import { applyRotary, type RotaryTables } from "./rotary";

/** What a family's block does, derived from its config once. */
export interface BlockSpec {
  norm: "layer" | "rms";
  eps: number;
  H: number;
  Hkv: number;
  E: number;
  rotary: boolean;
  /** SwiGLU MLP (gate wIn, up wUp). */
  gated: boolean;
  activation: Activation;
  parallel: boolean;
  /** The block hooks this family fires. */
  hooks: ReadonlySet<BlockHook>;
}

export function blockSpecOf(c: ModelConfig): BlockSpec {
  const family = familyOf(c);
  return {
    norm: family === "llama" ? "rms" : "layer",
    eps: c.layerNormEps,
    ...attnDims(c),
    rotary: c.rope !== undefined,
    gated: family === "llama",
    activation: c.activation,
    parallel: c.parallelResidual === true,
    hooks: new Set(blockHooksOf(c)),
  };
}

/** y = x @ W (+ b): x [B, T, In], W [In, Out], b [Out] → [B, T, Out]. The pluggable part. */
export type LinearOp = (x: tf.Tensor3D, w: tf.Tensor2D, b?: tf.Tensor1D) => tf.Tensor3D;

/** The forward linear op: one fused matMul + bias. */
export const linear: LinearOp = (x, w, b) => {
  const [B, T, In] = x.shape;
  const y = tf.fused.matMul({ a: x.reshape([B * T, In]), b: w, bias: b }); // [B*T, Out]
  return y.reshape([B, T, w.shape[1]]);
};

export interface BlockRun {
  layer: number;
  hooks: HookPlan;
  /** Cached keys (after rotary) / values of positions [0, Tp): [B or 1, Hkv, Tp, E]. */
  past?: KeyValue;
  /** Rotary cos / sin for resid's positions [Tp, Tp + T) (rotary families). */
  rotary?: RotaryTables;
  /** Default `linear`; gradient passes plug in a customGrad op. */
  linear?: LinearOp;
  /** Recorded activations go here. */
  acts: Record<string, tf.Tensor>;
  /**
   * Compute the block's output only for resid's positions [outFrom, T) (default 0: all): keys
   * and values still come from every position, but queries, z, attn_out, the MLP and resid_post
   * only from these (a last block whose other positions nobody reads: ~20/24 of its FLOPs per
   * dropped position). Hooks after the K/V split then see only these positions; record none there.
   */
  outFrom?: number;
}

export interface BlockOut {
  resid: tf.Tensor3D; // [B, T − outFrom, D] hook_resid_post
  /** This block's keys (after rotary) and values for resid's positions: [B, Hkv, T, E]. */
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

/** One block on resid [B, T, D] (positions [Tp, Tp + T)). Call inside tf.tidy. */
export function runBlock(s: BlockSpec, w: BlockTensors, resid: tf.Tensor3D, r: BlockRun): BlockOut {
  const { H, Hkv, E } = s;
  const [B, T] = resid.shape;
  const Tp = r.past ? r.past.k.shape[2] : 0;
  const from = r.outFrom ?? 0;
  if (!Number.isInteger(from) || from < 0 || from >= T) {
    throw new Error(`runBlock: outFrom ${from} outside [0, ${T})`);
  }
  const Tq = T - from; // positions whose output is computed
  const lin = r.linear ?? linear;
  // hooks before the K/V split see positions [Tp, Tp + T), those after it [Tp + from, Tp + T)
  const hookAt = <R extends tf.Tensor>(name: BlockHook, x: tf.Tensor, off: number): R =>
    (s.hooks.has(name) ? r.hooks.apply(blockHook(r.layer, name), x, off, r.acts) : x) as R;
  const hook = <R extends tf.Tensor>(name: BlockHook, x: tf.Tensor): R => hookAt(name, x, Tp);
  const hookOut = <R extends tf.Tensor>(name: BlockHook, x: tf.Tensor): R =>
    hookAt(name, x, Tp + from);
  const outRows = <R extends tf.Tensor>(x: R): R =>
    (from === 0 ? x : x.slice([0, from], [-1, Tq])) as R; // [B, Tq, …]
  const norm = (x: tf.Tensor3D, g: tf.Tensor1D, b: tf.Tensor1D | undefined) =>
    (s.norm === "rms" ? rmsNorm(x, g, s.eps) : layerNorm(x, g, b!, s.eps)) as tf.Tensor3D;

  const x0 = hook<tf.Tensor3D>("hook_resid_pre", resid); // [B, T, D]

  // attention
  const x1 = hook<tf.Tensor3D>("ln1.hook_normalized", norm(x0, w.ln1g, w.ln1b));
  const qkv = lin(x1, w.wQkv, w.bQkv); // [B, T, (H + 2 Hkv) E]
  const [q0, k0, v0] = tf.split(qkv, [H * E, Hkv * E, Hkv * E], 2);
  let q = hook<tf.Tensor4D>("attn.hook_q", q0.reshape([B, T, H, E])); // [B, T, H, E]
  let k = hook<tf.Tensor4D>("attn.hook_k", k0.reshape([B, T, Hkv, E])); // [B, T, Hkv, E]
  const v = hook<tf.Tensor4D>("attn.hook_v", v0.reshape([B, T, Hkv, E])); // [B, T, Hkv, E]
  if (s.rotary) {
    if (!r.rotary) throw new Error("runBlock: a rotary block needs its rotary tables");
    q = hook<tf.Tensor4D>("attn.hook_rot_q", applyRotary(q, r.rotary));
    k = hook<tf.Tensor4D>("attn.hook_rot_k", applyRotary(k, r.rotary));
  }
  q = outRows(q); // [B, Tq, H, E]
  const kh = k.transpose([0, 2, 1, 3]) as tf.Tensor4D; // [B, Hkv, T, E]
  const vh = v.transpose([0, 2, 1, 3]) as tf.Tensor4D; // [B, Hkv, T, E]
  const withPast = (p: tf.Tensor4D | undefined, own: tf.Tensor4D) => {
    if (!p) return own;
    const pb = p.shape[0] === B ? p : repeatRows(p, B); // [B, Hkv, Tp, E]
    return tf.concat([pb, own], 2); // [B, Hkv, Tk, E], Tk = Tp + T
  };
  const kAll = withPast(r.past?.k, kh);
  const vAll = withPast(r.past?.v, vh);
  const Tk = Tp + T;
  // GQA without copying K/V: the rep = H / Hkv query heads of one K/V head share its matMul,
  // [B, H, T, E] → [B, Hkv, rep·T, E] (heads h = j·rep + i are contiguous); rep = 1 is plain MHA
  const qg = q.transpose([0, 2, 1, 3]).reshape([B, Hkv, (H / Hkv) * Tq, E]);
  const scores = tf
    .matMul(qg, kAll, false, true) // [B, Hkv, rep·Tq, Tk]
    .reshape([B, H, Tq, Tk])
    .mul(1 / Math.sqrt(E))
    .add(causalBias(Tq, Tp + from)); // query i (absolute Tp + from + i) sees keys j ≤ Tp + from + i
  const pattern = hookOut<tf.Tensor4D>("attn.hook_pattern", tf.softmax(scores)); // [B, H, Tq, Tk]
  const zh = tf.matMul(pattern.reshape([B, Hkv, (H / Hkv) * Tq, Tk]), vAll); // [B, Hkv, rep·Tq, E]
  const z = hookOut<tf.Tensor4D>("attn.hook_z", zh.reshape([B, H, Tq, E]).transpose([0, 2, 1, 3])); // [B, Tq, H, E]
  const attnOut = hookOut<tf.Tensor3D>("hook_attn_out", lin(z.reshape([B, Tq, H * E]), w.wO, w.bO)); // [B, Tq, D]
  const x0q = outRows(x0); // [B, Tq, D]
  const mid = s.parallel ? x0q : hookOut<tf.Tensor3D>("hook_resid_mid", x0q.add(attnOut));

  // MLP (a parallel block's reads the block's input, not mid)
  const x2 = hookOut<tf.Tensor3D>("ln2.hook_normalized", norm(mid, w.ln2g, w.ln2b));
  const pre = hookOut<tf.Tensor3D>("mlp.hook_pre", lin(x2, w.wIn, w.bIn)); // [B, Tq, M]
  let post: tf.Tensor3D;
  if (s.gated) {
    const up = hookOut<tf.Tensor3D>("mlp.hook_pre_linear", lin(x2, w.wUp!)); // [B, Tq, M]
    post = hookOut("mlp.hook_post", swiglu(pre, up));
  } else {
    post = hookOut("mlp.hook_post", gelu(pre, s.activation as Exclude<Activation, "silu">));
  }
  const mlpOut = hookOut<tf.Tensor3D>("hook_mlp_out", lin(post, w.wOut, w.bOut)); // [B, Tq, D]
  const base = s.parallel ? x0q.add(attnOut) : mid;
  const residPost = hookOut<tf.Tensor3D>("hook_resid_post", base.add(mlpOut)); // [B, Tq, D]
  return { resid: residPost, k: kh, v: vh };
}
