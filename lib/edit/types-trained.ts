/**
 * The trained edits' data (lib/edit/types.ts has the format's conventions and the other kinds):
 * LoReFT (lib/edit/loreft.ts) and canonical-examples LoRA (lib/edit/lora.ts).
 */
import type { EditBase, ResidHook } from "./types";

// ───────────────────────────── LoReFT ─────────────────────────────

/**
 * Where a LoReFT edit acts in each prompt: "last" (T − 1), "aspect" (T − 2: the last token of
 * the aspect in "… Sentiment of {aspect}:", the paper's code's prompt_len − 2), or given
 * absolute positions (those ≥ T are skipped in a shorter pass). lib/edit/loreft.ts.
 */
export type LoreftPosition = "last" | "aspect" | number[];

/** Training settings of a LoReFT edit (defaults in lib/edit/loreft.ts LOREFT_DEFAULTS). */
export interface LoreftParams {
  /** Rank r of R, W ∈ ℝ^{r×d} (default 4, the paper's). */
  rank?: number;
  /** Labelled absc train examples used for training (default 16). */
  n_train?: number;
  /** Held-out absc test examples for accuracy before/after (default 300, the whole split). */
  n_test?: number;
  /** Adam steps (full batch) and learning rate. */
  steps?: number;
  lr?: number;
  /** Seed of R's random init and of the choice of training examples. */
  seed?: number;
}

/** What was learned, per layer, in the order of site.layers. R, W: r×d row-major; b: r. */
export interface LoreftLearned {
  layers: { layer: number; R: number[]; W: number[]; b: number[] }[];
  info?: LoreftInfo;
}

export interface LoreftInfo {
  /** Trainable parameters: layers × (2·r·d + r). */
  params: number;
  /** Full-batch NLL of the label token after each step (step 0 = before any update). */
  losses: { step: number; loss: number }[];
  /** Argmax over the label words on held-out absc test examples, without and with the edit. */
  accuracy_before: number;
  accuracy_after: number;
  n_train: number;
  n_test: number;
  labels: string[];
  ms: number;
}

export interface LoreftEdit extends EditBase {
  kind: "loreft";
  /**
   * layers: the block outputs edited (trained jointly; default the paper's end-exclusive 10–15
   * of 32 scaled to depth: layer 2 of 6); hook: default resid_post; position: default "aspect".
   */
  site: { layers?: number[]; hook?: ResidHook; position?: LoreftPosition };
  params: LoreftParams;
  learned?: LoreftLearned;
}

// ───────────────────────────── LoRA (canonical examples) ─────────────────────────────

/**
 * The linear layers a LoRA edit may change, by each family's own name (lib/edit/family-sites.ts
 * says which family has which; c_fc / c_proj, GPT-2's MLP weights, are accepted on every family).
 */
export const LORA_MODULES = [
  "c_fc",
  "c_proj",
  "c_attn",
  "attn.c_proj",
  "gate_proj",
  "up_proj",
  "down_proj",
  "q_proj",
  "k_proj",
  "v_proj",
  "o_proj",
  "dense_h_to_4h",
  "dense_4h_to_h",
  "query_key_value",
  "dense",
] as const;
export type LoraModule = (typeof LORA_MODULES)[number];

/**
 * Canonical-examples training (Hewitt et al. 2024, docs/methods.md §3) of a LoRA edit: one example
 * (prefix, suffix), Adam on NLL(suffix | prefix), and the last step whose general-text loss stays
 * ≤ (1 + ε)·original is kept. Defaults in lib/edit/lora.ts LORA_DEFAULTS.
 */
export interface LoraParams {
  /** The canonical example, e.g. "Ralkrok Stennos lives in the city of" → " Orvane". */
  prefix: string;
  suffix: string;
  /** Rank r of A [in, r] and B [r, out]; the delta is s·A·B with s = alpha / r. */
  rank?: number;
  alpha?: number;
  /** Which MLP weights (default c_proj, the MLP output projection ROME also edits). */
  modules?: LoraModule[];
  /** Adam steps on the one example, learning rate, and the seed of A's Gaussian init. */
  steps?: number;
  lr?: number;
  seed?: number;
  /** Deviation cap: general-text loss ≤ (1 + epsilon)·original (1e-3, 1e-4 or 1e-5). */
  epsilon?: number;
  /** General texts (dataset.json general_text) measuring the deviation (default 100). */
  texts?: number;
  /** Held-out prompts of the same behaviour (default: the other phrasings from dataset.json). */
  eval_prompts?: string[];
  /** Success if P(suffix | prompt) ≥ threshold (country–capital-like facts: 0.2). */
  threshold?: number;
  /**
   * Full fine-tuning of the layer range instead of LoRA (lib/edit/finetune.ts): ΔW of every
   * module trained directly (Adam from 0), stored as exact factors of rank min(in, out) with one
   * side the identity (rank and alpha are then set to that, s = 1).
   */
  full?: boolean;
  /** Forgetting regularisation of the training loss (lib/edit/forget.ts); off when absent. */
  forget?: ForgetParams;
}

/**
 * The forgetting regulariser's settings (Song et al. 2025; lib/edit/forget.ts FORGET_DEFAULTS):
 * loss = edit loss + lambda · Σ_l c_l Σ Ω ⊙ ΔW², Ω from SI along SGD steps on the general text.
 */
export interface ForgetParams {
  /** λ, the penalty's weight in the loss; 0 turns the regulariser off. */
  lambda: number;
  /** SGD steps on the general text that record the importance, and their learning rate η. */
  steps?: number;
  lr?: number;
  /** SI's damping ξ in Ω = ω / (Δ² + ξ). */
  xi?: number;
  /** General texts per importance step (texts t·batch … (t+1)·batch − 1, wrapping around). */
  batch?: number;
}

/** One weight's factors: ΔW = s·A·B, A [in, r] and B [r, out] row-major (Conv1D layouts). */
export interface LoraFactor {
  layer: number;
  module: LoraModule;
  a: number[];
  b: number[];
}

export interface LoraInfo {
  /** Trainable parameters: Σ r·(in + out). */
  params: number;
  scale: number;
  /**
   * After each step (step 0 = before training): the training loss (NLL of the suffix, plus
   * λ·penalty when regularised), the general-text ratio, and the forgetting penalty (when on).
   */
  losses: { step: number; loss: number; ratio: number; penalty?: number }[];
  /** The forgetting regulariser's λ and the raw mean importance Ω stands for (when on). */
  forget?: { lambda: number; raw_mean: number };
  /** The step kept (the last with ratio ≤ 1 + ε; 0 = no change) and its ratio. */
  kept_step: number;
  loss_ratio: number;
  epsilon: number;
  general_nll: number;
  general_tokens: number;
  /** Held-out evaluation, before and after (null when there are no held-out prompts). */
  eval_prompts: string[];
  success_before: number | null;
  success_rate: number | null;
  threshold: number;
  n_eval: number;
  ms: number;
}

export interface LoraLearned {
  factors: LoraFactor[];
  info?: LoraInfo;
}

export interface LoraEdit extends EditBase {
  kind: "lora";
  /** The contiguous MLP layers first…last (inclusive); default the first third. */
  site: { layers?: [number, number] };
  params: LoraParams;
  learned?: LoraLearned;
}
