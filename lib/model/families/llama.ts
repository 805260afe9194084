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
} from "./ops";
import { type WeightSpec, withUntiedHead } from "./weights";

type Linear = { w: tf.Tensor2D; b?: tf.Tensor1D }; // w [Out, In] (nn.Linear layout)

interface LlamaBlock {
  ln1: tf.Tensor1D; // [D]
  q: Linear; // [H·E, D]
  k: Linear; // [Hkv·E, D]
  v: Linear; // [Hkv·E, D]
  o: Linear; // [D, H·E]
  ln2: tf.Tensor1D; // [D]
  gate: tf.Tensor2D; // [dMlp, D]
  up: tf.Tensor2D; // [dMlp, D]
  down: tf.Tensor2D; // [D, dMlp]
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
    private readonly head: tf.Tensor2D, // [V, D]; the embedding itself when tied
  ) {
    this.setup = forwardSetup(config);
    this.hookNames = this.setup.hookNames;
  }

  /** Uploads host weights (named and shaped as llamaWeightSpec says). */
  static fromHost(config: LlamaConfig, host: Map<string, HostTensor>): LlamaModel {
    const get = (n: string) => host.get(n)!;
    const opt = (n: string) => (host.has(n) ? upload<tf.Rank.R1>(get(n)) : undefined);
    const lin = (n: string): Linear => ({ w: upload(get(`${n}.weight`)), b: opt(`${n}.bias`) });
    const blocks = Array.from({ length: config.nLayer }, (_, l): LlamaBlock => {
      const p = layerPrefix(l);
      return {
        ln1: upload(get(`${p}input_layernorm.weight`)),
        q: lin(`${p}self_attn.q_proj`),
        k: lin(`${p}self_attn.k_proj`),
        v: lin(`${p}self_attn.v_proj`),
        o: lin(`${p}self_attn.o_proj`),
        ln2: upload(get(`${p}post_attention_layernorm.weight`)),
        gate: upload(get(`${p}mlp.gate_proj.weight`)),
        up: upload(get(`${p}mlp.up_proj.weight`)),
        down: upload(get(`${p}mlp.down_proj.weight`)),
      };
    });
    const embed = upload<tf.Rank.R2>(get("model.embed_tokens.weight"));
    const head = config.tied ? embed : upload<tf.Rank.R2>(get("lm_head.weight"));
    return new LlamaModel(config, embed, blocks, upload(get("model.norm.weight")), head);
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
          q: heads(linear(x, w.q.w, w.q.b)), // [B, T, H, E]
          k: heads(linear(x, w.k.w, w.k.b)), // [B, T, Hkv, E]
          v: heads(linear(x, w.v.w, w.v.b)),
          tables,
          hook,
        });
        const attnOut = hook(`${n}hook_attn_out`, linear(z, w.o.w, w.o.b)); // [B, T, D]
        resid = hook(`${n}hook_resid_mid`, tf.add(resid, attnOut));
        const y = hook(`${n}ln2.hook_normalized`, rmsNorm(resid, w.ln2, c.eps));
        const gate = hook(`${n}mlp.hook_pre`, linear(y, w.gate)); // [B, T, dMlp]
        const up = hook(`${n}mlp.hook_pre_linear`, linear(y, w.up));
        const post = hook(`${n}mlp.hook_post`, tf.mul(tf.mul(gate, tf.sigmoid(gate)), up));
        const mlpOut = hook(`${n}hook_mlp_out`, linear(post as tf.Tensor3D, w.down));
        resid = hook(`${n}hook_resid_post`, tf.add(resid, mlpOut));
      }
      const normed = hook("ln_final.hook_normalized", rmsNorm(resid, this.norm, c.eps));
      return linear(normed, this.head); // [B, T, V]
    });
  }

  dispose(): void {
    const ws: tf.Tensor[] = [this.embed, this.norm];
    if (this.head !== this.embed) ws.push(this.head);
    for (const b of this.blocks) {
      ws.push(b.ln1, b.ln2, b.gate, b.up, b.down);
      for (const l of [b.q, b.k, b.v, b.o]) ws.push(l.w, ...(l.b ? [l.b] : []));
    }
    tf.dispose(ws);
  }
}
