/**
 * An edited model as an HF GPT-2 checkpoint (config.json + model.safetensors + tokenizer.json),
 * for use in other tools. The weight patches of the stack's folded plan (lib/edit/plan.ts) are
 * applied to a host copy of the weights, in float64 arithmetic rounded to float32:
 *   rank_one   mlp.c_proj.weight += u vᵀ            (ROME)
 *   heads      attn.c_proj.weight rows of head h × s_h; attn.c_proj.bias += Σ_h a_h · W_O[rows h]
 *   bias       mlp.c_proj.bias or attn.c_proj.bias += vec
 *   low_rank   mlp.c_fc.weight or mlp.c_proj.weight += s·A·B   (LoRA)
 * Edits that are not weight changes (interventions at the last or given positions, and
 * resid_pre of layer 0) are listed so the caller can say so; they are not in the checkpoint.
 * The input weights are not changed.
 */
import type { Gpt2Config, Gpt2Weights, HostTensor } from "../load/types";
import { addLowRank } from "./lora-site";
import { planEdits, type WeightPatch } from "./plan";
import { describeEdit, type Edit } from "./types";

export interface EditedCheckpoint {
  /** HF tensor names (transformer.*) → float32 data, in the loader's order. */
  tensors: Map<string, HostTensor>;
  /** Indexes (into the enabled edits) written as weight changes. */
  weightEdits: number[];
  /** Enabled edits that are not weight changes, with why. */
  notWeightEdits: { index: number; edit: string; reason: string }[];
}

function copy(t: HostTensor): HostTensor {
  return { shape: [...t.shape], data: Float32Array.from(t.data) };
}

type HostBlock = Gpt2Weights["blocks"][number];

/** One weight patch applied to host copies of the block's changed weights. */
function applyPatch(blk: HostBlock, p: WeightPatch, config: Gpt2Config): void {
  const { dModel: D, nHead: H } = config;
  const E = D / H;
  if (p.type === "low_rank") {
    addLowRank((p.name === "wIn" ? blk.mlpIn.w : blk.mlpOut.w).data, p);
  } else if (p.type === "rank_one") {
    const W = blk.mlpOut.w.data; // [M, D]
    const M = p.u.length;
    for (let i = 0; i < M; i++) {
      const ui = p.u[i];
      if (ui === 0) continue;
      for (let j = 0; j < D; j++) W[i * D + j] = W[i * D + j] + ui * p.v[j];
    }
  } else if (p.type === "bias") {
    const b = (p.name === "bOut" ? blk.mlpOut.b : blk.attnOut.b).data;
    for (let j = 0; j < D; j++) b[j] += p.vec[j];
  } else {
    const W = blk.attnOut.w.data; // [D, D]: rows = the heads' z, in head order
    const b = blk.attnOut.b.data;
    const shift = new Float64Array(D);
    for (let h = 0; h < H; h++) {
      const a = p.add[h];
      if (!a) continue;
      for (let e = 0; e < E; e++) {
        const row = (h * E + e) * D;
        for (let j = 0; j < D; j++) shift[j] += a[e] * W[row + j];
      }
    }
    for (let j = 0; j < D; j++) b[j] += shift[j];
    for (let h = 0; h < H; h++) {
      const s = p.scale[h];
      if (s === 1) continue;
      for (let r = h * E * D; r < (h + 1) * E * D; r++) W[r] *= s;
    }
  }
}

/** The HF tensor names (transformer.*) of the weights, in the loader's order. */
function hfTensors(weights: Gpt2Weights, blocks: readonly HostBlock[]): Map<string, HostTensor> {
  const tensors = new Map<string, HostTensor>();
  tensors.set("transformer.wte.weight", weights.wte);
  tensors.set("transformer.wpe.weight", weights.wpe);
  blocks.forEach((b, l) => {
    const h = `transformer.h.${l}.`;
    tensors.set(`${h}ln_1.weight`, b.ln1.g);
    tensors.set(`${h}ln_1.bias`, b.ln1.b);
    tensors.set(`${h}attn.c_attn.weight`, b.attnQkv.w);
    tensors.set(`${h}attn.c_attn.bias`, b.attnQkv.b);
    tensors.set(`${h}attn.c_proj.weight`, b.attnOut.w);
    tensors.set(`${h}attn.c_proj.bias`, b.attnOut.b);
    tensors.set(`${h}ln_2.weight`, b.ln2.g);
    tensors.set(`${h}ln_2.bias`, b.ln2.b);
    tensors.set(`${h}mlp.c_fc.weight`, b.mlpIn.w);
    tensors.set(`${h}mlp.c_fc.bias`, b.mlpIn.b);
    tensors.set(`${h}mlp.c_proj.weight`, b.mlpOut.w);
    tensors.set(`${h}mlp.c_proj.bias`, b.mlpOut.b);
  });
  tensors.set("transformer.ln_f.weight", weights.lnF.g);
  tensors.set("transformer.ln_f.bias", weights.lnF.b);
  return tensors;
}

/** Why an enabled edit kept as an intervention is not in the checkpoint. */
function notWeightReason(e: Edit): string {
  const pos = "position" in e.site ? e.site.position : undefined;
  if (e.kind === "loreft") {
    return "a LoReFT edit is an intervention on activations, h + Rᵀ(Wh + b − Rh) at one position per prompt, not a weight change: it cannot be saved into an HF checkpoint (keep the edit file, --out)";
  }
  if (pos === "all") return "shares a site with an edit that is not at every position";
  if (e.kind === "resid_steer" && e.site.hook === "resid_pre" && e.site.layer === 0) {
    return "steering the input embeddings has no bias to fold into";
  }
  return `acts at ${pos === undefined || pos === "last" ? "the last position" : "given positions"} only, which no weight can express`;
}

export function editedCheckpoint(
  config: Gpt2Config,
  weights: Gpt2Weights,
  edits: readonly Edit[],
): EditedCheckpoint {
  const plan = planEdits(edits, config, { fold: true });
  const blocks: HostBlock[] = weights.blocks.map((b) => ({
    ln1: { g: b.ln1.g, b: b.ln1.b },
    attnQkv: b.attnQkv,
    attnOut: { w: copy(b.attnOut.w), b: copy(b.attnOut.b) },
    ln2: b.ln2,
    mlpIn: { w: copy(b.mlpIn.w), b: b.mlpIn.b },
    mlpOut: { w: copy(b.mlpOut.w), b: copy(b.mlpOut.b) },
  }));
  for (const p of plan.patches) applyPatch(blocks[p.layer], p, config);

  const keptEdits = new Set(plan.maps.map((m) => m.edit));
  const weightEdits: number[] = [];
  const notWeightEdits: EditedCheckpoint["notWeightEdits"] = [];
  plan.edits.forEach((e, i) => {
    if (e.kind === "rome" || e.kind === "lora" || !keptEdits.has(i)) weightEdits.push(i);
    else notWeightEdits.push({ index: i, edit: describeEdit(e), reason: notWeightReason(e) });
  });
  return { tensors: hfTensors(weights, blocks), weightEdits, notWeightEdits };
}

/** Serialises float32 tensors as a safetensors file (header padded to 8 bytes). */
export function writeSafetensors(
  tensors: Map<string, HostTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = t.data.length * 4;
    header[name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + new TextEncoder().encode(json).length) % 8 !== 0) json += " ";
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.length * 4), p);
    p += t.data.length * 4;
  }
  return out;
}
