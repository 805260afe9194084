/**
 * An edited model as a checkpoint of its own family (config.json + model.safetensors +
 * tokenizer.json), for use in other tools: the hub tensor names and layouts the model was read
 * with (GPT-2 transformer.*, Conv1D [In, Out]; Llama model.layers.*, NeoX gpt_neox.layers.*,
 * nn.Linear [Out, In]; lib/edit/family-sites.ts). The weight patches of the stack's folded plan
 * (lib/edit/plan.ts) are applied to host copies of the changed tensors, in float64 arithmetic
 * rounded to float32, each written through the family's layout (ΔW [In, Out] at runtime is ΔWᵀ
 * on an nn.Linear tensor):
 *   rank_one   down-projection += u vᵀ                                  (ROME)
 *   heads      attention output: head h's rows (GPT-2) / columns (nn.Linear) × s_h;
 *              its bias += Σ_h a_h · W_O[head h]
 *   bias       MLP or attention output bias += vec
 *   low_rank   the factor's weight += s·A·B                             (LoRA, MEMIT)
 * Edits that are not weight changes (interventions at the last or given positions, LoReFT,
 * resid_pre of layer 0, and a fold that needs a bias the family lacks: Llama's down_proj,
 * Llama / Qwen2's o_proj) are listed with why. Every tensor is written as F32: a rank-one update
 * can be smaller than BF16's resolution (checkpointNotes says so). The input weights are not
 * changed.
 */
import type { Gpt2Config, Gpt2Weights, HostTensor } from "../load/types";
import {
  type AnyModelConfig,
  editDims,
  familyLabel,
  hubCells,
  missingFoldBias,
  roleName,
  type WeightRole,
} from "./family-sites";
import { lowRankDelta } from "./lora-site";
import { planEdits, siteMaps, type WeightPatch } from "./plan";
import { describeEdit, type Edit, EditError } from "./types";

export interface EditedCheckpoint {
  /** Hub tensor names → float32 data, in the order the model's weights came in. */
  tensors: Map<string, HostTensor>;
  /** Indexes (into the enabled edits) written as weight changes. */
  weightEdits: number[];
  /** Enabled edits that are not weight changes, with why. */
  notWeightEdits: { index: number; edit: string; reason: string }[];
}

/** A model's host weights: GPT-2's structured form, or any family's tensors by hub name. */
export type CheckpointWeights = Gpt2Weights | { hub: Map<string, HostTensor> };

/** GPT-2's weights by their HF names (transformer.*), in the loader's order. */
function gpt2HubTensors(weights: Gpt2Weights): Map<string, HostTensor> {
  const tensors = new Map<string, HostTensor>();
  tensors.set("transformer.wte.weight", weights.wte);
  tensors.set("transformer.wpe.weight", weights.wpe);
  weights.blocks.forEach((b, l) => {
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

/** A role's runtime [In, Out] elements, read and written where they live in the hub tensors. */
interface RoleCells {
  get(i: number, j: number): number;
  set(i: number, j: number, x: number): void;
}

/** Copy-on-write access to the hub tensors a plan changes. */
class HubEditor {
  readonly tensors: Map<string, HostTensor>;
  private readonly copied = new Set<string>();

  constructor(
    private readonly config: AnyModelConfig,
    source: Map<string, HostTensor>,
  ) {
    this.tensors = new Map(source);
  }

  /** The role's elements in private copies of its hub tensors. */
  role(layer: number, role: WeightRole): RoleCells {
    const cells = hubCells(this.config, layer, role);
    if (!cells) {
      throw new EditError(
        "bad_edit",
        `a ${familyLabel(this.config)} checkpoint has no ${roleName(this.config, layer, role)} to write this edit into`,
      );
    }
    const data = cells.tensors.map(({ name, size }) => {
      const t = this.tensors.get(name);
      if (!t || t.data.length !== size) {
        throw new EditError(
          "bad_edit",
          `the checkpoint's ${name} is ${t ? `[${t.shape.join(", ")}]` : "missing"}, not the ${size} numbers the config implies`,
        );
      }
      if (!this.copied.has(name)) {
        this.tensors.set(name, { shape: [...t.shape], data: Float32Array.from(t.data) });
        this.copied.add(name);
      }
      return this.tensors.get(name)!.data;
    });
    return {
      get: (i, j) => {
        const [k, idx] = cells.at(i, j);
        return data[k][idx];
      },
      set: (i, j, x) => {
        const [k, idx] = cells.at(i, j);
        data[k][idx] = x;
      },
    };
  }

  apply(p: WeightPatch): void {
    const { dModel: D, headDim: E } = editDims(this.config);
    if (p.type === "low_rank") {
      const W = this.role(p.layer, p.name);
      lowRankDelta(p, (i, j, x) => W.set(i, j, W.get(i, j) + x));
    } else if (p.type === "rank_one") {
      const W = this.role(p.layer, "wOut"); // runtime [M, D]
      p.u.forEach((ui, i) => {
        if (ui !== 0) for (let j = 0; j < D; j++) W.set(i, j, W.get(i, j) + ui * p.v[j]);
      });
    } else if (p.type === "bias") {
      const b = this.role(p.layer, p.name);
      for (let j = 0; j < D; j++) b.set(0, j, b.get(0, j) + p.vec[j]);
    } else {
      const W = this.role(p.layer, "wO"); // runtime [H·E, D]: head h's rows
      const shift = new Float64Array(D);
      let anyAdd = false;
      p.add.forEach((a, h) => {
        if (!a) return;
        anyAdd = true;
        for (let e = 0; e < E; e++)
          for (let j = 0; j < D; j++) shift[j] += a[e] * W.get(h * E + e, j);
      });
      if (anyAdd) {
        const b = this.role(p.layer, "bO");
        for (let j = 0; j < D; j++) b.set(0, j, b.get(0, j) + shift[j]);
      }
      p.scale.forEach((s, h) => {
        if (s === 1) return;
        for (let r = h * E; r < (h + 1) * E; r++)
          for (let j = 0; j < D; j++) W.set(r, j, W.get(r, j) * s);
      });
    }
  }
}

/** Why an enabled edit kept as an intervention is not in the checkpoint. */
function notWeightReason(e: Edit, config: AnyModelConfig): string {
  if (e.kind === "swea") {
    return "a SWEA edit adds offsets to the subject's token embeddings wherever its tokens occur in the input, a lookup that no weight can express: it cannot be saved into a checkpoint (keep the edit file, --out)";
  }
  const pos = "position" in e.site ? e.site.position : undefined;
  if (e.kind === "loreft") {
    return "a LoReFT edit is an intervention on activations, h + Rᵀ(Wh + b − Rh) at one position per prompt, not a weight change: it cannot be saved into a checkpoint (keep the edit file, --out)";
  }
  if (pos === "all") {
    for (const m of siteMaps(e, 0)) {
      const missing = missingFoldBias(config, m.hook, m.add !== null);
      if (missing) {
        return `adds a vector at every position, which needs a bias to fold into, and a ${familyLabel(config)} checkpoint has no ${missing} (keep the edit file, --out)`;
      }
    }
    return "shares a site with an edit that is not at every position";
  }
  if (e.kind === "resid_steer" && e.site.hook === "resid_pre" && e.site.layer === 0) {
    return "steering the input embeddings has no bias to fold into";
  }
  return `acts at ${pos === undefined || pos === "last" ? "the last position" : "given positions"} only, which no weight can express`;
}

export function editedCheckpoint(
  config: Gpt2Config,
  weights: CheckpointWeights,
  edits: readonly Edit[],
): EditedCheckpoint {
  const plan = planEdits(edits, config, { fold: true });
  const source = "hub" in weights ? weights.hub : gpt2HubTensors(weights);
  const editor = new HubEditor(config, source);
  for (const p of plan.patches) editor.apply(p);

  const keptEdits = new Set(plan.maps.map((m) => m.edit));
  const weightEdits: number[] = [];
  const notWeightEdits: EditedCheckpoint["notWeightEdits"] = [];
  plan.edits.forEach((e, i) => {
    if (!keptEdits.has(i)) weightEdits.push(i);
    else
      notWeightEdits.push({ index: i, edit: describeEdit(e), reason: notWeightReason(e, config) });
  });
  return { tensors: editor.tensors, weightEdits, notWeightEdits };
}

/**
 * What to tell the user about the saved file's dtype: the checkpoint's config.json says
 * torch_dtype (or transformers 5's dtype) bfloat16 or float16, and the saved tensors are F32.
 */
export function checkpointNotes(configJson: unknown): string[] {
  const c = (configJson ?? {}) as Record<string, unknown>;
  const dtype = c.torch_dtype ?? c.dtype;
  if (dtype !== "bfloat16" && dtype !== "float16") return [];
  return [
    `the checkpoint's weights are ${dtype}; the edited checkpoint is written as float32 (F32), because an edit such as ROME's rank-one update can be smaller than ${dtype}'s resolution and rounding would undo it; config.json's torch_dtype says float32`,
  ];
}

/** config.json for the saved checkpoint: the same, with the dtype fields saying float32. */
export function editedConfigJson(configJson: unknown): Record<string, unknown> {
  const c = { ...(configJson as Record<string, unknown>) };
  if ("torch_dtype" in c) c.torch_dtype = "float32";
  if ("dtype" in c) c.dtype = "float32";
  return c;
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
