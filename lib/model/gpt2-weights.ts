/**
 * GPT-2's weights checked against the config and uploaded to the current tfjs backend once
 * (lib/model/gpt2.ts keeps them; the rotary families upload through family-weights.ts into the
 * same UploadedWeights). Shapes: D d_model, M = d_mlp, V vocabulary, nCtx positions.
 */
import * as tf from "@tensorflow/tfjs";
import type { Gpt2Config, Gpt2Weights, HostTensor } from "../load/types";
import { ModelError } from "./errors";
import type { BlockTensors } from "./gpt2-types";

export interface UploadedWeights {
  /**
   * The unembedding transposed [D, V] (x @ headT is a plain matMul: Gpt2Model's note). With a
   * tied head it is also the token embedding (gathered by columns): one copy, not two.
   */
  headT: tf.Tensor2D;
  /** The token embedding [V, D] of an untied model; absent when tied (headT serves). */
  wte?: tf.Tensor2D;
  /** Learned positions [nCtx, D] (GPT-2); absent in rotary families. */
  wpe?: tf.Tensor2D;
  blocks: BlockTensors[];
  lnFg: tf.Tensor1D; // [D]
  /** Final LayerNorm bias; absent under RMSNorm. */
  lnFb?: tf.Tensor1D;
  /** Number of parameters uploaded (a tied embedding counted once). */
  nParams: number;
}

function checkShape(name: string, t: HostTensor, shape: number[]): void {
  const ok = t.shape.length === shape.length && t.shape.every((n, i) => n === shape[i]);
  if (!ok || t.data.length !== shape.reduce((a, b) => a * b, 1)) {
    throw new ModelError(
      "bad_weights",
      `${name} has shape [${t.shape.join(", ")}] (${t.data.length} values), expected [${shape.join(", ")}]`,
    );
  }
}

/** Checks every weight's shape against the config and uploads it (kept: the caller disposes). */
export function uploadWeights(config: Gpt2Config, weights: Gpt2Weights): UploadedWeights {
  const { dModel: D, dMlp: M, nCtx, vocabSize: V, nLayer, nHead } = config;
  if (D % nHead !== 0) {
    throw new ModelError("bad_weights", `d_model ${D} is not divisible by n_head ${nHead}`);
  }
  if (weights.blocks.length !== nLayer) {
    throw new ModelError("bad_weights", `${weights.blocks.length} blocks, config says ${nLayer}`);
  }
  let n = 0;
  const made: tf.Tensor[] = [];
  const up = <R extends tf.Rank>(name: string, t: HostTensor, shape: number[]): tf.Tensor<R> => {
    checkShape(name, t, shape);
    n += t.data.length;
    const x = tf.keep(tf.tensor(t.data, shape, "float32"));
    made.push(x);
    return x as unknown as tf.Tensor<R>;
  };
  try {
    const wte = up<tf.Rank.R2>("wte", weights.wte, [V, D]);
    const wteT: tf.Tensor2D = tf.keep(wte.transpose()); // [D, V]
    made.push(wteT);
    wte.dispose();
    const wpe: tf.Tensor2D = up("wpe", weights.wpe, [nCtx, D]);
    const blocks: BlockTensors[] = weights.blocks.map((w, l) => ({
      ln1g: up(`h.${l}.ln_1.weight`, w.ln1.g, [D]),
      ln1b: up(`h.${l}.ln_1.bias`, w.ln1.b, [D]),
      wQkv: up(`h.${l}.attn.c_attn.weight`, w.attnQkv.w, [D, 3 * D]),
      bQkv: up(`h.${l}.attn.c_attn.bias`, w.attnQkv.b, [3 * D]),
      wO: up(`h.${l}.attn.c_proj.weight`, w.attnOut.w, [D, D]),
      bO: up(`h.${l}.attn.c_proj.bias`, w.attnOut.b, [D]),
      ln2g: up(`h.${l}.ln_2.weight`, w.ln2.g, [D]),
      ln2b: up(`h.${l}.ln_2.bias`, w.ln2.b, [D]),
      wIn: up(`h.${l}.mlp.c_fc.weight`, w.mlpIn.w, [D, M]),
      bIn: up(`h.${l}.mlp.c_fc.bias`, w.mlpIn.b, [M]),
      wOut: up(`h.${l}.mlp.c_proj.weight`, w.mlpOut.w, [M, D]),
      bOut: up(`h.${l}.mlp.c_proj.bias`, w.mlpOut.b, [D]),
    }));
    const lnFg: tf.Tensor1D = up("ln_f.weight", weights.lnF.g, [D]);
    const lnFb: tf.Tensor1D = up("ln_f.bias", weights.lnF.b, [D]);
    return { headT: wteT, wpe, blocks, lnFg, lnFb, nParams: n };
  } catch (e) {
    tf.dispose(made); // a bad shape part-way must not leak what was already uploaded
    throw e;
  }
}
