/**
 * Where each family keeps the weights that edits change: one table, read by the edit plan's
 * checks (lib/edit/plan.ts via lora-site / heads), the device view (apply.ts), `edit --save`
 * (checkpoint.ts) and the Python export (lib/export/python*.ts).
 *
 * Runtime layout (every family, docs/families.md): a linear layer is y = x @ W + b with W
 * [In, Out] (GPT-2's Conv1D layout). Hub layout: GPT-2 stores Conv1D weights as they are
 * ("conv1d"); Llama / Qwen2 / Mistral and GPT-NeoX store nn.Linear weights [Out, In]
 * ("linear"), so a runtime change ΔW [In, Out] is ΔWᵀ on the hub tensor: ROME's u vᵀ
 * (u [M], v [D]) becomes down_proj.weight += v uᵀ, and head h's rows h·E…(h+1)·E of the runtime
 * W_O are columns of o_proj.weight [D, H·E].
 *
 * Roles are the runtime names of a block's weights (lib/model/gpt2-types.ts BlockWeightName:
 * a gated MLP's gate_proj is wIn and its up_proj wUp); a bias the checkpoint lacks (Llama's
 * down_proj, Llama / Qwen2's o_proj) is held as zeros at runtime but has no hub tensor, so
 * hubSite says null and every caller refuses or routes around it by name.
 */
import { type Family, familyOf } from "../load/model-config";
import type { LoraModule } from "./types-trained";

export type EditFamily = Family;
export { familyOf };

/**
 * What edits read of a model's config (lib/load/model-config.ts ModelConfig, every family;
 * written structurally so GPT-2's config fits as it is): absent fields take GPT-2's values.
 */
export interface AnyModelConfig {
  modelType: string;
  nLayer: number;
  nHead: number;
  dModel: number;
  dMlp: number;
  nKvHead?: number;
  headDim?: number;
  parallelResidual?: boolean;
  /** The attention output projection has a bias (GPT-2, NeoX by default; llama attention_bias). */
  oBias?: boolean;
}

/** The block weights edits change (a subset of BlockWeightName). */
export type WeightRole =
  | "wOut" // MLP down-projection [M, D] (ROME, MEMIT, LoRA "c_proj")
  | "bOut" // its bias [D]
  | "wO" // attention output [H·E, D]: rows h·E…(h+1)·E are head h's
  | "bO" // its bias [D]
  | "wIn" // MLP input [D, M] (c_fc, dense_h_to_4h; a gated MLP's gate_proj)
  | "wUp" // a gated MLP's up_proj [D, M]
  | "wQkv"; // q | k | v side by side [D, (H + 2·Hkv)·E] (c_attn; q/k/v_proj; query_key_value reordered)

export interface HubSite {
  /** The hub tensor name, e.g. "model.layers.3.mlp.down_proj.weight". */
  name: string;
  /** "conv1d": the hub tensor is [In, Out] as at runtime; "linear": [Out, In]. */
  layout: "conv1d" | "linear";
  /** Runtime shape [In, Out] (a bias: [1, Out]). */
  rows: number;
  cols: number;
}

/** The sizes edits are checked against; E is head_dim (Llama may set it ≠ D / H). */
export interface EditDims {
  family: EditFamily;
  nLayer: number;
  nHead: number;
  nKvHead: number;
  dModel: number;
  dMlp: number;
  headDim: number;
}

export function editDims(c: AnyModelConfig): EditDims {
  const family = familyOf(c);
  const headDim = c.headDim ?? c.dModel / c.nHead;
  const nKvHead = c.nKvHead ?? c.nHead;
  const { nLayer, nHead, dModel, dMlp } = c;
  return { family, nLayer, nHead, nKvHead, dModel, dMlp, headDim };
}

/** Whether the checkpoint has an attention output bias (absent field: GPT-2 and NeoX do). */
const hasOBias = (c: AnyModelConfig) => c.oBias ?? familyOf(c) !== "llama";

const FAMILY_NAMES: Record<EditFamily, string> = {
  gpt2: "GPT-2",
  llama: "Llama-family",
  gpt_neox: "GPT-NeoX",
};

/** "a Llama-family (qwen2) model": for messages. */
export function familyLabel(c: AnyModelConfig): string {
  const f = familyOf(c);
  const sub = c.modelType !== f ? ` (${c.modelType})` : "";
  return `${FAMILY_NAMES[f]}${sub}`;
}

/** [hub name suffix, runtime rows, cols, present]; a role the family never has: null. */
type Entry = [suffix: string, rows: number, cols: number, present?: boolean] | null;

/** The hub tensor of a role in layer `layer`, or null when the family has none. */
export function hubSite(c: AnyModelConfig, layer: number, role: WeightRole): HubSite | null {
  const e = siteEntry(c, layer, role);
  return e?.present ? e.site : null;
}

/** The hub name a role has, or would have, e.g. for "Llama has no model.layers.0.mlp.down_proj.bias". */
export function roleName(c: AnyModelConfig, layer: number, role: WeightRole): string {
  return siteEntry(c, layer, role)?.site.name ?? `${role} (not in this family)`;
}

function siteEntry(
  c: AnyModelConfig,
  layer: number,
  role: WeightRole,
): { site: HubSite; present: boolean } | null {
  const d = editDims(c);
  const { dModel: D, dMlp: M, headDim: E, nHead: H } = d;
  const HE = H * E;
  let prefix: string;
  let layout: HubSite["layout"] = "linear";
  let table: Record<WeightRole, Entry>;
  if (d.family === "gpt2") {
    prefix = `transformer.h.${layer}.`;
    layout = "conv1d";
    table = {
      wOut: ["mlp.c_proj.weight", M, D],
      bOut: ["mlp.c_proj.bias", 1, D],
      wO: ["attn.c_proj.weight", D, D],
      bO: ["attn.c_proj.bias", 1, D],
      wIn: ["mlp.c_fc.weight", D, M],
      wUp: null,
      wQkv: ["attn.c_attn.weight", D, 3 * D],
    };
  } else if (d.family === "llama") {
    prefix = `model.layers.${layer}.`;
    table = {
      wOut: ["mlp.down_proj.weight", M, D],
      bOut: ["mlp.down_proj.bias", 1, D, false],
      wO: ["self_attn.o_proj.weight", HE, D],
      bO: ["self_attn.o_proj.bias", 1, D, hasOBias(c)],
      wIn: ["mlp.gate_proj.weight", D, M],
      wUp: ["mlp.up_proj.weight", D, M],
      wQkv: null,
    };
  } else {
    prefix = `gpt_neox.layers.${layer}.`;
    table = {
      wOut: ["mlp.dense_4h_to_h.weight", M, D],
      bOut: ["mlp.dense_4h_to_h.bias", 1, D],
      wO: ["attention.dense.weight", HE, D],
      bO: ["attention.dense.bias", 1, D, hasOBias(c)],
      wIn: ["mlp.dense_h_to_4h.weight", D, M],
      wUp: null,
      wQkv: null, // query_key_value's rows are per head [H, 3, E]: hubCells maps them
    };
  }
  const e = table[role];
  if (!e) return null;
  const isBias = e[1] === 1;
  const site: HubSite = {
    name: prefix + e[0],
    layout: isBias ? "conv1d" : layout,
    rows: e[1],
    cols: e[2],
  };
  return { site, present: e[3] !== false };
}

/**
 * Index into the hub tensor's data of runtime element (i, j) of a [rows, cols] role:
 * "conv1d" is row-major [rows, cols]; "linear" is the transpose, row-major [cols, rows].
 */
export function hubIndex(site: HubSite): (i: number, j: number) => number {
  const { rows, cols } = site;
  return site.layout === "conv1d" ? (i, j) => i * cols + j : (i, j) => j * rows + i;
}

/** Where a role's runtime elements live in the hub: one or more tensors and a cell map. */
export interface HubCells {
  /** Hub tensor names and their element counts. */
  tensors: { name: string; size: number }[];
  /** Runtime element (i, j) of the role's [In, Out] matrix → [tensor (index into tensors), index]. */
  at(i: number, j: number): [number, number];
}

/**
 * The hub cells of a role, or null when the family has no such tensor. Like hubSite, plus the
 * fused q | k | v weight of the rotary families: Llama's three q/k/v_proj tensors ([Out, In]
 * each) side by side, and NeoX's query_key_value, whose rows are per head [H, 3, E] while the
 * runtime's columns are [3, H, E] (docs/families.md).
 */
export function hubCells(c: AnyModelConfig, layer: number, role: WeightRole): HubCells | null {
  const d = editDims(c);
  if (role === "wQkv" && d.family !== "gpt2") {
    const { dModel: D, nHead: H, nKvHead: Hkv, headDim: E } = d;
    const [HE, KE] = [H * E, Hkv * E];
    if (d.family === "llama") {
      const a = `model.layers.${layer}.self_attn.`;
      return {
        tensors: [
          { name: `${a}q_proj.weight`, size: HE * D },
          { name: `${a}k_proj.weight`, size: KE * D },
          { name: `${a}v_proj.weight`, size: KE * D },
        ],
        at: (i, j) =>
          j < HE
            ? [0, j * D + i]
            : j < HE + KE
              ? [1, (j - HE) * D + i]
              : [2, (j - HE - KE) * D + i],
      };
    }
    return {
      tensors: [
        { name: `gpt_neox.layers.${layer}.attention.query_key_value.weight`, size: 3 * HE * D },
      ],
      at: (i, j) => {
        const part = Math.floor(j / HE); // q, k, v
        const h = Math.floor((j % HE) / E);
        return [0, ((h * 3 + part) * E + (j % E)) * D + i];
      },
    };
  }
  const site = hubSite(c, layer, role);
  if (!site) return null;
  const index = hubIndex(site);
  return {
    tensors: [{ name: site.name, size: site.rows * site.cols }],
    at: (i, j) => [0, index(i, j)],
  };
}

// ───────────────────────────── LoRA modules ─────────────────────────────

/** A LoRA module: its role, or a part of the fused q | k | v role. */
type LoraSite = WeightRole | ["wQkv", "q" | "k" | "v"];

/** Each family's LoRA module names (PEFT's target_modules names) and what each changes. */
const LORA_SITES: Record<EditFamily, Partial<Record<LoraModule, LoraSite>>> = {
  gpt2: { c_fc: "wIn", c_proj: "wOut", c_attn: "wQkv", "attn.c_proj": "wO" },
  llama: {
    gate_proj: "wIn",
    up_proj: "wUp",
    down_proj: "wOut",
    q_proj: ["wQkv", "q"],
    k_proj: ["wQkv", "k"],
    v_proj: ["wQkv", "v"],
    o_proj: "wO",
  },
  gpt_neox: {
    dense_h_to_4h: "wIn",
    dense_4h_to_h: "wOut",
    query_key_value: "wQkv",
    dense: "wO",
  },
};

/** GPT-2's MLP names, accepted on every family: c_fc = the MLP's input side, c_proj = its output. */
const LORA_ALIASES: Record<EditFamily, Partial<Record<LoraModule, LoraModule[]>>> = {
  gpt2: {},
  llama: { c_fc: ["gate_proj", "up_proj"], c_proj: ["down_proj"] },
  gpt_neox: { c_fc: ["dense_h_to_4h"], c_proj: ["dense_4h_to_h"] },
};

export class FamilySiteError extends Error {
  override readonly name = "FamilySiteError";
}

/**
 * The family's own module names a LoRA recipe's modules stand for (GPT-2's c_fc on Llama is
 * gate_proj and up_proj). A name the family lacks throws one line naming it and the choices.
 */
export function loraModulesOf(c: AnyModelConfig, modules: readonly LoraModule[]): LoraModule[] {
  const f = familyOf(c);
  const out: LoraModule[] = [];
  for (const m of modules) {
    const names = LORA_ALIASES[f][m] ?? (m in LORA_SITES[f] ? [m] : null);
    if (!names) {
      throw new FamilySiteError(
        `LoRA module ${JSON.stringify(m)} does not exist on a ${familyLabel(c)} model (${Object.keys(LORA_SITES[f]).join(", ")})`,
      );
    }
    for (const n of names) if (!out.includes(n)) out.push(n);
  }
  return out;
}

/**
 * The role of one of the family's own LoRA module names, the module's runtime [In, Out] size,
 * and the role's first column it covers (q, k, v of a fused weight; else 0).
 */
export function loraRole(
  c: AnyModelConfig,
  module: LoraModule,
): { role: WeightRole; rows: number; cols: number; colOffset: number } {
  const f = familyOf(c);
  const site = LORA_SITES[f][module];
  if (!site) {
    throw new FamilySiteError(
      `LoRA module ${JSON.stringify(module)} does not exist on a ${familyLabel(c)} model (${Object.keys(LORA_SITES[f]).join(", ")})`,
    );
  }
  const { dModel: D, nHead: H, nKvHead: Hkv, headDim: E } = editDims(c);
  if (site === "wQkv") return { role: site, rows: D, cols: (H + 2 * Hkv) * E, colOffset: 0 };
  if (Array.isArray(site)) {
    const [HE, KE] = [H * E, Hkv * E];
    const [colOffset, cols] = { q: [0, HE], k: [HE, KE], v: [HE + KE, KE] }[site[1]];
    return { role: "wQkv", rows: D, cols, colOffset };
  }
  const s = hubSite(c, 0, site)!;
  return { role: site, rows: s.rows, cols: s.cols, colOffset: 0 };
}

/** The family's name for the MLP down-projection module (LoRA's default). */
export function downProjModule(c: AnyModelConfig): LoraModule {
  const names: Record<EditFamily, LoraModule> = {
    gpt2: "c_proj",
    llama: "down_proj",
    gpt_neox: "dense_4h_to_h",
  };
  return names[familyOf(c)];
}

// ───────────────────────────── hooks that exist ─────────────────────────────

/**
 * Why a residual hook does not exist in this family's block, or null: a parallel-residual
 * NeoX block (Pythia) has no resid_mid (attention and MLP both read resid_pre).
 */
export function missingResidHook(c: AnyModelConfig, hook: string): string | null {
  if (hook === "resid_mid" && c.parallelResidual) {
    return "hook_resid_mid does not exist in a parallel-residual GPT-NeoX block (use_parallel_residual true: attention and MLP both read resid_pre)";
  }
  return null;
}

/**
 * Whether a site map of lib/edit/plan.ts can be written into this family's weights: the fold
 * adds to a bias (head maps with an add: the attention output's; residual maps: the MLP's or the
 * attention output's), and Llama's down_proj and Llama / Qwen2's o_proj have none.
 * Returns the missing tensor's hub name, or null when the fold is possible.
 */
export function missingFoldBias(c: AnyModelConfig, hook: string, adds: boolean): string | null {
  const z = /^blocks\.(\d+)\.attn\.hook_z$/.exec(hook);
  let need: [number, WeightRole] | null = null;
  if (z) need = adds ? [Number(z[1]), "bO"] : null;
  const r = /^blocks\.(\d+)\.hook_(resid_pre|resid_mid|resid_post)$/.exec(hook);
  if (r) {
    const l = Number(r[1]);
    need = r[2] === "resid_post" ? [l, "bOut"] : r[2] === "resid_mid" ? [l, "bO"] : [l - 1, "bOut"];
  }
  if (!need || need[0] < 0 || hubSite(c, need[0], need[1])) return null;
  return roleName(c, need[0], need[1]);
}
