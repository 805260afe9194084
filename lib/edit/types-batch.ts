/**
 * The batch edits' data (lib/edit/types.ts has the format's conventions and the other kinds):
 * MEMIT (`memit`, Meng et al. 2023), AlphaEdit (`alphaedit`, Fang et al. 2025) and PMET
 * (`pmet`, Li et al. 2024, lib/edit/pmet.ts), each with
 * BLUE (Li et al. 2025) as a switch (`params.blue`). The maths is in lib/edit/memit.ts; the
 * entry point that other code calls is lib/edit/batch-edit.ts applyBatchEdit.
 *
 * Hyper-parameters carry the names of MEMIT's and AlphaEdit's hparams files
 * (hparams/MEMIT/gpt2-xl.json, hparams/AlphaEdit/gpt2-xl.json); docs/edits.md lists them with
 * their defaults and where this implementation deviates.
 */
import type { CovSource, EditBase } from "./types";

/** One requested rewrite, in ROME's own fields (CounterFact's requested_rewrite, flattened). */
export interface RewriteRequest {
  /** The rewrite prompt with "{}" where the subject goes, e.g. "{} lives in the city of". */
  prompt: string;
  subject: string;
  /** The new object as text; a leading space is added when it has none. */
  target_new: string;
  /** The old object (for evaluation only). */
  target_true?: string;
  /** The CounterFact case this rewrite comes from (evaluation reads its prompts). */
  case_id?: number;
}

/** MEMIT's hyper-parameters (defaults in lib/edit/memit-params.ts MEMIT_DEFAULTS). */
export interface MemitHparams {
  /** Adam steps on each request's δ at the last layer of the range (MEMIT 20). */
  v_num_grad_steps?: number;
  /** Adam learning rate (MEMIT 0.5). */
  v_lr?: number;
  /** Weight of the norm penalty ‖δ‖ / ‖h_L‖² (MEMIT 0.5). */
  v_weight_decay?: number;
  /** ‖δ‖ is clamped to clamp_norm_factor · ‖h_L‖ after every step (MEMIT 0.75). */
  clamp_norm_factor?: number;
  /** Weight of KL(new ‖ orig) on "{subject} is a" (MEMIT 0.0625). */
  kl_factor?: number;
  /** λ in ΔW = R Kᵀ (λC + K Kᵀ)⁻¹ (MEMIT 20000 for GPT-2 XL). */
  mom2_update_weight?: number;
  /** The corpus of C (ROME's names; MEMIT: Wikipedia). */
  mom2_dataset?: CovSource;
  /** General texts used for C (default all). */
  mom2_n_samples?: number;
  /** Shrinkage γ: C + γ·(tr C / d_mlp)·I before use (not in MEMIT; default 0 = MEMIT's C). */
  mom2_shrinkage?: number;
  /** AlphaEdit: eigenvalues of C below this span the null space P projects onto (AlphaEdit 2e-2). */
  nullspace_threshold?: number;
  /** AlphaEdit: ridge term L2·I of the update (AlphaEdit 10 for GPT-2 XL). */
  L2?: number;
  /** PMET: weight of the target NLL (PMET 1; cut to a tenth while the target is already top-1). */
  nll_loss_factor?: number;
  /** PMET: the layer whose output the NLL reads (every PMET hparams file: the last; only that here). */
  v_loss_layer?: number;
  /** Context templates (ROME/MEMIT's self-generated prefixes; MEMIT: 5 texts of 10 tokens). */
  context?: { lengths?: number[]; per_length?: number; seed?: number; top_k?: number };
}

export interface BatchParams extends MemitHparams {
  requests: RewriteRequest[];
  /** BLUE: update only the first and last layer of the range, each with its own residual. */
  blue?: boolean;
}

/**
 * One layer's update of mlp.c_proj.weight [d_mlp, d_model]: ΔW = a · b with a [d_mlp, n] and
 * b [n, d_model] row-major (n = the number of requests): a = (λC + K Kᵀ)⁻¹ K (MEMIT) or the
 * projected solve (AlphaEdit), b = Rᵀ, the layer's share of the residual.
 */
export interface BatchLayerDelta {
  layer: number;
  a: number[];
  b: number[];
  /**
   * AlphaEdit: the requests' keys K [d_mlp, n] at this layer after the whole edit, so that a
   * later AlphaEdit batch keeps them (AlphaEdit's cache_c = Σ K Kᵀ of the batches before).
   */
  keys?: number[];
}

export interface BatchInfo {
  /**
   * Per request (BLUE: per boundary layer, then per request): the loss curve of δ, the target's
   * probability at the end, and the target z = h + δ of the block output at z_layer.
   */
  requests: {
    losses: number[];
    p_new: number;
    delta_norm: number;
    target_ids: number[];
    z: number[];
    z_layer: number;
    /** PMET: the attention output's target h_attn + δ_attn (optimised jointly, written nowhere). */
    z_attn?: number[];
  }[];
  /** Per updated layer: ‖R‖ of the residual used, ‖ΔW‖_F, and (AlphaEdit) dim of P's range. */
  layers: {
    layer: number;
    z_layer: number;
    resid_norm: number;
    delta_norm: number;
    null_dim?: number;
  }[];
  templates: string[];
  cov_tokens: number;
  ms: number;
}

export interface BatchLearned {
  layers: BatchLayerDelta[];
  info?: BatchInfo;
}

export interface MemitEdit extends EditBase {
  kind: "memit";
  /** The MLPs rewritten (ascending; default lib/edit/memit-params.ts defaultMemitLayers). */
  site: { layers?: number[] };
  params: BatchParams;
  learned?: BatchLearned;
}

export interface AlphaEditEdit extends EditBase {
  kind: "alphaedit";
  site: { layers?: number[] };
  params: BatchParams;
  learned?: BatchLearned;
}

/**
 * PMET (Li et al. 2024, xpq-tech/PMET): δ on the attention and the FFN outputs of the range's
 * last layer optimised jointly, the FFN's part alone written into the FFN weights of the range
 * (residual spread by √(layers left)); lib/edit/pmet.ts.
 */
export interface PmetEdit extends EditBase {
  kind: "pmet";
  site: { layers?: number[] };
  params: BatchParams;
  learned?: BatchLearned;
}

export type BatchEdit = MemitEdit | AlphaEditEdit | PmetEdit;
export const BATCH_KINDS = ["memit", "alphaedit", "pmet"] as const;
export type BatchKind = (typeof BATCH_KINDS)[number];
