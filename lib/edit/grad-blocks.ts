/**
 * The model's blocks for the optimisation loops of lib/edit (ROME's δ, LoReFT) and gradient
 * attribution, whose gradients run fast on the wasm backend: lib/model/block.ts's runBlock with
 * a different linear op, not a second copy of the block.
 *
 * Why a different linear op: the gradient of y = x @ W with respect to x is dy @ Wᵀ, which tfjs
 * computes as matMul(dy, W, transposeB = true), and the wasm backend's BatchMatMul is about
 * 12× slower with a transposed operand than without (35 ms against 3 ms for [300, 512] ×
 * [512, 128] on these machines). Here every linear layer is a tf.customGrad whose backward pass
 * multiplies by a Wᵀ transposed once up front; the forward values are the same ops as the
 * model's. test/edit-rome.test.ts checks values and gradients against Gpt2Model.block.
 *
 * The exact (erf) GELU keeps the plain linear op (its gradient path is not written for wasm
 * here): `supported` is false and the blocks run as the model's own.
 */
import * as tf from "@tensorflow/tfjs";
import { type LinearOp, linear } from "../model/block";
import type { Gpt2Model } from "../model/gpt2";
import type { KeyValue } from "../model/gpt2-types";
import type { HookPlan } from "../model/hook-plan";

/** x @ W + b with a backward pass dy @ Wᵀ, Wᵀ looked up among the pre-transposed weights. */
function gradLinear(transposes: ReadonlyMap<tf.Tensor, tf.Tensor2D>): LinearOp {
  return (x, w, b) => {
    const wT = transposes.get(w);
    if (!wT) return linear(x, w, b); // a weight nobody transposed: correct, only slower
    const [B, T, In] = x.shape;
    const Out = w.shape[1];
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const x2 = args[0] as tf.Tensor2D;
      const value = tf.fused.matMul({ a: x2, b: w, bias: b }); // [B*T, Out]
      return { value, gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, wT) }; // [B*T, In]
    });
    return f(x.reshape([B * T, In])).reshape([B, T, Out]);
  };
}

const MATRICES = ["wQkv", "wO", "wIn", "wUp", "wOut"] as const;

export class GradBlocks {
  /** False when the model's GELU is the exact one: the blocks then use the plain linear op. */
  readonly supported: boolean;
  private readonly transposes = new Map<tf.Tensor, tf.Tensor2D>();
  private readonly linear: LinearOp;

  constructor(
    private readonly model: Gpt2Model,
    readonly from: number,
  ) {
    this.supported = model.config.activation !== "gelu";
    this.linear = this.supported ? gradLinear(this.transposes) : linear;
    if (!this.supported) return;
    for (let l = from; l < model.config.nLayer; l++) {
      for (const name of MATRICES) {
        if (name === "wUp" && !model.spec.gated) continue;
        const w = model.blockWeight(l, name);
        if (!this.transposes.has(w))
          this.transposes.set(w, tf.keep(tf.transpose(w)) as tf.Tensor2D);
      }
    }
  }

  /**
   * Blocks `from` … last on resid [B, T, D] (positions from 0), with the plan's hooks; `on`: a
   * withOverrides view of the model to run instead (its replaced weights take the plain op).
   * `o.past[l]`: layer l's keys/values of positions before resid's (Gpt2Model.block's past; resid
   * then holds positions [Tpast, Tpast + T)); `o.outFrom`: the last block outputs only resid's
   * positions [outFrom, T) (what nobody reads is not computed).
   */
  run(
    resid: tf.Tensor3D,
    hooks: HookPlan,
    on: Gpt2Model = this.model,
    o: { past?: readonly KeyValue[]; outFrom?: number } = {},
  ): tf.Tensor3D {
    let r = resid;
    const L = this.model.config.nLayer;
    for (let l = this.from; l < L; l++) {
      const outFrom = l === L - 1 ? o.outFrom : undefined;
      const b = on.block(l, r, { hooks, linear: this.linear, past: o.past?.[l], outFrom });
      tf.dispose([b.kv.k, b.kv.v]); // (a gradient tape keeps its own copies of what it needs)
      r = b.resid;
    }
    return r;
  }

  dispose(): void {
    tf.dispose([...this.transposes.values()]);
    this.transposes.clear();
  }
}
