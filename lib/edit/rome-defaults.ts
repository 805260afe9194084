/**
 * ROME's defaults: the one definition (lib/edit/rome.ts fills them in; the app's ROME form reads
 * them from here, which pulls no tfjs into the page bundle). ROME's hyperparameters
 * (kmeng01/rome, GPT-2 XL) except four, chosen by measurement on the bundled model
 * (docs/edits.md, "ROME on the bundled model" and "ROME on cases nobody tuned on"):
 *   steps 40 (ROME 20): with 20 steps every efficacy failure over cases 0–49 was a case still
 *     descending (efficacy 0.86 → 0.98);
 *   cov "general_text+facts" (ROME: Wikipedia): the general text alone lacks the entity names
 *     that Wikipedia is full of, and the edit leaks onto other subjects (neighbourhood 0.79 → 0.95);
 *   preserve 10 with preserve_cost 2 (ROME: 0, 0; since edit format and link v2): the prompts'
 *     other keys in C, λ lowered until the update writes ≤ 2× ROME's on C's corpus. Chosen on
 *     the development split (the 150 bundled cases) by the rule set beforehand (efficacy ≥ 0.95,
 *     mean general-text loss ratio ≤ 1.002, neighbourhood within 0.01 of ROME's C): efficacy
 *     0.933 → 0.953, paraphrase 0.733 → 0.757, neighbourhood 0.961 → 0.952, ratio 1.00047 →
 *     1.00077. Then run once on the held-out split (100 fresh cases, ids 150–249): efficacy
 *     0.97 → 0.99, paraphrase 0.825 → 0.845, neighbourhood 0.987 both, ratio 1.00044 → 1.00065.
 * Edits written before v2 without preserve / preserve_cost meant 0, 0: lib/edit/rome-legacy.ts.
 * delta_at "footprint" stays off (it lost cases δ reached before).
 */
import type { CovSource, DeltaAt } from "./types";

export const ROME_DEFAULTS = {
  steps: 40,
  lr: 0.5,
  kl_weight: 0.0625,
  kl_prompts: ["{} is a"],
  weight_decay: 0.5,
  clamp: 4,
  early_stop: 0.05,
  cov: "general_text+facts" as CovSource,
  shrinkage: 0.01,
  update_key: "bare" as "bare" | "mean",
  delta_at: "subject" as DeltaAt,
  preserve: 10,
  preserve_cost: 2,
};
