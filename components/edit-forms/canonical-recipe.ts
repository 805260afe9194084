/**
 * The canonical-examples edit form's draft (components/edit-forms/CanonicalForm.tsx) turned into
 * a lora recipe (lib/edit/lora.ts), or the first problem with it, in words for the form. The
 * options: full fine-tuning of the layer range (params.full) and the forgetting regulariser
 * (params.forget with λ > 0, its other settings lib/edit/forget.ts FORGET_DEFAULTS).
 */
import type { LoraEdit } from "../../lib/edit/types";

export interface CanonicalDraft {
  prefix: string;
  suffix: string;
  first: number | null;
  last: number | null;
  rank: number;
  epsilon: number;
  steps: number;
  lr: number;
  seed: number;
  /** Forgetting regulariser's λ (lib/edit/forget.ts); 0 = off. */
  forget: number;
  /** Full fine-tuning of the layer range instead of LoRA (lib/edit/finetune.ts). */
  full: boolean;
}

/** The recipe for a draft, or the first problem with it. */
export function canonicalRecipe(
  d: CanonicalDraft,
  nLayer: number | null,
): { edit: LoraEdit } | { error: string } {
  if (!d.prefix.trim()) return { error: "Give the prefix (the prompt of the example)" };
  if (!d.suffix.trim()) return { error: "Give the suffix the model should produce" };
  const int = (x: number, lo: number) => Number.isInteger(x) && x >= lo;
  if ((d.first === null) !== (d.last === null))
    return { error: "Give both the first and the last layer, or neither (default)" };
  if (d.first !== null && d.last !== null) {
    const top = nLayer === null ? Number.POSITIVE_INFINITY : nLayer - 1;
    if (!int(d.first, 0) || !int(d.last, 0) || d.first > d.last || d.last > top)
      return {
        error: `Layers must satisfy 0 ≤ first ≤ last ≤ ${nLayer === null ? "the last" : top}`,
      };
  }
  if (!int(d.rank, 1)) return { error: "The rank must be a whole number ≥ 1" };
  if (!(d.epsilon > 0) || !Number.isFinite(d.epsilon)) return { error: "ε must be above 0" };
  if (!int(d.steps, 1)) return { error: "Steps must be a whole number ≥ 1" };
  if (!(d.lr > 0) || !Number.isFinite(d.lr)) return { error: "The learning rate must be above 0" };
  if (!int(d.seed, 0)) return { error: "The seed must be a whole number ≥ 0" };
  if (!(d.forget >= 0) || !Number.isFinite(d.forget))
    return { error: "The forgetting λ must be 0 (off) or above" };
  return {
    edit: {
      kind: "lora",
      id: `lora-${Date.now().toString(36)}`,
      label: `${d.prefix.trim()} →${d.suffix.startsWith(" ") ? "" : " "}${d.suffix}`,
      site: d.first !== null && d.last !== null ? { layers: [d.first, d.last] } : {},
      params: {
        prefix: d.prefix,
        suffix: d.suffix,
        rank: d.rank,
        alpha: d.rank,
        epsilon: d.epsilon,
        steps: d.steps,
        lr: d.lr,
        seed: d.seed,
        ...(d.full ? { full: true } : {}),
        ...(d.forget > 0 ? { forget: { lambda: d.forget } } : {}),
      },
    },
  };
}
