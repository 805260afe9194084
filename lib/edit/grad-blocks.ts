/**
 * GPT-2 blocks for the optimisation loops of lib/edit (ROME's δ), whose gradients run fast on
 * the wasm backend.
 *
 * Why not Gpt2Model.block: the gradient of y = x @ W with respect to x is dy @ Wᵀ, which tfjs
 * computes as matMul(dy, W, transposeB = true), and the wasm backend's BatchMatMul is about
 * 12× slower with a transposed operand than without (35 ms against 3 ms for [300, 512] ×
 * [512, 128] on these machines). Here every linear layer is a tf.customGrad whose backward pass
 * multiplies by a Wᵀ transposed once up front. The forward pass is the same ops in the same
 * order as lib/model/gpt2.ts (pre-LN block, fused matMul + bias, tanh GELU, causal softmax
 * attention; LayerNorm, GELU and the mask from lib/model/ops.ts), with the same hook points
 * applied through the model's HookPlan, so it computes the same numbers;
 * test/edit-rome.test.ts checks values and gradients against Gpt2Model.block.
 *
 * Only the tanh GELU variants are written here; a model with the exact (erf) GELU falls back to
 * Gpt2Model.block.
 */
import * as tf from "@tensorflow/tfjs";
import type { Gpt2Model } from "../model/gpt2";
import type { HookPlan } from "../model/hook-plan";
import { causalBias, gelu, layerNorm } from "../model/ops";

interface Weights {
  ln1g: tf.Tensor;
  ln1b: tf.Tensor;
  wQkv: tf.Tensor2D;
  wQkvT: tf.Tensor2D;
  bQkv: tf.Tensor;
  wO: tf.Tensor2D;
  wOT: tf.Tensor2D;
  bO: tf.Tensor;
  ln2g: tf.Tensor;
  ln2b: tf.Tensor;
  wIn: tf.Tensor2D;
  wInT: tf.Tensor2D;
  bIn: tf.Tensor;
  wOut: tf.Tensor2D;
  wOutT: tf.Tensor2D;
  bOut: tf.Tensor;
}

/** [B, T, In] @ W + b with a backward pass dy @ Wᵀ from the pre-transposed Wᵀ. */
function linear(x: tf.Tensor3D, w: tf.Tensor2D, wT: tf.Tensor2D, b: tf.Tensor): tf.Tensor3D {
  const [B, T, In] = x.shape;
  const Out = w.shape[1];
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x2 = args[0] as tf.Tensor2D;
    const value = tf.fused.matMul({ a: x2, b: w, bias: b }); // [B*T, Out]
    return { value, gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, wT) }; // [B*T, In]
  });
  return f(x.reshape([B * T, In])).reshape([B, T, Out]);
}

export class GradBlocks {
  /** False when the model's GELU is not written here: use Gpt2Model.block instead. */
  readonly supported: boolean;
  private readonly weights = new Map<number, Weights>();

  constructor(
    private readonly model: Gpt2Model,
    readonly from: number,
  ) {
    this.supported = model.config.activation !== "gelu";
    if (!this.supported) return;
    for (let l = from; l < model.config.nLayer; l++) {
      const w = (n: Parameters<Gpt2Model["blockWeight"]>[1]) => model.blockWeight(l, n);
      const t = (n: Parameters<Gpt2Model["blockWeight"]>[1]) =>
        tf.keep(tf.transpose(w(n))) as tf.Tensor2D;
      this.weights.set(l, {
        ln1g: w("ln1g"),
        ln1b: w("ln1b"),
        wQkv: w("wQkv") as tf.Tensor2D,
        wQkvT: t("wQkv"),
        bQkv: w("bQkv"),
        wO: w("wO") as tf.Tensor2D,
        wOT: t("wO"),
        bO: w("bO"),
        ln2g: w("ln2g"),
        ln2b: w("ln2b"),
        wIn: w("wIn") as tf.Tensor2D,
        wInT: t("wIn"),
        bIn: w("bIn"),
        wOut: w("wOut") as tf.Tensor2D,
        wOutT: t("wOut"),
        bOut: w("bOut"),
      });
    }
  }

  /** Blocks `from` … last on resid [B, T, D] (positions from 0), with the plan's hooks. */
  run(resid: tf.Tensor3D, hooks: HookPlan): tf.Tensor3D {
    let r = resid;
    for (let l = this.from; l < this.model.config.nLayer; l++) {
      r = this.supported ? this.block(l, r, hooks) : this.model.block(l, r, { hooks }).resid;
    }
    return r;
  }

  private block(layer: number, resid: tf.Tensor3D, hooks: HookPlan): tf.Tensor3D {
    const { nHead: H, dModel: D, layerNormEps: eps } = this.model.config;
    const [B, T] = resid.shape;
    const E = D / H;
    const w = this.weights.get(layer)!;
    const acts: Record<string, tf.Tensor> = {};
    const hook = <R extends tf.Tensor>(name: string, x: tf.Tensor) =>
      hooks.apply(`blocks.${layer}.${name}`, x, 0, acts) as R;
    const x0 = hook<tf.Tensor3D>("hook_resid_pre", resid);
    const qkv = linear(layerNorm(x0, w.ln1g, w.ln1b, eps) as tf.Tensor3D, w.wQkv, w.wQkvT, w.bQkv); // [B, T, 3D]
    const [q0, k0, v0] = tf.split(qkv, 3, 2);
    const q = hook<tf.Tensor4D>("attn.hook_q", q0.reshape([B, T, H, E]));
    const k = hook<tf.Tensor4D>("attn.hook_k", k0.reshape([B, T, H, E]));
    const v = hook<tf.Tensor4D>("attn.hook_v", v0.reshape([B, T, H, E]));
    const qh = q.transpose([0, 2, 1, 3]); // [B, H, T, E]
    const kh = k.transpose([0, 2, 1, 3]);
    const vh = v.transpose([0, 2, 1, 3]);
    const scores = tf
      .matMul(qh, kh, false, true) // [B, H, T, T]
      .mul(1 / Math.sqrt(E))
      .add(causalBias(T, 0));
    const pattern = hook<tf.Tensor4D>("attn.hook_pattern", tf.softmax(scores));
    const zh = tf.matMul(pattern, vh); // [B, H, T, E]
    const z = hook<tf.Tensor4D>("attn.hook_z", zh.transpose([0, 2, 1, 3])); // [B, T, H, E]
    const attnOut = hook<tf.Tensor3D>(
      "hook_attn_out",
      linear(z.reshape([B, T, D]), w.wO, w.wOT, w.bO),
    );
    const mid = hook<tf.Tensor3D>("hook_resid_mid", x0.add(attnOut));
    const ln2 = layerNorm(mid, w.ln2g, w.ln2b, eps) as tf.Tensor3D;
    const pre = hook<tf.Tensor3D>("mlp.hook_pre", linear(ln2, w.wIn, w.wInT, w.bIn));
    const post = hook<tf.Tensor3D>("mlp.hook_post", gelu(pre, this.model.config.activation));
    const mlpOut = hook<tf.Tensor3D>("hook_mlp_out", linear(post, w.wOut, w.wOutT, w.bOut));
    return hook<tf.Tensor3D>("hook_resid_post", mid.add(mlpOut));
  }

  dispose(): void {
    for (const w of this.weights.values()) tf.dispose([w.wQkvT, w.wOT, w.wInT, w.wOutT]);
    this.weights.clear();
  }
}
