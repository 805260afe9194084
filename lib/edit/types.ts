/**
 * Edits are data: a plain JSON description of what changes in the model (kind, site, parameters)
 * and of what was learned (a direction, the rank-one factors of a weight delta). The same object
 * is stored in the edit stack, sent to the worker, written into a share URL or an edit file, and
 * applied by lib/edit/apply.ts as interventions or weight deltas, never by changing the loaded
 * weights. docs/edits.md documents the format with an example of every kind.
 *
 * An edit without `learned` is a recipe: lib/edit/learn.ts computes the learned values (ROME's
 * optimisation, a steering direction, an ablation mean) and returns the complete edit.
 *
 * Conventions: layers and heads count from 0; hook names are TransformerLens'; weight layouts are
 * HF GPT-2's Conv1D (y = x @ W + b, mlp.c_proj.weight is [d_mlp, d_model]).
 */
import { CodedError } from "../errors";
import type { SweaEdit } from "./swea-types";
import type { AlphaEditEdit, MemitEdit, PmetEdit } from "./types-batch";
import type { LoraEdit, LoreftEdit } from "./types-trained";

export * from "./swea-types";
export * from "./types-batch";
export * from "./types-trained";

/** 2 since ROME's preserve defaults changed (v1 files are read too: lib/edit/rome-legacy.ts). */
export const EDIT_FORMAT_VERSION = 2;

export const EDIT_KINDS = [
  "rome",
  "head_ablate",
  "head_scale",
  "head_steer",
  "resid_steer",
  "loreft",
  "lora",
  "memit",
  "alphaedit",
  "swea",
  "pmet",
] as const;
export type EditKind = (typeof EDIT_KINDS)[number];

/**
 * Which positions an intervention edit changes in a pass:
 *   "last"     the pass's last position (T − 1): the next-token prediction of a prompt; in
 *              generation that recomputes the whole sequence, only the newest token
 *   "all"      every position (then the edit is also a weight change: see lib/edit/fold.ts)
 *   number[]   these absolute positions (those ≥ T are skipped in a shorter pass)
 */
export type PositionRule = "last" | "all" | number[];

/**
 * A set of prompts, given inline or taken from the model's dataset.json:
 *   ["Review: …", …]
 *   {dataset: "absc", label: " positive", split: "train", limit: 100}
 *   {dataset: "general_text", limit: 50}
 *   {dataset: "known_facts", relation: "P1", limit: 40}   (the facts' prompts)
 */
export type PromptSet =
  | string[]
  | {
      dataset: "absc" | "general_text" | "known_facts" | "consistency";
      /** absc: keep reviews with this label (e.g. " positive"). */
      label?: string;
      /** absc: "train" (default) or "test". */
      split?: "train" | "test";
      /** known_facts / consistency: keep one relation. */
      relation?: string;
      /** The first `limit` prompts (after filtering). */
      limit?: number;
    };

/** How a steering direction is scaled when added: α·σ·θ (ITI) or α·b (raw mass-mean shift). */
export type SteerScale = "iti" | "raw";

/** A learned direction: θ unit-norm, b = norm·θ the mass-mean shift, σ the std of ⟨a, θ⟩. */
export interface Direction {
  direction: number[];
  norm: number;
  sigma: number;
}

/** Optional evaluation attached to any edit: log P(target) − log P(foil) on prompts. */
export interface EditEval {
  prompts: PromptSet;
  target: string;
  foil: string;
}

export interface EditBase {
  /** Stable id for the UI stack; optional in files. */
  id?: string;
  /** Default true; a disabled edit is kept in the stack but changes nothing. */
  enabled?: boolean;
  /** Free text shown in the stack. */
  label?: string;
  eval?: EditEval;
}

// ───────────────────────────── ROME ─────────────────────────────

export const COV_SOURCES = ["identity", "general_text", "general_text+facts"] as const;
export type CovSource = (typeof COV_SOURCES)[number];

export interface RomeParams {
  /** The rewrite prompt with "{}" where the subject goes, e.g. "{} lives in the city of". */
  prompt: string;
  subject: string;
  /** The new object as text; a leading space is added when it has none (CounterFact's str). */
  target_new: string;
  /** The old object (for evaluation only). */
  target_true?: string;
  /** Adam steps on δ (ROME 20; default 40: lib/edit/rome.ts ROME_DEFAULTS says why). */
  steps?: number;
  /** Adam learning rate (ROME 0.5). */
  lr?: number;
  /** Weight of KL(new‖orig) on "{subject} is a" at the subject's last token (ROME 0.0625). */
  kl_weight?: number;
  /** Prompts of the KL ("essence") term (ROME ["{} is a"]). */
  kl_prompts?: string[];
  /** Weight of the norm penalty ‖δ‖ / ‖v₀‖² (ROME 0.5, its code's form). */
  weight_decay?: number;
  /** ‖δ‖ is clamped to clamp · ‖v₀‖ after every step (ROME 4). */
  clamp?: number;
  /** Stop when the loss falls below this (ROME 0.05). */
  early_stop?: number;
  /** Self-generated prefixes "<text>. {}" added to the bare "{}" template. */
  context?: { lengths?: number[]; per_length?: number; seed?: number; top_k?: number };
  /**
   * Second-moment matrix of keys: identity, or estimated from dataset.json general_text, or from
   * general_text plus the known facts as sentences (the default; lib/edit/rome.ts covTexts).
   */
  cov?: CovSource;
  /** Shrinkage γ: C + γ·(tr C / d_mlp)·I (cov general_text). */
  shrinkage?: number;
  /** General texts used for C (default all). */
  cov_texts?: number;
  /** The key k in ΔW = u·(v* − W k − b)ᵀ / (uᵀk): ROME's code uses the bare prompt's key. */
  update_key?: "bare" | "mean";
  /**
   * Where δ's optimisation adds δ: at the subject's last token ("subject", ROME), or where the
   * rank-one update will write it, c_t·δ at every position ("footprint", lib/edit/rome-footprint.ts).
   */
  delta_at?: DeltaAt;
  /**
   * λ ≥ 0: the prompts' own other keys added to C, w = (C + (λ/n)·Σ k_o k_oᵀ)⁻¹k*, so that the
   * update writes little at the subject's other tokens (lib/edit/rome-preserve.ts; default 10,
   * ROME: 0; absent in a v1 edit: 0, lib/edit/rome-legacy.ts).
   */
  preserve?: number;
  /**
   * κ > 0: preserve's λ is lowered until the update's mean square write on C's corpus is at most
   * κ times ROME's (lib/edit/rome-preserve.ts); 0: λ as given. Default 2 (v1 edits: 0).
   */
  preserve_cost?: number;
  /** The CounterFact case this edit comes from (evaluation reads its prompts). */
  case_id?: number;
  /** Extra evaluation prompts (with the subject written out). */
  paraphrase_prompts?: string[];
  neighborhood_prompts?: string[];
}

export const DELTA_AT = ["subject", "footprint"] as const;
export type DeltaAt = (typeof DELTA_AT)[number];

export interface RomeLearned {
  /** ΔW = u vᵀ for mlp.c_proj.weight [d_mlp, d_model]: u is unit-norm C⁻¹k*, length d_mlp. */
  u: number[];
  /** v = (v* − W k − b) / (uᵀk), length d_model. */
  v: number[];
  /** Diagnostics: the loss curve, norms, templates and the chosen settings. */
  info?: RomeInfo;
}

export interface RomeInfo {
  losses: { step: number; loss: number; nll: number; kl: number; decay: number; p_new: number }[];
  delta_norm: number;
  v0_norm: number;
  k_star_norm: number;
  templates: string[];
  cov: CovSource;
  shrinkage: number;
  cov_tokens: number;
  update_key: "bare" | "mean";
  /** Where δ was learned (absent in edits learned before the option existed: "subject"). */
  delta_at?: DeltaAt;
  /** The preserve λ used (lower than asked where preserve_cost bound it). */
  preserve?: number;
  target_new_ids: number[];
  ms: number;
}

export interface RomeEdit extends EditBase {
  kind: "rome";
  /** The MLP whose output projection (mlp.c_proj.weight) is rewritten. */
  site: { layer?: number };
  params: RomeParams;
  learned?: RomeLearned;
}

// ───────────────────────────── heads ─────────────────────────────

export interface HeadRef {
  layer: number;
  head: number;
}

export interface HeadSite extends HeadRef {
  position?: PositionRule;
}

export interface HeadAblateEdit extends EditBase {
  kind: "head_ablate";
  site: HeadSite;
  /** zero: z = 0; mean: z = its mean over `prompts` at the positions of the rule. */
  params: { mode: "zero" | "mean"; prompts?: PromptSet };
  learned?: { mean: number[] };
}

export interface HeadScaleEdit extends EditBase {
  kind: "head_scale";
  site: HeadSite;
  params: { scale: number };
}

export interface HeadSteerEdit extends EditBase {
  kind: "head_steer";
  /**
   * heads: steer these; top_k: the K heads whose last-token outputs a linear probe separates
   * best (validation accuracy). One of the two.
   */
  site: { heads?: HeadRef[]; top_k?: number; position?: PositionRule };
  params: {
    alpha: number;
    scale?: SteerScale;
    /** Direction = mean(positive) − mean(negative) of last-token hook_z. */
    positive: PromptSet;
    negative: PromptSet;
    /** Split seed of the probes. */
    seed?: number;
    /** Validation share of the probes (ITI 0.2). */
    val_ratio?: number;
  };
  learned?: {
    heads: (HeadRef & Direction & { accuracy?: number })[];
    /** Probe validation accuracy per [layer][head] (the grid that ranks heads for top_k). */
    probe_accuracy?: number[][];
  };
}

// ───────────────────────────── representation ─────────────────────────────

export type ResidHook = "resid_pre" | "resid_mid" | "resid_post";

export interface ResidSteerEdit extends EditBase {
  kind: "resid_steer";
  /** The hidden state blocks.{layer}.hook_{hook} (default resid_post, the block's output). */
  site: { layer: number; hook?: ResidHook; position?: PositionRule };
  params: {
    alpha: number;
    scale?: SteerScale;
    /** A direction from two prompt sets (last-token mass-mean shift)… */
    positive?: PromptSet;
    negative?: PromptSet;
    /** …or a given vector (then b = vector, θ = b/‖b‖, σ = 1). */
    vector?: number[];
  };
  learned?: Direction;
}

// LoReFT and LoRA (the trained edits): ./types-trained.ts

export type Edit =
  | RomeEdit
  | HeadAblateEdit
  | HeadScaleEdit
  | HeadSteerEdit
  | ResidSteerEdit
  | LoreftEdit
  | LoraEdit
  | MemitEdit
  | SweaEdit
  | AlphaEditEdit
  | PmetEdit;

/** An edit file: `{version: 2, model?: name, edits: [...]}` (a bare array is accepted too). */
export interface EditFile {
  version: number;
  model?: string;
  edits: Edit[];
}

export type EditErrorCode = "bad_edit" | "not_learned" | "bad_dataset" | "cancelled";

export class EditError extends CodedError<EditErrorCode> {
  override readonly name = "EditError";
}

export const isEnabled = (e: Edit): boolean => e.enabled !== false;

/** True when the edit carries everything apply needs (zero ablation and scaling need nothing). */
export function isLearned(e: Edit): boolean {
  switch (e.kind) {
    case "rome":
      return e.learned !== undefined;
    case "head_ablate":
      return e.params.mode === "zero" || e.learned !== undefined;
    case "head_scale":
      return true;
    case "head_steer":
      return e.learned !== undefined;
    case "resid_steer":
      return e.learned !== undefined;
    case "loreft":
      return e.learned !== undefined;
    case "swea":
    case "lora":
    case "memit":
    case "alphaedit":
    case "pmet":
      return e.learned !== undefined;
  }
}

/** A one-line description for tables and errors. */
export function describeEdit(e: Edit): string {
  const pos = (p?: PositionRule) =>
    p === undefined || p === "last" ? "last" : p === "all" ? "all" : `[${p.join(",")}]`;
  switch (e.kind) {
    case "rome":
      return `rome L${e.site.layer ?? "?"}: ${e.params.subject} → ${e.params.target_new}`;
    case "swea": {
      const r = e.params.requests;
      const more = r.length > 1 ? ` (+${r.length - 1} more)` : "";
      return `swea: ${r[0]?.subject} → ${r[0]?.target_new}${more}, acts only where the subject's tokens occur (elsewhere a no-op)`;
    }
    case "head_ablate":
      return `${e.params.mode}-ablate L${e.site.layer}H${e.site.head} @${pos(e.site.position)}`;
    case "head_scale":
      return `scale L${e.site.layer}H${e.site.head} ×${e.params.scale} @${pos(e.site.position)}`;
    case "head_steer": {
      const heads = e.learned?.heads ?? e.site.heads;
      const where = heads
        ? heads.map((h) => `L${h.layer}H${h.head}`).join(",")
        : `top ${e.site.top_k}`;
      return `steer ${where} α=${e.params.alpha} (${e.params.scale ?? "iti"}) @${pos(e.site.position)}`;
    }
    case "resid_steer":
      return `steer ${e.site.hook ?? "resid_post"} L${e.site.layer} α=${e.params.alpha} (${e.params.scale ?? "raw"}) @${pos(e.site.position)}`;
    case "loreft": {
      const layers = e.learned?.layers.map((l) => l.layer) ?? e.site.layers;
      const p = e.site.position;
      const at = p === undefined ? "aspect" : Array.isArray(p) ? `[${p.join(",")}]` : p;
      return `loreft ${e.site.hook ?? "resid_post"} L${layers ? layers.join(",") : "mid"} r=${e.params.rank ?? 4} @${at}`;
    }
    case "lora": {
      const l = e.site?.layers;
      // the modules it trains (ABSC's lora is on attn.c_proj); without a list, the MLP default
      const where = e.params.modules ? e.params.modules.join(",") : "MLP";
      // a label stands for the example (ABSC's edit was trained on many reviews, not on its example)
      const what =
        e.label ?? `${JSON.stringify(e.params.prefix)} → ${JSON.stringify(e.params.suffix)}`;
      return `lora ${where} L${l ? `${l[0]}-${l[1]}` : "auto"} r=${e.params.rank ?? 4}: ${what}`;
    }
    case "memit":
    case "alphaedit":
    case "pmet": {
      const layers = e.learned?.layers.map((l) => l.layer) ?? e.site.layers;
      const r = e.params.requests;
      const first = r[0] ? `: ${r[0].subject} → ${r[0].target_new}` : "";
      const more = r.length > 1 ? ` (+${r.length - 1} more)` : "";
      return `${e.kind}${e.params.blue ? "+blue" : ""} L${layers ? layers.join(",") : "auto"}, ${r.length} rewrite${r.length === 1 ? "" : "s"}${first}${more}`;
    }
  }
}
