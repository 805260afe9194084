/**
 * The documented range of every count, size and scale in an edit, in one table, checked by the
 * parser (lib/edit/parse.ts) before any work starts, so an edit file or a link cannot ask for
 * 10⁹ optimisation steps, 100k edits or α = 1e308 (whose outputs are Infinity/NaN). Limits that
 * depend on the model (layers, heads, rank ≤ d) are checked later by lib/edit/plan.ts checkEdit.
 * docs/edits.md lists the same table ("Bounds").
 *
 * The ranges are generous: the bundled model's defaults sit far inside them (ROME 40 steps, LoRA
 * 10, LoReFT 40; the app's α curve spans ±10; ITI uses α = 15).
 */

export interface Bound {
  min: number;
  max: number;
  /** true: min itself is excluded (lr > 0). */
  minExclusive?: boolean;
  /** What the number counts or scales, for the message. */
  doc: string;
}

const b = (min: number, max: number, doc: string, minExclusive = false): Bound => ({
  min,
  max,
  doc,
  ...(minExclusive ? { minExclusive } : {}),
});

/** Longest text (prompt, subject, target, label) in characters: checked before tokenizing. */
export const MAX_TEXT_CHARS = 10_000;

export const EDIT_BOUNDS = {
  /** Edits in one stack or file (a share link carries at most this many too). */
  edits: b(0, 64, "edits in a stack"),
  /** Inline prompt lists and a dataset set's `limit`. */
  prompts: b(1, 10_000, "prompts in a set"),
  /** Explicit positions: at most this many, each below `position`. */
  positions: b(1, 4_096, "positions in a list"),
  position: b(0, 65_535, "a position"),
  /** Layers or heads named in a list. */
  layers: b(1, 1_024, "layers in a list"),
  heads: b(1, 4_096, "heads in a list"),
  top_k: b(1, 4_096, "top-K heads"),
  seed: b(0, 2 ** 32 - 1, "a seed"),

  // steering and scaling: |α|, |scale| beyond these only overflow
  alpha: b(-1_000, 1_000, "α"),
  head_scale: b(-1_000, 1_000, "a head's scale"),
  val_ratio: b(0, 1, "the validation share", true),

  // ROME
  rome_steps: b(1, 1_000, "ROME's optimisation steps"),
  rome_lr: b(0, 100, "ROME's learning rate", true),
  kl_weight: b(0, 1_000, "the KL weight"),
  weight_decay: b(0, 1_000, "the norm penalty's weight"),
  clamp: b(0, 1_000, "the clamp of ‖δ‖ / ‖v₀‖", true),
  early_stop: b(0, 1_000, "the early-stop loss"),
  shrinkage: b(0, 1_000, "the shrinkage γ"),
  preserve: b(0, 1_000, "the weight λ of the prompts' keys in C"),
  preserve_cost: b(0, 1e6, "the bound κ on preserve's write on the corpus, relative to ROME's"),
  cov_texts: b(1, 10_000, "general texts for C"),
  kl_prompts: b(1, 16, "KL prompts"),
  extra_prompts: b(1, 1_000, "extra evaluation prompts"),
  context_lengths: b(1, 8, "context template lengths"),
  context_length: b(1, 64, "a context template's length in tokens"),
  context_per_length: b(0, 32, "context templates per length"),
  context_top_k: b(1, 1_000, "the context sampler's top-k"),

  // LoRA
  lora_rank: b(1, 256, "LoRA's rank"),
  lora_alpha: b(-1_024, 1_024, "LoRA's α"),
  lora_steps: b(0, 1_000, "LoRA's training steps"),
  lora_lr: b(0, 10, "LoRA's learning rate", true),
  epsilon: b(0, 1e6, "the deviation cap ε (a large ε turns the cap off)"),
  texts: b(1, 10_000, "general texts for the deviation cap"),
  threshold: b(0, 1, "the success threshold"),
  eval_prompts: b(1, 1_000, "held-out prompts"),

  // LoReFT
  loreft_rank: b(1, 256, "LoReFT's rank"),
  n_train: b(1, 10_000, "training examples"),
  n_test: b(0, 10_000, "test examples"),
  loreft_steps: b(0, 1_000, "LoReFT's training steps"),
  loreft_lr: b(0, 10, "LoReFT's learning rate", true),

  // MEMIT / AlphaEdit (lib/edit/memit.ts; the step, lr, decay, clamp and KL bounds are ROME's)
  requests: b(1, 1_024, "rewrites in a batch"),
  mom2_update_weight: b(0, 1e9, "MEMIT's λ (mom2_update_weight)"),
  nullspace_threshold: b(0, 1e9, "AlphaEdit's null-space threshold"),
  l2: b(0, 1e9, "AlphaEdit's L2"),
  nll_loss_factor: b(0, 1_000, "PMET's NLL weight (nll_loss_factor)"),
} as const satisfies Record<string, Bound>;

export type BoundName = keyof typeof EDIT_BOUNDS;

/** Whether x lies in the bound's range. */
export function inBound(x: number, bound: Bound): boolean {
  const lowOk = bound.minExclusive ? x > bound.min : x >= bound.min;
  return lowOk && x <= bound.max;
}

/** "from 1 to 1000", "above 0, at most 100": the range in words, for messages. */
export function rangeText(bound: Bound): string {
  return bound.minExclusive
    ? `above ${bound.min}, at most ${bound.max}`
    : `from ${bound.min} to ${bound.max}`;
}
