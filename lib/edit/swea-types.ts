/**
 * SWEA's edit data (Li et al. 2024, "SWEA: Updating Factual Knowledge in Large Language Models
 * via Subject Word Embedding Altering", xpq-tech/SWEA): SWEA⊕OS, optimising-then-suppressing
 * fusion. The maths is in lib/edit/swea.ts; docs/edits.md "SWEA" lists the hyper-parameters with
 * their defaults and where this implementation deviates.
 *
 * Hyper-parameters carry the names of SWEA's hparams files (hparams/SWEAOS/*.json).
 */
import type { EditBase, RewriteRequest } from "./types";

/** SWEA⊕OS's hyper-parameters (defaults in lib/edit/swea-params.ts SWEA_DEFAULTS). */
export interface SweaHparams {
  /** Adam steps on the subject's offsets (SWEA 25). */
  v_num_grad_steps?: number;
  /** Adam learning rate (SWEA 2e-2 for GPT-J / Llama-2). */
  v_lr?: number;
  /** Weight of the penalty ‖δ‖ / ‖e‖² (e: the subject's token embeddings; SWEA 0.3). */
  v_weight_decay?: number;
  /** ‖δ‖ is clamped to clamp_norm_factor · ‖e‖ after every step (SWEA 1). */
  clamp_norm_factor?: number;
  /** Weight of KL(new ‖ first pass) on "{subject} is" at the subject's last token (SWEA 0.2). */
  kl_factor?: number;
  /** Weight of the target's NLL (SWEA 1). */
  nll_loss_factor?: number;
  /**
   * The suppression's knowledge attribution (SWEA's kn_hparams): coarse adaptive threshold
   * (a dimension is kept when its integrated-gradients score exceeds this share of the largest
   * score; SWEA ["cat", "0.35", "0"]), and the integrated-gradients steps (SWEA's KN: 20).
   */
  kn_threshold?: number;
  kn_steps?: number;
  /** How much of the knowledge dimensions' embedding the fusion removes (SWEA's code: 0.5). */
  suppress_factor?: number;
  /**
   * SWEA's mode: "kn+optimize" (SWEA⊕OS, the default) or "optimize" (no suppression, the
   * paper's ablation).
   */
  mode?: "kn+optimize" | "optimize";
  /**
   * δ's starting value: the subject's token embeddings ("embedding", SWEA's code) or zeros
   * ("zero", the line SWEA's code has commented out).
   */
  v_init?: "embedding" | "zero";
  /** Context templates (SWEA: "{}" and 5 self-generated texts of 10 tokens, as MEMIT). */
  context?: { lengths?: number[]; per_length?: number; seed?: number; top_k?: number };
}

export interface SweaParams extends SweaHparams {
  requests: RewriteRequest[];
}

/** One lookup key and what is added at its occurrences. */
export interface SweaFusion {
  /** The request (index into params.requests) this fusion edits. */
  request: number;
  /** The subject's token ids as the lookup key. */
  tokens: number[];
  /** The fused offsets [P, d_model] row-major (P = tokens.length): δ − s · mask ⊙ E[tokens]. */
  offsets: number[];
}

export interface SweaInfo {
  /** Per request: each spelling's learning, and the spellings no rewrite prompt held. */
  requests: {
    spellings: {
      tokens: number[];
      /** The first rewrite prompt it was learned on (and attributed on). */
      prompt: string;
      /** δ's loss curve, p(new) at the end, ‖δ‖. */
      losses: number[];
      p_new: number;
      delta_norm: number;
      /** Per subject token, the embedding dimensions attributed to the old object. */
      suppressed: number[][];
    }[];
    skipped_keys: number[][];
  }[];
  templates: string[];
  ms: number;
}

export interface SweaLearned {
  fusions: SweaFusion[];
  info?: SweaInfo;
}

export interface SweaEdit extends EditBase {
  kind: "swea";
  /** SWEA acts on the token embeddings only: no site to choose. */
  site?: Record<string, never>;
  params: SweaParams;
  learned?: SweaLearned;
}
