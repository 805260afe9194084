/**
 * PMET (Li et al. 2024, "PMET: Precise Model Editing in a Transformer", xpq-tech/PMET
 * pmet_main.py execute_pmet) over a range of MLP layers l₁ < … < l_L, with BLUE (xpq-tech/BLUE
 * pmet_main.py execute_pmet_lbl) as a switch (docs/edits.md "PMET"):
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
import { applyEdits, baseOf, isEdited, type ModelLike } from "./apply";
import { activationsAt } from "./batch";
import { checkLearningCancelled } from "./cancel";
import { contextTemplates } from "./context";
import { norm } from "./linalg";
import { type BatchLearnOptions, forRequest } from "./memit";
import { checkCov, factorNorm, layerFactor } from "./memit-factor";
import { keysAndOutputs } from "./memit-keys";
import { batchLayers, checkRequests, updatedLayers } from "./memit-params";
import { optimisePmet } from "./pmet-delta";
import { pmetHparams, pmetShare, type ResolvedPmetHparams } from "./pmet-params";
import { covTexts, ROME_DEFAULTS, romeParams } from "./rome";
import { romeBatch } from "./rome-delta";
import { subjectPrompt } from "./tokens";
import type { BatchInfo, BatchLayerDelta, PmetEdit, RewriteRequest } from "./types";

/** The FFN targets z_i = h_mlp + δ_mlp at `layer` for every request (compute_zs), [n][D]. */
async function pmetTargets(
  model: ModelLike,
  tok: TextTokenizer,
  requests: readonly RewriteRequest[],
  hp: ResolvedPmetHparams,
  layer: number,
  o: BatchLearnOptions,
): Promise<{ zs: Float64Array[]; info: BatchInfo["requests"] }> {
  const zs: Float64Array[] = [];
  const info: BatchInfo["requests"] = [];
  for (const [i, r] of requests.entries()) {
    const p = romeParams({ ...r, context: hp.context });
    const d = await forRequest(i, r, async () => {
      const batch = await romeBatch(model, tok, p);
      const res = await optimisePmet({
        model,
        batch,
        layer,
        hp,
        earlyStop: ROME_DEFAULTS.early_stop,
        signal: o.signal,
        onStep: (s) =>
          o.onProgress?.({ phase: "target", request: i, requests: requests.length, ...s }),
      });
      return { ...res, target: batch.target };
    });
    const z = Float64Array.from(d.hMlp, (x, j) => x + d.deltaMlp[j]);
    zs.push(z);
    const last = d.losses[d.losses.length - 1];
    info.push({
      losses: d.losses.map((l) => l.loss),
      p_new: last?.p_new ?? 0,
      delta_norm: norm(d.deltaMlp),
      target_ids: d.target,
      z: Array.from(z),
      z_layer: layer,
      z_attn: Array.from(d.hAttn, (x, j) => x + d.deltaAttn[j]),
    });
  }
  return { zs, info };
}

/** hook_mlp_out of `layer` at each request's subject's last token in its bare prompt, [n][D]. */
async function mlpOutputs(
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

/** Learns a PMET edit (BLUE when params.blue) on `model`; returns it complete. */
export async function learnPmet(
  model: ModelLike,
  tok: TextTokenizer,
  edit: PmetEdit,
  o: BatchLearnOptions = {},
): Promise<PmetEdit> {
  const t0 = Date.now();
  const { requests } = edit.params;
  checkRequests(requests, edit.kind);
  const base = baseOf(model);
  const { dMlp: M, dModel: D } = base.config;
  const n = requests.length;
  const layers = batchLayers(edit, base.config);
  const blue = edit.params.blue === true;
  const moved = updatedLayers(layers, blue);
  const hp = pmetHparams(edit.params, base.config);
  const before = isEdited(model) ? model.plan.edits : [];
  const templates = await contextTemplates(model, tok, hp.context);
  const texts = hp.mom2_dataset === "identity" ? [] : covTexts(o.dataset, hp.mom2_dataset);
  const corpus = texts.slice(0, hp.mom2_n_samples ?? texts.length);
  const zLast = layers[layers.length - 1];
  const info: BatchInfo = { requests: [], layers: [], templates, cov_tokens: 0, ms: 0 };
  if (hp.mom2_dataset !== "identity") {
    // refuse a singular C before minutes of optimisation are spent on the targets
    await checkCov({ base, tok, corpus, layers: moved, hp, M });
  }
  let zs: Float64Array[] = [];
  if (!blue) {
    const t = await pmetTargets(model, tok, requests, hp, zLast, o);
    zs = t.zs;
    info.requests = t.info;
  }
  const done: BatchLayerDelta[] = [];
  const partial = (): PmetEdit => ({ ...edit, site: { layers }, learned: { layers: [...done] } });
  for (const [i, layer] of moved.entries()) {
    await checkLearningCancelled(o.signal);
    o.onProgress?.({ phase: "layer", layer, index: i, layers: moved.length });
    const cur = i === 0 ? model : applyEdits(base, [...before, partial()]);
    try {
      const zLayer = blue ? layer : zLast;
      if (blue) {
        const t = await pmetTargets(cur, tok, requests, hp, layer, o);
        zs = t.zs;
        info.requests.push(...t.info);
      }
      const per = hp.context.per_length;
      const { K } = await keysAndOutputs(cur, tok, requests, templates, per, { layer, zLayer });
      const h = await mlpOutputs(cur, tok, requests, zLayer);
      const share = pmetShare(i, moved.length, blue);
      const R = new Float64Array(n * D); // [n, D]
      for (let r = 0; r < n; r++)
        for (let d = 0; d < D; d++) R[r * D + d] = (zs[r][d] - h[r][d]) / share;
      const { a, tokens } = await layerFactor({
        edit,
        hp,
        base,
        tok,
        corpus,
        layer,
        K,
        M,
        n,
        stack: before,
      });
      info.cov_tokens = tokens;
      done.push({ layer, a: Array.from(a), b: Array.from(R) });
      info.layers.push({
        layer,
        z_layer: zLayer,
        resid_norm: norm(R),
        delta_norm: factorNorm(a, R, M, n, D),
      });
    } finally {
      if (cur !== model && isEdited(cur)) cur.dispose();
    }
  }
  info.ms = Date.now() - t0;
  return { ...edit, site: { layers }, learned: { layers: done, info } };
}
