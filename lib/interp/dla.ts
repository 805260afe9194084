/**
 * Direct logit attribution: how much each component writes the target-minus-foil logit
 * difference straight into the final residual stream, at one position.
 *
 *   const r = await directLogitAttribution(engine, {
 *     prompt: "Ralkrok Stennos lives in the city of", target: " Parrow", foil: " Belkor" });
 *   r.heads[l][h], r.mlp[l], r.attn_bias[l], r.embed, r.pos_embed, r.ln_final_bias
 *   // sum of all of them = r.total ≈ r.logit_diff (exact up to float32 rounding)
 *
 * The final residual x is a sum of components (token and position embeddings, each head's
 * z_h · W_O[h] — its slice of attn.c_proj —, each layer's c_proj bias, each MLP's output). The
 * final LayerNorm is LN(x) = s·(x − mean x)⊙g + b with s = 1/√(var x + ε); as TransformerLens
 * does, s is frozen at the clean run's value, so the logit difference is linear in x:
 *   LD = Σ_c (v_c − mean v_c)·(s g⊙Δw) + b·Δw,   Δw = W_U[:, target] − W_U[:, foil]
 * and (v − mean v)·u = v·(u − mean u): each component is dotted with one centred direction.
 */
import * as tf from "@tensorflow/tfjs";
import type { Gpt2Model } from "../model/gpt2";
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
  pos_embed: number;
  /** b·Δw of the final LayerNorm's bias. */
  ln_final_bias: number;
  /** The sum of every term above; equals logit_diff when no intervention breaks the sum. */
  total: number;
  /** s = 1/√(var x + ε) of the final residual at the position (frozen). */
  final_scale: number;
  n_layer: number;
  n_head: number;
}

/**
 * The final LayerNorm's g and b, recovered through the public unembed: for a probe r with every
 * centred entry non-zero, LN(±r) = ±c⊙g + b with c = (r − mean r)/√(var r + ε) known, so
 * g = (LN(r) − LN(−r)) / 2c and b = (LN(r) + LN(−r)) / 2. (Gpt2Model keeps ln_f private.)
 */
export async function finalNorm(model: Gpt2Model): Promise<{ g: Float64Array; b: Float64Array }> {
  const { dModel: D, layerNormEps: eps } = model.config;
  const r = Float64Array.from({ length: D }, (_, i) => (i % 2 === 0 ? 1 : -1));
  const mean = r.reduce((a, x) => a + x, 0) / D;
  const varR = r.reduce((a, x) => a + (x - mean) ** 2, 0) / D;
  const c = r.map((x) => (x - mean) / Math.sqrt(varR + eps));
  const probe = tf.tensor3d(Float32Array.from([...r, ...r.map((x) => -x)]), [1, 2, D]); // [1, 2, D]
  const u = model.unembed(probe, [0], {
    hooks: model.hooks({ record: ["ln_final.hook_normalized"] }),
  });
  try {
    const n = await u.activations.get("ln_final.hook_normalized")!.data(); // [1, 2, D]
    const g = Float64Array.from({ length: D }, (_, i) => (n[i] - n[D + i]) / (2 * c[i]));
    const b = Float64Array.from({ length: D }, (_, i) => (n[i] + n[D + i]) / 2);
    return { g, b };
  } finally {
    tf.dispose([probe, u.logits, ...u.activations.values()]);
  }
}

/**
 * DLA and attribution patching read the final LayerNorm (centring, bias) and the unembedding
 * through the tied token embedding: GPT-2's layout. Other families (RMSNorm, untied heads) would
 * get silently wrong numbers, so they are refused until these read their own norm and head.
 */
export function requireGpt2Layout(model: Gpt2Model, what: string): void {
  const type = model.config.modelType;
  if (type !== "gpt2") {
    throw new TraceError(
      "bad_spec",
      `${what} supports GPT-2-family models so far (LayerNorm, tied unembedding); this model is ${type}`,
    );
  }
}

/** Rows of the tied unembedding (= token embeddings) for these ids: [ids.length][D]. */
export async function unembedRows(model: Gpt2Model, ids: number[]): Promise<Float32Array[]> {
  const D = model.config.dModel;
  const e = model.embed([ids], { hooks: model.hooks({ record: ["hook_embed"] }) });
  try {
    const d = (await e.activations.get("hook_embed")!.data()) as Float32Array; // [1, n, D]
    return ids.map((_, i) => d.slice(i * D, (i + 1) * D));
  } finally {
    tf.dispose([e.resid, ...e.activations.values()]);
  }
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>, from = 0) => {
  let s = 0;
  for (let i = 0; i < b.length; i++) s += a[from + i] * b[i];
  return s;
};

export async function directLogitAttribution(host: TraceHost, spec: DlaSpec): Promise<DlaResult> {
  const { model } = host;
  requireGpt2Layout(model, "direct logit attribution");
  const { nLayer: L, nHead: H, dModel: D, nCtx, layerNormEps: eps } = model.config;
  const E = D / H;
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

  const { g, b } = await finalNorm(model);
  const [wT, wF] = await unembedRows(model, [target, foil]);
  const dw = Float64Array.from({ length: D }, (_, i) => wT[i] - wF[i]);

  const layerHooks = (h: string) => Array.from({ length: L }, (_, l) => `blocks.${l}.${h}`);
  const final = `blocks.${L - 1}.hook_resid_post`;
  const record = [
    "hook_embed",
    "hook_pos_embed",
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
    const x = await at(final, D);
    const mean = x.reduce((a, v) => a + v, 0) / D;
    const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / D;
    const s = 1 / Math.sqrt(variance + eps);
    // the centred direction u − mean u, u = s·g⊙Δw
    const u = g.map((gi, i) => s * gi * dw[i]);
    const uMean = u.reduce((a, v) => a + v, 0) / D;
    const uc = Float32Array.from(u, (v) => v - uMean);

    // W_O[l] @ uc for every layer, on the device: [L, D] (row block h·E … (h+1)·E is head h's)
    const ucT = tf.tensor2d(uc, [D, 1]);
    const projected = tf.tidy(() =>
      tf.concat(
        Array.from({ length: L }, (_, l) =>
          tf.matMul(model.blockWeight(l, "wO") as tf.Tensor2D, ucT).reshape([1, D]),
        ),
      ),
    ); // [L, D]
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
      const z = await at(`blocks.${l}.attn.hook_z`, D); // [H·E] at the position
      const row: number[] = [];
      for (let h = 0; h < H; h++) {
        row.push(dot(proj, z.subarray(h * E, (h + 1) * E), l * D + h * E));
      }
      heads.push(row);
      attnBias.push(dot(bO, uc, l * D));
      mlp.push(dot(await at(`blocks.${l}.hook_mlp_out`, D), uc));
    }
    const embed = dot(await at("hook_embed", D), uc);
    const posEmbed = dot(await at("hook_pos_embed", D), uc);
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
      n_layer: L,
      n_head: H,
    };
  } finally {
    tf.dispose([logits, ...activations.values()]);
  }
}
