/**
 * SWEA⊕OS's hyper-parameters (xpq-tech/SWEA hparams/SWEAOS/*.json names) with their defaults.
 * Unlike MEMIT's, SWEA's own values need no change on the small bundled models (docs/edits.md
 * "SWEA on the bundled model": 25 steps at lr 2e-2 reach efficacy and paraphrase 1.0 there).
 */
import { EditError, type RewriteRequest, type SweaHparams } from "./types";

/**
 * hparams/SWEAOS/Llama-2-7b-hf.json and EleutherAI_gpt-j-6b.json (the two agree), KnowledgeNeurons'
 * integrated-gradients steps (20), SWEA's suppression factor (0.5 in OS_fusion.kn_suppressing),
 * δ starting at the subject's embeddings (OS_fusion.optimizing), and MEMIT's context templates.
 */
export const SWEA_DEFAULTS: Required<SweaHparams> = {
  v_num_grad_steps: 25,
  v_lr: 2e-2,
  v_weight_decay: 0.3,
  clamp_norm_factor: 1,
  kl_factor: 0.2,
  nll_loss_factor: 1,
  kn_threshold: 0.35,
  kn_steps: 20,
  suppress_factor: 0.5,
  mode: "kn+optimize",
  v_init: "embedding",
  context: { lengths: [10], per_length: 5, seed: 0, top_k: 5 },
};

export type ResolvedSwea = Required<SweaHparams>;

/** The edit's hyper-parameters with SWEA's defaults filled in. */
export function sweaHparams(p: SweaHparams): ResolvedSwea {
  const given = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
  delete given.requests;
  return {
    ...SWEA_DEFAULTS,
    ...given,
    context: { ...SWEA_DEFAULTS.context, ...(p.context ?? {}) },
  } as ResolvedSwea;
}

/** The names the batch driver passes on to SWEA (`--hparams`), shared with MEMIT's. */
export const SWEA_HPARAM_NAMES: (keyof SweaHparams)[] = [
  "v_num_grad_steps",
  "v_lr",
  "v_weight_decay",
  "clamp_norm_factor",
  "kl_factor",
  "nll_loss_factor",
  "kn_threshold",
  "kn_steps",
  "suppress_factor",
  "mode",
  "v_init",
  "context",
];

/** Two requests whose subjects tokenize to one lookup key would ask one key for two fusions. */
export function checkDistinctKeys(
  requests: readonly RewriteRequest[],
  keys: readonly (readonly number[])[][],
): void {
  const seen = new Map<string, number>();
  keys.forEach((list, i) => {
    for (const k of list) {
      const id = k.join(",");
      const j = seen.get(id);
      if (j !== undefined && j !== i) {
        throw new EditError(
          "bad_edit",
          `swea: request ${i} (${JSON.stringify(requests[i].subject)}) has the same subject tokens as request ${j} (${JSON.stringify(requests[j].subject)}): one fusion per subject`,
        );
      }
      seen.set(id, i);
    }
  });
}
