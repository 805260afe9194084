/**
 * SWEA⊕OS (Li et al. 2024, xpq-tech/SWEA SWEAOS/SWEA.py apply_SWEAOS_to_model): a fact is edited
 * by adding fused offsets to the token embeddings of its subject wherever the subject's tokens
 * occur in the input; no weight changes. For every request, on the model as it is now:
 *
 *   optimise  δ [P, D] for the subject's P tokens (lib/edit/swea-optimise.ts)
 *   suppress  the embedding dimensions attributed to the old object (lib/edit/swea-kn.ts)
 *   fuse      offsets = δ − suppress_factor · mask ⊙ e      (e: the key's token embeddings;
 *             OS_fusion.kn_suppressing: optimize_fusion − 0.5 · neuron_masks ⊙ E[subject ids])
 *
 * Each request is learned on the same model (SWEA computes every fusion on the unedited model and
 * attaches them all at the end); lib/edit/swea-site.ts turns the fusions into the lookup
 * intervention at hook_embed that every pass applies.
 */

import { now } from "../util/clock";
import type { TextTokenizer } from "../util/tokenizer";
import { baseOf, type ModelLike, viewOf } from "./apply";
import { type CancelSignal, checkLearningCancelled } from "./cancel";
import { contextTemplates } from "./context";
import { checkRequests } from "./memit-params";
import { romeParams } from "./rome";
import { romeBatch } from "./rome-delta";
import { subjectKeys } from "./swea-keys";
import { knDims, knScores } from "./swea-kn";
import { optimiseSwea } from "./swea-optimise";
import { checkDistinctKeys, sweaHparams } from "./swea-params";
import { continuationIds } from "./tokens";
import { EditError, type SweaEdit, type SweaFusion, type SweaInfo } from "./types";

export interface SweaLearnOptions {
  onProgress?: (p: {
    request: number;
    requests: number;
    step: number;
    steps: number;
    loss: number;
  }) => void;
  signal?: CancelSignal;
}

/** Token embeddings [P·D] of ids, as the unedited model has them (hook_embed, no intervention). */
function embeddings(model: ModelLike, ids: readonly number[]): Promise<Float32Array> {
  const base = baseOf(model);
  const e = base.embed([[...ids]], { hooks: base.hooks({ record: ["hook_embed"] }) });
  const t = e.activations.get("hook_embed")!;
  e.resid.dispose();
  return t.data().then((d) => {
    t.dispose();
    return Float32Array.from(d);
  });
}

/** Learns a SWEA edit on `model`: every request's fused offsets; returns the edit complete. */
export async function learnSwea(
  model: ModelLike,
  tok: TextTokenizer,
  edit: SweaEdit,
  o: SweaLearnOptions = {},
): Promise<SweaEdit> {
  const t0 = now();
  const { requests } = edit.params;
  checkRequests(requests, "swea");
  const config = baseOf(model).config;
  const hp = sweaHparams(edit.params, config);
  const D = config.dModel;
  const keys = requests.map((r, i) => {
    try {
      return subjectKeys(tok, r);
    } catch (e) {
      if (e instanceof EditError)
        throw new EditError(
          "bad_edit",
          `swea: request ${i} (${JSON.stringify(r.subject)}): ${e.message}`,
        );
      throw e;
    }
  });
  checkDistinctKeys(
    requests,
    keys.map((k) => k.keys),
  );
  const fusions: SweaFusion[] = [];
  const info: SweaInfo["requests"] = [];
  for (const [i, r] of requests.entries()) {
    await checkLearningCancelled(o.signal);
    const k = keys[i];
    const p = romeParams({ ...r, kl_prompts: ["{} is"], context: hp.context });
    const batch = await romeBatch(model, tok, p);
    const e0 = await embeddings(model, k.keys[0]);
    const opt = await optimiseSwea({
      view: viewOf(model, batch.padded.lengths),
      batch,
      keys: k.keys,
      e0,
      hp,
      signal: o.signal,
      onStep: (s) => o.onProgress?.({ request: i, requests: requests.length, ...s }),
    });
    // suppression: SWEA's code skips it for a request without an old object
    let dims: number[][] = k.keys[0].map(() => []);
    if (hp.mode === "kn+optimize" && r.target_true && r.target_true.trim() !== "") {
      const scores = await knScores({
        model,
        ids: k.ids,
        first: k.first,
        last: k.last,
        trueIds: continuationIds(tok, k.text, r.target_true),
        steps: hp.kn_steps,
        threshold: hp.kn_threshold,
      });
      dims = knDims(scores, hp.kn_threshold);
    }
    for (const key of k.keys) {
      const e = key === k.keys[0] ? e0 : await embeddings(model, key);
      const offsets = Array.from(opt.delta);
      dims.forEach((list, j) => {
        for (const d of list) offsets[j * D + d] -= hp.suppress_factor * e[j * D + d];
      });
      fusions.push({ request: i, tokens: [...key], offsets });
    }
    info.push({
      losses: opt.losses,
      p_new: opt.p_new,
      delta_norm: Math.hypot(...opt.delta),
      suppressed: dims,
      skipped_keys: k.skipped,
    });
  }
  const templates = await contextTemplates(model, tok, hp.context);
  return { ...edit, learned: { fusions, info: { requests: info, templates, ms: now() - t0 } } };
}
