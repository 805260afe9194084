/**
 * Standalone tfjs forward for the Llama family (llama, mistral, qwen2) with TransformerLens
 * hooks: RMSNorm, rotary q/k (rope_theta, linear / llama3 scaling), grouped-query attention,
 * SwiGLU MLP, tied or untied lm_head, qwen2's q/k/v biases, llama's attention_bias.
 * Matches scripts/reference/llama_ref.py (test/model-families.test.ts).
 *
 * Groundwork for issue 11, not wired into the app: the next session folds this block into the
 * one block definition that forward, sweeps and gradient learning share (docs/families.md).
 */
import * as tf from "@tensorflow/tfjs";
import type { HostTensor } from "../../load/types";
import type { LlamaConfig } from "./config";
import type { FamilyForward, FamilyModel, ForwardArgs } from "./model";
import {
  embedTokens,
  type ForwardSetup,
  forwardSetup,
  linear,
  rmsNorm,
  rotaryAttention,
  runForward,
  upload,
  uploadT,
} from "./ops";
import { type WeightSpec, withUntiedHead } from "./weights";

type Linear = { wT: tf.Tensor2D; b?: tf.Tensor1D }; // wT [In, Out]: nn.Linear's weight transposed

interface LlamaBlock {
  ln1: tf.Tensor1D; // [D]
  q: Linear; // wT [D, H·E]
  k: Linear; // wT [D, Hkv·E]
  v: Linear; // wT [D, Hkv·E]
  o: Linear; // wT [H·E, D]
  ln2: tf.Tensor1D; // [D]
  gateT: tf.Tensor2D; // [D, dMlp]
  upT: tf.Tensor2D; // [D, dMlp]
  downT: tf.Tensor2D; // [dMlp, D]
}

const layerPrefix = (l: number) => `model.layers.${l}.`;

/** Every tensor the config implies, by its hub name, with its shape. */
export function llamaWeightSpec(c: LlamaConfig): WeightSpec {
  const { dModel: D, headDim: E, nHead: H, nKvHead: Hkv, dMlp: F } = c;
  const shapes = new Map<string, number[]>([["model.embed_tokens.weight", [c.vocabSize, D]]]);
  for (let l = 0; l < c.nLayer; l++) {
    const p = layerPrefix(l);
    const a = `${p}self_attn.`;
    shapes.set(`${p}input_layernorm.weight`, [D]);
    for (const [name, rows] of [
      ["q_proj", H * E],
      ["k_proj", Hkv * E],
      ["v_proj", Hkv * E],
    ] as const) {
      shapes.set(`${a}${name}.weight`, [rows, D]);
      if (c.qkvBias) shapes.set(`${a}${name}.bias`, [rows]);
    }
    shapes.set(`${a}o_proj.weight`, [D, H * E]);
    if (c.oBias) shapes.set(`${a}o_proj.bias`, [D]);
    shapes.set(`${p}post_attention_layernorm.weight`, [D]);
    shapes.set(`${p}mlp.gate_proj.weight`, [F, D]);
    shapes.set(`${p}mlp.up_proj.weight`, [F, D]);
    shapes.set(`${p}mlp.down_proj.weight`, [D, F]);
  }
  shapes.set("model.norm.weight", [D]);
  return c.tied ? { shapes } : withUntiedHead({ shapes }, "lm_head.weight", [c.vocabSize, D]);
}

export class LlamaModel implements FamilyModel {
  readonly hookNames;
  private readonly setup: ForwardSetup;

  private constructor(
    readonly config: LlamaConfig,
    private readonly embed: tf.Tensor2D, // [V, D]
    private readonly blocks: LlamaBlock[],
    private readonly norm: tf.Tensor1D, // [D]
    private readonly headT: tf.Tensor2D, // [D, V]; the embedding's transpose when tied
  ) {
    this.setup = forwardSetup(config);
    this.hookNames = this.setup.hookNames;
  }

  /** Uploads host weights (named and shaped as llamaWeightSpec says). */
  static fromHost(config: LlamaConfig, host: Map<string, HostTensor>): LlamaModel {
    const get = (n: string) => host.get(n)!;
    const opt = (n: string) => (host.has(n) ? upload<tf.Rank.R1>(get(n)) : undefined);
    const lin = (n: string): Linear => ({ wT: uploadT(get(`${n}.weight`)), b: opt(`${n}.bias`) });
    const blocks = Array.from({ length: config.nLayer }, (_, l): LlamaBlock => {
      const p = layerPrefix(l);
      return {
        ln1: upload(get(`${p}input_layernorm.weight`)),
        q: lin(`${p}self_attn.q_proj`),
        k: lin(`${p}self_attn.k_proj`),
        v: lin(`${p}self_attn.v_proj`),
        o: lin(`${p}self_attn.o_proj`),
        ln2: upload(get(`${p}post_attention_layernorm.weight`)),
        gateT: uploadT(get(`${p}mlp.gate_proj.weight`)),
        upT: uploadT(get(`${p}mlp.up_proj.weight`)),
        downT: uploadT(get(`${p}mlp.down_proj.weight`)),
      };
    });
    const headT = uploadT(get(config.tied ? "model.embed_tokens.weight" : "lm_head.weight"));
    const embed = upload<tf.Rank.R2>(get("model.embed_tokens.weight"));
    return new LlamaModel(config, embed, blocks, upload(get("model.norm.weight")), headT);
  }

  forward(args: ForwardArgs): FamilyForward {
    const c = this.config;
    return runForward(this.setup, args, ({ B, T, hook, tables }) => {
      let resid = hook("hook_embed", embedTokens(this.embed, args.inputIds)); // [B, T, D]
      for (const [l, w] of this.blocks.entries()) {
        const n = `blocks.${l}.` as const;
        resid = hook(`${n}hook_resid_pre`, resid);
        const x = hook(`${n}ln1.hook_normalized`, rmsNorm(resid, w.ln1, c.eps));
        const heads = (y: tf.Tensor3D) => y.reshape([B, T, -1, c.headDim]) as tf.Tensor4D;
        const z = rotaryAttention({
          layer: l,
          q: heads(linear(x, w.q.wT, w.q.b)), // [B, T, H, E]
          k: heads(linear(x, w.k.wT, w.k.b)), // [B, T, Hkv, E]
          v: heads(linear(x, w.v.wT, w.v.b)),
          tables,
          hook,
        });
        const attnOut = hook(`${n}hook_attn_out`, linear(z, w.o.wT, w.o.b)); // [B, T, D]
        resid = hook(`${n}hook_resid_mid`, tf.add(resid, attnOut));
        const y = hook(`${n}ln2.hook_normalized`, rmsNorm(resid, w.ln2, c.eps));
        const gate = hook(`${n}mlp.hook_pre`, linear(y, w.gateT)); // [B, T, dMlp]
        const up = hook(`${n}mlp.hook_pre_linear`, linear(y, w.upT));
        const post = hook(`${n}mlp.hook_post`, tf.mul(tf.mul(gate, tf.sigmoid(gate)), up));
        const mlpOut = hook(`${n}hook_mlp_out`, linear(post as tf.Tensor3D, w.downT));
        resid = hook(`${n}hook_resid_post`, tf.add(resid, mlpOut));
      }
      const normed = hook("ln_final.hook_normalized", rmsNorm(resid, this.norm, c.eps));
      return linear(normed, this.headT); // [B, T, V]
    });
  }

  dispose(): void {
    const ws: tf.Tensor[] = [this.embed, this.norm, this.headT];
    for (const b of this.blocks) {
      ws.push(b.ln1, b.ln2, b.gateT, b.upT, b.downT);
      for (const l of [b.q, b.k, b.v, b.o]) ws.push(l.wT, ...(l.b ? [l.b] : []));
    }
    tf.dispose(ws);
  }
}
