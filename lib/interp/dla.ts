/**
 * Direct logit attribution: how much each component writes the target-minus-foil logit
 * difference straight into the final residual stream, at one position.
 *
 *   const r = await directLogitAttribution(engine, {
 *     prompt: "Ralkrok Stennos lives in the city of", target: " Parrow", foil: " Belkor" });
 *   r.heads[l][h], r.mlp[l], r.attn_bias[l], r.embed, r.pos_embed, r.ln_final_bias
 *   // sum of all of them = r.total ≈ r.logit_diff (exact up to float32 rounding)
 *
 * The final residual x is a sum of components (token embeddings, GPT-2's position embeddings,
 * each head's z_h · W_O[h] — its rows of the output projection —, each layer's output-projection
 * bias, each MLP's output), in every family (a parallel block adds the same terms). As
 * TransformerLens does, the final norm's scale s is frozen at the clean run's value, so the logit
 * difference is linear in x:
 *   LayerNorm  LN(x) = s·(x − mean x)⊙g + b,  s = 1/√(var x + ε):
 *              LD = Σ_c (v_c − mean v_c)·(s g⊙Δw) + b·Δw
 *   RMSNorm    RMS(x) = s·x⊙g,  s = 1/√(mean x² + ε):   LD = Σ_c v_c·(s g⊙Δw)
 * with Δw = W_U[:, target] − W_U[:, foil] read from the model's own unembedding (tied or not),
 * and (v − mean v)·u = v·(u − mean u): each component is dotted with one (centred) direction.
 */
import * as tf from "@tensorflow/tfjs";
import type { Gpt2Model } from "../model/gpt2";
import { type BlockHook, blockHook } from "../model/hooks";
import { TraceError } from "./spec";
import { promptIds, singleTokenId, type TraceHost, tokenText, tokenTexts } from "./tokens";

export interface DlaSpec {
  prompt: string | number[];
  target: string | number;
  foil: string | number;
  /** Position whose logits are attributed. Default: the last. */
  position?: number;
}

export interface DlaResult {
  input_ids: number[];
  input_tokens: string[];
  position: number;
  target: { id: number; token: string };
  foil: { id: number; token: string };
  /** logit[target] − logit[foil] of the model's own forward pass. */
  logit_diff: number;
  /** [L][H]: z of head h at the position through its rows of W_O. */
  heads: number[][];
  /** [L]: attn.c_proj.bias of each layer. */
  attn_bias: number[];
  /** [L]: hook_mlp_out (c_proj bias included). */
  mlp: number[];
  embed: number;
  /** 0 for rotary families (no learned positions). */
  pos_embed: number;
  /** b·Δw of the final LayerNorm's bias; 0 under RMSNorm (no bias). */
  ln_final_bias: number;
  /** The sum of every term above; equals logit_diff when no intervention breaks the sum. */
  total: number;
  /** s of the final norm at the position (frozen): 1/√(var x + ε), or 1/√(mean x² + ε) for RMS. */
  final_scale: number;
  /** The final norm: LayerNorm (components centred) or RMSNorm (not). */
  final_norm: "layer" | "rms";
  n_layer: number;
  n_head: number;
}

/**
 * Columns of the unembedding [D, V] for these ids, on the host: [ids.length][D]. It reads the
 * model's own head (lm_head, embed_out, or the tied embedding), so untied families are right too.
 */
export async function unembedColumns(model: Gpt2Model, ids: number[]): Promise<Float32Array[]> {
  const D = model.config.dModel;
  const cols = tf.tidy(() =>
    model
      .unembedding()
      .gather(tf.tensor1d(Int32Array.from(ids), "int32"), 1)
      .transpose(),
  ); // [n, D]
  try {
    const d = (await cols.data()) as Float32Array;
    return ids.map((_, i) => d.slice(i * D, (i + 1) * D));
  } finally {
    cols.dispose();
  }
}

/**
 * The final norm's weight and bias (zeros under RMSNorm) on the host, and how it scales x at the
 * position, frozen: LayerNorm s = 1/√(var x + ε) and the component is centred first; RMSNorm
 * s = 1/√(mean x² + ε), no centring.
 */
async function frozenNorm(model: Gpt2Model, x: Float32Array) {
  const norm = model.finalNorm();
  const D = x.length;
  const g = (await norm.weight.data()) as Float32Array;
  const b = norm.bias ? ((await norm.bias.data()) as Float32Array) : new Float32Array(D);
  const mean = x.reduce((a, v) => a + v, 0) / D;
  const centre = norm.kind === "layer";
  const spread = x.reduce((a, v) => a + (centre ? v - mean : v) ** 2, 0) / D;
  return { kind: norm.kind, g, b, centre, s: 1 / Math.sqrt(spread + norm.eps) };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>, from = 0) => {
  let s = 0;
  for (let i = 0; i < b.length; i++) s += a[from + i] * b[i];
  return s;
};

export async function directLogitAttribution(host: TraceHost, spec: DlaSpec): Promise<DlaResult> {
  const { model } = host;
  const { nLayer: L, nHead: H, dModel: D, nCtx } = model.config;
  const { E } = model.spec; // head width (rotary families may set head_dim ≠ D / H)
  const HE = H * E;
  const ids = promptIds(host, spec.prompt);
  const T = ids.length;
  if (T > nCtx)
    throw new TraceError("too_long", `the prompt has ${T} tokens; the model's context is ${nCtx}`);
  const pos = spec.position ?? T - 1;
  if (!Number.isInteger(pos) || pos < 0 || pos >= T)
    throw new TraceError("bad_spec", `position ${pos} is outside the prompt's 0 to ${T - 1}`);
  const target = singleTokenId(host, ids, spec.target, "target");
  const foil = singleTokenId(host, ids, spec.foil, "foil");
  if (target === foil)
    throw new TraceError("bad_target", "the target and the foil are the same token");

  const [wT, wF] = await unembedColumns(model, [target, foil]);
  const dw = Float64Array.from({ length: D }, (_, i) => wT[i] - wF[i]);

  const layerHooks = (h: BlockHook) => Array.from({ length: L }, (_, l) => blockHook(l, h));
  const final = blockHook(L - 1, "hook_resid_post");
  const positional = model.hookNames.includes("hook_pos_embed"); // GPT-2; rotary models have none
  const record = [
    "hook_embed",
    ...(positional ? ["hook_pos_embed"] : []),
    ...layerHooks("attn.hook_z"),
    ...layerHooks("hook_mlp_out"),
    final,
  ];
  const { logits, activations } = model.forward({
    inputIds: [ids],
    record,
    logitPositions: [pos],
  });
  const at = async (hook: string, width: number) => {
    const t = tf.tidy(() => {
      const a = activations.get(hook)!;
      return a.reshape([T, width]).slice([pos, 0], [1, width]); // [1, width]
    });
    try {
      return (await t.data()) as Float32Array;
    } finally {
      t.dispose();
    }
  };
  try {
    const lg = await logits.data(); // [1, 1, V]
    const logitDiff = lg[target] - lg[foil];
    const { kind, g, b, centre, s } = await frozenNorm(model, await at(final, D));
    // the direction u = s·g⊙Δw, centred (u − mean u) under LayerNorm
    const u = g.map((gi, i) => s * gi * dw[i]);
    const uMean = centre ? u.reduce((a, v) => a + v, 0) / D : 0;
    const uc = Float32Array.from(u, (v) => v - uMean);

    // W_O[l] @ uc for every layer, on the device: [L, H·E] (block h·E … (h+1)·E is head h's)
    const ucT = tf.tensor2d(uc, [D, 1]);
    const projected = tf.tidy(() =>
      tf.concat(
        Array.from({ length: L }, (_, l) =>
          tf.matMul(model.blockWeight(l, "wO") as tf.Tensor2D, ucT).reshape([1, HE]),
        ),
      ),
    ); // [L, H·E]
    const biases = tf.tidy(() =>
      tf.stack(Array.from({ length: L }, (_, l) => model.blockWeight(l, "bO"))),
    ); // [L, D]
    ucT.dispose();
    const [proj, bO] = await Promise.all([projected.data(), biases.data()]).finally(() =>
      tf.dispose([projected, biases]),
    );
    const heads: number[][] = [];
    const mlp: number[] = [];
    const attnBias: number[] = [];
    for (let l = 0; l < L; l++) {
      const z = await at(blockHook(l, "attn.hook_z"), HE); // [H·E] at the position
      const row: number[] = [];
      for (let h = 0; h < H; h++) {
        row.push(dot(proj, z.subarray(h * E, (h + 1) * E), l * HE + h * E));
      }
      heads.push(row);
      attnBias.push(dot(bO, uc, l * D));
      mlp.push(dot(await at(blockHook(l, "hook_mlp_out"), D), uc));
    }
    const embed = dot(await at("hook_embed", D), uc);
    const posEmbed = positional ? dot(await at("hook_pos_embed", D), uc) : 0;
    const lnBias = dot(b, dw);
    const sum = (a: number[]) => a.reduce((p, v) => p + v, 0);
    const total = sum(heads.map(sum)) + sum(attnBias) + sum(mlp) + embed + posEmbed + lnBias;
    return {
      input_ids: ids,
      input_tokens: tokenTexts(host, ids),
      position: pos,
      target: { id: target, token: tokenText(host, target) },
      foil: { id: foil, token: tokenText(host, foil) },
      logit_diff: logitDiff,
      heads,
      attn_bias: attnBias,
      mlp,
      embed,
      pos_embed: posEmbed,
      ln_final_bias: lnBias,
      total,
      final_scale: s,
      final_norm: kind,
      n_layer: L,
      n_head: H,
    };
  } finally {
    tf.dispose([logits, ...activations.values()]);
  }
}
