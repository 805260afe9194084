/**
 * PMET's hyper-parameters (xpq-tech/PMET pmet_hparams.py, by its names) over MEMIT's
 * (lib/edit/memit-params.ts), and the residual spread that sets it apart from MEMIT.
 */

import { memitHparams, type ResolvedHparams } from "./memit-params";
import { EditError, type MemitHparams } from "./types";

/**
 * xpq-tech/BLUE hparams/PMET/gpt2-xl.json (PMET's own repository has GPT-J and GPT-NeoX files
 * only; the GPT-2 one is the BLUE authors', run with PMET's code): 20 steps at lr 0.5, the norm
 * penalty 0.5, ‖δ‖ ≤ 2‖h‖ (h the module's output, not the block's), KL 0.0625, λ = 10000,
 * NLL weight 1. The bundled-size models (≤ 8 layers) take MEMIT's small-model values on top
 * (lib/edit/memit-params.ts SMALL_MODEL_HPARAMS: λ, steps, clamp), as MEMIT here does.
 */
export const PMET_DEFAULTS: Partial<ResolvedHparams> = {
  v_num_grad_steps: 20,
  v_lr: 0.5,
  v_weight_decay: 0.5,
  clamp_norm_factor: 2,
  kl_factor: 0.0625,
  mom2_update_weight: 10000,
  nll_loss_factor: 1,
};

export type ResolvedPmetHparams = ResolvedHparams & {
  nll_loss_factor: number;
  v_loss_layer: number;
};

/**
 * The edit's hyper-parameters with PMET's defaults. v_loss_layer is the last layer in every PMET
 * hparams file (GPT-J 27, NeoX 43, GPT-2 XL 47, Llama-3 31); the loss here is always read
 * there, so another value is refused rather than silently ignored.
 */
export function pmetHparams(p: MemitHparams, config: { nLayer: number }): ResolvedPmetHparams {
  const hp = memitHparams(p, config, PMET_DEFAULTS);
  const last = config.nLayer - 1;
  if (hp.v_loss_layer !== undefined && hp.v_loss_layer !== last) {
    throw new EditError(
      "bad_edit",
      `pmet: params.v_loss_layer ${hp.v_loss_layer} is not supported: the loss is read at the last layer (${last}), as in every PMET hparams file`,
    );
  }
  return { ...hp, nll_loss_factor: hp.nll_loss_factor ?? 1, v_loss_layer: last };
}

/**
 * PMET's share of the residual at the i-th of `count` updated layers: 1 / √(layers left)
 * (pmet_main.py: targets / np.sqrt(len(layers) − i); MEMIT divides by the count itself). BLUE
 * gives each boundary layer its whole residual (execute_pmet_lbl).
 */
export function pmetShare(i: number, count: number, blue: boolean): number {
  return blue ? 1 : Math.sqrt(count - i);
}
