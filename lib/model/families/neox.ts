/**
 * Standalone tfjs forward for GPT-NeoX (Pythia) with TransformerLens hooks: LayerNorm, the fused
 * query_key_value in its per-head [H, 3, E] layout, partial rotary (rotary_pct), parallel or
 * sequential residual, untied embed_out. Matches scripts/reference/neox_ref.py
 * (test/model-families.test.ts).
 *
 * Groundwork for issue 11, not wired into the app (docs/families.md).
 */
import * as tf from "@tensorflow/tfjs";
import type { HostTensor } from "../../load/types";
import type { NeoxConfig } from "./config";
import type { FamilyForward, FamilyModel, ForwardArgs } from "./model";
import {
  embedTokens,
  type ForwardSetup,
  forwardSetup,
  layerNorm,
  linear,
  rotaryAttention,
  runForward,
  upload,
  uploadT,
} from "./ops";
import { type WeightSpec, withUntiedHead } from "./weights";

type Linear = { wT: tf.Tensor2D; b?: tf.Tensor1D }; // wT [In, Out]: nn.Linear's weight transposed
type Norm = { g: tf.Tensor1D; b: tf.Tensor1D }; // [D], [D]

interface NeoxBlock {
  ln1: Norm;
  qkv: Linear; // wT [D, 3D]; output features grouped per head as [H, 3, E]
  dense: Linear; // wT [D, D]
  ln2: Norm;
  up: Linear; // dense_h_to_4h, wT [D, dMlp]
  down: Linear; // dense_4h_to_h, wT [dMlp, D]
}

const layerPrefix = (l: number) => `gpt_neox.layers.${l}.`;

/** Every tensor the config implies, by its hub name, with its shape. */
export function neoxWeightSpec(c: NeoxConfig): WeightSpec {
  const { dModel: D, dMlp: F } = c;
  const shapes = new Map<string, number[]>([["gpt_neox.embed_in.weight", [c.vocabSize, D]]]);
  const linearShapes = (name: string, out: number, inp: number, bias: boolean) => {
    shapes.set(`${name}.weight`, [out, inp]);
    if (bias) shapes.set(`${name}.bias`, [out]);
  };
  for (let l = 0; l < c.nLayer; l++) {
    const p = layerPrefix(l);
    for (const ln of ["input_layernorm", "post_attention_layernorm"]) {
      shapes.set(`${p}${ln}.weight`, [D]);
      shapes.set(`${p}${ln}.bias`, [D]);
    }
    linearShapes(`${p}attention.query_key_value`, 3 * D, D, c.bias);
    linearShapes(`${p}attention.dense`, D, D, c.bias);
    linearShapes(`${p}mlp.dense_h_to_4h`, F, D, true);
    linearShapes(`${p}mlp.dense_4h_to_h`, D, F, true);
  }
  shapes.set("gpt_neox.final_layer_norm.weight", [D]);
  shapes.set("gpt_neox.final_layer_norm.bias", [D]);
  return c.tied ? { shapes } : withUntiedHead({ shapes }, "embed_out.weight", [c.vocabSize, D]);
}

export class NeoxModel implements FamilyModel {
  readonly hookNames;
  private readonly setup: ForwardSetup;

  private constructor(
    readonly config: NeoxConfig,
    private readonly embed: tf.Tensor2D, // [V, D]
    private readonly blocks: NeoxBlock[],
    private readonly lnF: Norm,
    private readonly headT: tf.Tensor2D, // [D, V]; the embedding's transpose when tied
  ) {
    this.setup = forwardSetup(config);
    this.hookNames = this.setup.hookNames;
  }

  /** Uploads host weights (named and shaped as neoxWeightSpec says). */
  static fromHost(config: NeoxConfig, host: Map<string, HostTensor>): NeoxModel {
    const get = (n: string) => host.get(n)!;
    const lin = (n: string): Linear => ({
      wT: uploadT(get(`${n}.weight`)),
      b: host.has(`${n}.bias`) ? upload(get(`${n}.bias`)) : undefined,
    });
    const norm = (n: string): Norm => ({
      g: upload(get(`${n}.weight`)),
      b: upload(get(`${n}.bias`)),
    });
    const blocks = Array.from({ length: config.nLayer }, (_, l): NeoxBlock => {
      const p = layerPrefix(l);
      return {
        ln1: norm(`${p}input_layernorm`),
        qkv: lin(`${p}attention.query_key_value`),
        dense: lin(`${p}attention.dense`),
        ln2: norm(`${p}post_attention_layernorm`),
        up: lin(`${p}mlp.dense_h_to_4h`),
        down: lin(`${p}mlp.dense_4h_to_h`),
      };
    });
    const headT = uploadT(get(config.tied ? "gpt_neox.embed_in.weight" : "embed_out.weight"));
    const embed = upload<tf.Rank.R2>(get("gpt_neox.embed_in.weight"));
    return new NeoxModel(config, embed, blocks, norm("gpt_neox.final_layer_norm"), headT);
  }

  forward(args: ForwardArgs): FamilyForward {
    const c = this.config;
    const { nHead: H, headDim: E } = c;
    return runForward(this.setup, args, ({ B, T, hook, tables }) => {
      let resid = hook("hook_embed", embedTokens(this.embed, args.inputIds)); // [B, T, D]
      for (const [l, w] of this.blocks.entries()) {
        const n = `blocks.${l}.` as const;
        resid = hook(`${n}hook_resid_pre`, resid);
        const x = hook(`${n}ln1.hook_normalized`, layerNorm(resid, w.ln1.g, w.ln1.b, c.eps));
        const qkv = linear(x, w.qkv.wT, w.qkv.b).reshape([B, T, H, 3, E]); // per-head layout
        const part = (i: number) =>
          qkv.slice([0, 0, 0, i, 0], [B, T, H, 1, E]).reshape([B, T, H, E]) as tf.Tensor4D;
        const z = rotaryAttention({ layer: l, q: part(0), k: part(1), v: part(2), tables, hook });
        const attnOut = hook(`${n}hook_attn_out`, linear(z, w.dense.wT, w.dense.b)); // [B, T, D]
        // parallel: the MLP reads the block's input; sequential: the residual after attention
        const mlpIn = c.parallel
          ? resid
          : hook(`${n}hook_resid_mid`, tf.add(resid, attnOut) as tf.Tensor3D);
        const y = hook(`${n}ln2.hook_normalized`, layerNorm(mlpIn, w.ln2.g, w.ln2.b, c.eps));
        const pre = hook(`${n}mlp.hook_pre`, linear(y, w.up.wT, w.up.b)); // [B, T, dMlp]
        const post = hook(`${n}mlp.hook_post`, gelu(pre, c.activation));
        const mlpOut = hook(`${n}hook_mlp_out`, linear(post, w.down.wT, w.down.b));
        const base = c.parallel ? tf.add(resid, attnOut) : mlpIn;
        resid = hook(`${n}hook_resid_post`, tf.add(base, mlpOut) as tf.Tensor3D);
      }
      const lnF = layerNorm(resid, this.lnF.g, this.lnF.b, c.eps);
      const normed = hook("ln_final.hook_normalized", lnF);
      return linear(normed, this.headT); // [B, T, V]
    });
  }

  dispose(): void {
    const ws: tf.Tensor[] = [this.embed, this.lnF.g, this.lnF.b, this.headT];
    for (const b of this.blocks) {
      ws.push(b.ln1.g, b.ln1.b, b.ln2.g, b.ln2.b);
      for (const l of [b.qkv, b.dense, b.up, b.down]) ws.push(l.wT, ...(l.b ? [l.b] : []));
    }
    tf.dispose(ws);
  }
}

/** gelu: exact erf form (Pythia's "gelu"); gelu_new: the tanh approximation. */
function gelu(x: tf.Tensor3D, kind: NeoxConfig["activation"]): tf.Tensor3D {
  if (kind === "gelu") return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
}
