/**
 * PMET (Li et al. 2024, "PMET: Precise Model Editing in a Transformer", xpq-tech/PMET
 * pmet_main.py execute_pmet) over a range of MLP layers l₁ < … < l_L, with BLUE (xpq-tech/BLUE
 * pmet_main.py execute_pmet_lbl) as a switch (docs/edits.md "PMET"). The loop is MEMIT's
 * (lib/edit/memit.ts learnBatch); what PMET changes is here:
 *
 *   targets  for every request, δ_attn and δ_mlp at the last layer l_L optimised together
 *            (lib/edit/pmet-delta.ts); only the FFN's target z = h_mlp + δ_mlp is kept
 *   layers   in order, each on the model with the layers before already updated:
 *              K  the requests' keys (mlp.hook_post at the subject's last token, MEMIT's
 *                 compute_ks: lib/edit/memit-keys.ts)
 *              R  (z − hook_mlp_out of l_L now) / √(number of layers left)   (PMET's spread of
 *                 the FFN's own residual, not the block output's)
 *              ΔW = (λC + K Kᵀ)⁻¹ K R on mlp.c_proj (MEMIT's closed form: memit-solve.ts)
 *   BLUE     only l₁ and l_L move; each gets its own targets at that layer, on the model as
 *            updated so far, and its whole residual
 *
 * The attention weights are never changed: δ_attn only shapes the FFN's target (PMET's finding
 * that MHSA holds general extraction patterns, not the fact).
 */
import { blockHook } from "../model/hooks";
import type { TextTokenizer } from "../util/tokenizer";
import type { ModelLike } from "./apply";
import { activationsAt } from "./batch";
import type { CancelSignal } from "./cancel";
import { norm } from "./linalg";
import { optimisePmet } from "./pmet-delta";
import type { ResolvedPmetHparams } from "./pmet-params";
import { ROME_DEFAULTS, type RomeStep } from "./rome";
import type { RomeBatch } from "./rome-delta";
import { subjectPrompt } from "./tokens";
import type { BatchInfo, RewriteRequest } from "./types";

/** One request's FFN target z = h_mlp + δ_mlp at `layer` (compute_zs) and its report. */
export async function pmetTarget(o: {
  model: ModelLike;
  batch: RomeBatch;
  layer: number;
  hp: ResolvedPmetHparams;
  signal?: CancelSignal;
  onStep?: (s: RomeStep) => void;
}): Promise<{ z: Float64Array; info: BatchInfo["requests"][number] }> {
  const d = await optimisePmet({ ...o, earlyStop: ROME_DEFAULTS.early_stop });
  const z = Float64Array.from(d.hMlp, (x, j) => x + d.deltaMlp[j]);
  const last = d.losses[d.losses.length - 1];
  return {
    z,
    info: {
      losses: d.losses.map((l) => l.loss),
      p_new: last?.p_new ?? 0,
      delta_norm: norm(d.deltaMlp),
      target_ids: o.batch.target,
      z: Array.from(z),
      z_layer: o.layer,
      z_attn: Array.from(d.hAttn, (x, j) => x + d.deltaAttn[j]),
    },
  };
}

/** hook_mlp_out of `layer` at each request's subject's last token in its bare prompt, [n][D]. */
export async function mlpOutputs(
  model: ModelLike,
  tok: TextTokenizer,
  requests: readonly RewriteRequest[],
  layer: number,
): Promise<Float32Array[]> {
  const rows = requests.map((r) => subjectPrompt(tok, r.prompt, r.subject));
  const hook = blockHook(layer, "hook_mlp_out");
  const acts = await activationsAt(
    model,
    rows.map((r) => r.ids),
    [hook],
    rows.map((r) => [r.subjectLast]),
  );
  return acts.get(hook)!;
}
