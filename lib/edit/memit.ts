/**
 * MEMIT (Meng et al. 2023, kmeng01/memit memit_main.py), AlphaEdit (Fang et al. 2025,
 * jianghoucheng/AlphaEdit) and BLUE (Li et al. 2025, xpq-tech/BLUE) on the model, over a range of
 * MLP layers l₁ < … < l_L (docs/edits.md "MEMIT, AlphaEdit, BLUE"):
 *
 *   targets  for every request i, z_i = h_i + δ_i at the last layer l_L (the block output
 *            hook_resid_post at the subject's last token), δ_i optimised as ROME's v* is
 *            (lib/edit/rome-delta.ts with anchor "resid_post": MEMIT's compute_z)
 *   layers   in order, each on the model with the layers before already updated:
 *              K  the requests' keys (mlp.hook_post at the subject's last token, the mean of
 *                 the bare prompt's key and the context templates' mean key: compute_ks)
 *              R  (z − h_L now) / (number of layers left)   (the residual spread)
 *              ΔW from K, R and C (lib/edit/memit-solve.ts)
 *   BLUE     only l₁ and l_L move; each gets its own targets z at that layer, computed on the
 *            model as updated so far, and its whole residual (memit_main.py execute_memit_blue)
 *
 * C is the second moment of keys over the corpus on the unedited base model, computed once per
 * model, layer and corpus and kept in memory (lib/edit/cov.ts), as MEMIT's get_cov caches it.
 */
import type { TextTokenizer } from "../util/tokenizer";
import { applyEdits, baseOf, isEdited, type ModelLike } from "./apply";
import { type CancelSignal, checkLearningCancelled } from "./cancel";
import { contextTemplates } from "./context";
import type { EditDataset } from "./dataset";
import { norm } from "./linalg";
import { checkCov, factorNorm, layerFactor } from "./memit-factor";
import { keysAndOutputs } from "./memit-keys";
import {
  batchLayers,
  checkRequests,
  memitHparams,
  type ResolvedHparams,
  updatedLayers,
} from "./memit-params";
import { mlpOutputs, pmetTarget } from "./pmet";
import { pmetHparams, pmetShare, type ResolvedPmetHparams } from "./pmet-params";
import { covTexts, ROME_DEFAULTS, type RomeStep, romeParams } from "./rome";
import { optimiseDelta, romeBatch } from "./rome-delta";
import {
  type BatchEdit,
  type BatchInfo,
  type BatchLayerDelta,
  type Edit,
  EditError,
  type RewriteRequest,
} from "./types";

/** Where a batch edit is; `request` counts from 0 within the batch. */
export type BatchProgress =
  | {
      phase: "target";
      request: number;
      requests: number;
      step: number;
      steps: number;
      loss: number;
    }
  | { phase: "layer"; layer: number; index: number; layers: number }
  | { phase: "keys"; layer: number };

export interface BatchLearnOptions {
  dataset?: EditDataset;
  onProgress?: (p: BatchProgress) => void;
  signal?: CancelSignal;
}

/** Runs `f` with errors from one request named by its index. */
export async function forRequest<T>(i: number, r: RewriteRequest, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof EditError && e.code === "bad_edit") {
      throw new EditError("bad_edit", `request ${i} (${JSON.stringify(r.subject)}): ${e.message}`);
    }
    throw e;
  }
}

/**
 * z_i = h_i + δ_i at `layer` for every request (MEMIT's compute_z), [n][D]; PMET: the FFN
 * output's target (lib/edit/pmet.ts pmetTarget).
 */
async function targets(
  model: ModelLike,
  tok: TextTokenizer,
  requests: readonly RewriteRequest[],
  hp: ResolvedHparams,
  layer: number,
  o: BatchLearnOptions & { pmet: boolean },
): Promise<{ zs: Float64Array[]; info: BatchInfo["requests"] }> {
  const zs: Float64Array[] = [];
  const info: BatchInfo["requests"] = [];
  for (const [i, r] of requests.entries()) {
    const p = romeParams({
      ...r,
      steps: hp.v_num_grad_steps,
      lr: hp.v_lr,
      kl_weight: hp.kl_factor,
      weight_decay: hp.v_weight_decay,
      clamp: hp.clamp_norm_factor,
      early_stop: ROME_DEFAULTS.early_stop,
      context: hp.context,
    });
    const onStep = (s: RomeStep) =>
      o.onProgress?.({
        phase: "target",
        request: i,
        requests: requests.length,
        step: s.step,
        steps: s.steps,
        loss: s.loss,
      });
    const t = await forRequest(i, r, async () => {
      const batch = await romeBatch(model, tok, p);
      if (o.pmet) {
        const pmetHp = hp as ResolvedPmetHparams;
        return pmetTarget({ model, batch, layer, hp: pmetHp, signal: o.signal, onStep });
      }
      const d = await optimiseDelta({
        model,
        batch,
        layer,
        p,
        anchor: "resid_post",
        signal: o.signal,
        onStep,
      });
      const z = Float64Array.from(d.v0, (x, j) => x + d.delta[j]);
      const last = d.losses[d.losses.length - 1];
      return {
        z,
        info: {
          losses: d.losses.map((l) => l.loss),
          p_new: last?.p_new ?? 0,
          delta_norm: norm(d.delta),
          target_ids: batch.target,
          z: Array.from(z),
          z_layer: layer,
        },
      };
    });
    zs.push(t.z);
    info.push(t.info);
  }
  return { zs, info };
}

/**
 * Learns a MEMIT, AlphaEdit or PMET edit (BLUE when params.blue) on `model`; returns it
 * complete. PMET differs in its targets, the residual it measures (the FFN output's, not the
 * block's) and its spread (√ of the layers left): lib/edit/pmet.ts.
 */
export async function learnBatch(
  model: ModelLike,
  tok: TextTokenizer,
  edit: BatchEdit,
  o: BatchLearnOptions = {},
): Promise<BatchEdit> {
  const t0 = Date.now();
  const { requests } = edit.params;
  checkRequests(requests, edit.kind);
  const base = baseOf(model);
  const { dMlp: M, dModel: D } = base.config;
  const n = requests.length;
  const layers = batchLayers(edit, base.config);
  const blue = edit.params.blue === true;
  const moved = updatedLayers(layers, blue);
  const pmet = edit.kind === "pmet";
  const hp = pmet ? pmetHparams(edit.params, base.config) : memitHparams(edit.params, base.config);
  const before = isEdited(model) ? model.plan.edits : [];
  const templates = await contextTemplates(model, tok, hp.context);
  const texts = hp.mom2_dataset === "identity" ? [] : covTexts(o.dataset, hp.mom2_dataset);
  const corpus = texts.slice(0, hp.mom2_n_samples ?? texts.length);
  const zLast = layers[layers.length - 1];
  const info: BatchInfo = { requests: [], layers: [], templates, cov_tokens: 0, ms: 0 };
  if (edit.kind !== "alphaedit" && hp.mom2_dataset !== "identity") {
    // refuse a singular C before minutes of optimisation are spent on the targets
    await checkCov({ base, tok, corpus, layers: moved, hp, M });
  }
  let zs: Float64Array[] = [];
  if (!blue) {
    const t = await targets(model, tok, requests, hp, zLast, { ...o, pmet });
    zs = t.zs;
    info.requests = t.info;
  }
  const done: BatchLayerDelta[] = [];
  const partial = (): BatchEdit => ({ ...edit, site: { layers }, learned: { layers: [...done] } });
  for (const [i, layer] of moved.entries()) {
    await checkLearningCancelled(o.signal);
    o.onProgress?.({ phase: "layer", layer, index: i, layers: moved.length });
    const cur = i === 0 ? model : applyEdits(base, [...before, partial()]);
    try {
      const zLayer = blue ? layer : zLast;
      if (blue) {
        const t = await targets(cur, tok, requests, hp, layer, { ...o, pmet });
        zs = t.zs;
        info.requests.push(...t.info);
      }
      const kh = await keysAndOutputs(cur, tok, requests, templates, hp.context.per_length, {
        layer,
        zLayer,
      });
      const { K } = kh;
      const h = pmet ? await mlpOutputs(cur, tok, requests, zLayer) : kh.h;
      const share = pmet ? pmetShare(i, moved.length, blue) : blue ? 1 : moved.length - i;
      const R = new Float64Array(n * D);
      for (let r = 0; r < n; r++)
        for (let d = 0; d < D; d++) R[r * D + d] = (zs[r][d] - h[r][d]) / share;
      const { a, tokens, nullDim } = await layerFactor({
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
        ...(nullDim !== undefined ? { null_dim: nullDim } : {}),
      });
    } finally {
      if (cur !== model && isEdited(cur)) cur.dispose();
    }
  }
  if (edit.kind === "alphaedit")
    await storeKeys({ model, base, before, partial, tok, requests, templates, hp, done, o });
  info.ms = Date.now() - t0;
  return { ...edit, site: { layers }, learned: { layers: done, info } } as BatchEdit;
}

/** AlphaEdit: the keys of every moved layer on the fully edited model, kept for later batches. */
async function storeKeys(x: {
  model: ModelLike;
  base: ReturnType<typeof baseOf>;
  before: readonly Edit[];
  partial: () => BatchEdit;
  tok: TextTokenizer;
  requests: readonly RewriteRequest[];
  templates: readonly string[];
  hp: ResolvedHparams;
  done: BatchLayerDelta[];
  o: BatchLearnOptions;
}): Promise<void> {
  const edited = applyEdits(x.base, [...x.before, x.partial()]);
  try {
    for (const d of x.done) {
      x.o.onProgress?.({ phase: "keys", layer: d.layer });
      const { K } = await keysAndOutputs(
        edited,
        x.tok,
        x.requests,
        x.templates,
        x.hp.context.per_length,
        {
          layer: d.layer,
          zLayer: d.layer,
        },
      );
      d.keys = Array.from(K);
    }
  } finally {
    edited.dispose();
  }
}
