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

import { matchSpans } from "../model/token-match";
import { now } from "../util/clock";
import type { TextTokenizer } from "../util/tokenizer";
import { baseOf, type ModelLike } from "./apply";
import { type CancelSignal, checkLearningCancelled } from "./cancel";
import { contextTemplates } from "./context";
import { checkRequests } from "./memit-params";
import { romeParams } from "./rome";
import { type RomeBatch, romeBatch } from "./rome-delta";
import { promptVariants, subjectKeys } from "./swea-keys";
import { knDims, knScores } from "./swea-kn";
import { optimiseSwea } from "./swea-optimise";
import { checkDistinctKeys, type ResolvedSwea, sweaHparams } from "./swea-params";
import { continuationIds } from "./tokens";
import {
  EditError,
  type RewriteRequest,
  type SweaEdit,
  type SweaFusion,
  type SweaInfo,
} from "./types";

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

interface RequestJob {
  model: ModelLike;
  tok: TextTokenizer;
  hp: ResolvedSwea;
  r: RewriteRequest;
  keys: number[][];
  signal?: CancelSignal;
}

/**
 * One request: for each spelling of the subject, the first prompt variant whose rewrite rows
 * hold it (lib/edit/swea-keys.ts promptVariants), δ learned on those rows, its knowledge
 * dimensions found on the first of them, and the fusion. A spelling no variant holds is skipped.
 */
async function learnRequest(
  job: RequestJob,
  onStep: (s: { step: number; steps: number; loss: number }) => void,
): Promise<{ fusions: Omit<SweaFusion, "request">[]; info: SweaInfo["requests"][0] }> {
  const { model, tok, hp, r } = job;
  const D = baseOf(model).config.dModel;
  const batches = new Map<string, RomeBatch>();
  const batchOf = async (prompt: string) => {
    let b = batches.get(prompt);
    if (!b) {
      b = await romeBatch(
        model,
        tok,
        romeParams({ ...r, prompt, kl_prompts: ["{} is"], context: hp.context }),
      );
      batches.set(prompt, b);
    }
    return b;
  };
  const fusions: Omit<SweaFusion, "request">[] = [];
  const info: SweaInfo["requests"][0] = { spellings: [], skipped_keys: [] };
  for (const key of job.keys) {
    await checkLearningCancelled(job.signal);
    let found: { batch: RomeBatch; row: number; start: number } | undefined;
    for (const prompt of promptVariants(r.prompt)) {
      const batch = await batchOf(prompt);
      const rows = batch.padded.ids
        .slice(0, batch.nR)
        .map((ids, j) => ids.slice(0, batch.tgtPos[j][0] + 1));
      const span = matchSpans(rows, [key])[0];
      if (span) {
        found = { batch, row: span.row, start: span.start };
        break;
      }
    }
    if (!found) {
      info.skipped_keys.push(key);
      continue;
    }
    const { batch } = found;
    const e = await embeddings(model, key);
    const opt = await optimiseSwea({
      model,
      batch,
      keys: [key],
      e0: e,
      hp,
      signal: job.signal,
      onStep,
    });
    // suppression: SWEA's code skips it for a request without an old object
    let dims: number[][] = key.map(() => []);
    if (hp.mode === "kn+optimize" && r.target_true && r.target_true.trim() !== "") {
      const ids = batch.padded.ids[found.row].slice(0, batch.tgtPos[found.row][0] + 1);
      const scores = await knScores({
        model,
        ids,
        first: found.start,
        last: found.start + key.length - 1,
        trueIds: continuationIds(tok, tok.decode(ids), r.target_true),
        steps: hp.kn_steps,
        threshold: hp.kn_threshold,
      });
      dims = knDims(scores, hp.kn_threshold);
    }
    const offsets = Array.from(opt.delta);
    dims.forEach((list, j) => {
      for (const d of list) offsets[j * D + d] -= hp.suppress_factor * e[j * D + d];
    });
    fusions.push({ tokens: [...key], offsets });
    info.spellings.push({
      tokens: [...key],
      prompt: tok.decode(batch.padded.ids[found.row].slice(0, batch.tgtPos[found.row][0] + 1)),
      losses: opt.losses,
      p_new: opt.p_new,
      delta_norm: Math.hypot(...opt.delta),
      suppressed: dims,
    });
  }
  return { fusions, info };
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
  const hp = sweaHparams(edit.params);
  /** An error of one request's work, naming it. */
  const named = (i: number, e: unknown): unknown =>
    e instanceof EditError && e.code === "bad_edit"
      ? new EditError(
          "bad_edit",
          `swea: request ${i} (${JSON.stringify(requests[i].subject)}): ${e.message}`,
        )
      : e;
  const keys = requests.map((r, i) => {
    try {
      return subjectKeys(tok, r);
    } catch (e) {
      throw named(i, e);
    }
  });
  checkDistinctKeys(
    requests,
    keys.map((k) => k.keys),
  );
  const fusions: SweaFusion[] = [];
  const info: SweaInfo["requests"] = [];
  for (const [i, r] of requests.entries()) {
    let done: Awaited<ReturnType<typeof learnRequest>>;
    try {
      done = await learnRequest({ model, tok, hp, r, keys: keys[i].keys, signal: o.signal }, (s) =>
        o.onProgress?.({ request: i, requests: requests.length, ...s }),
      );
    } catch (e) {
      throw named(i, e);
    }
    fusions.push(...done.fusions.map((f) => ({ request: i, ...f })));
    info.push(done.info);
  }
  const templates = await contextTemplates(model, tok, hp.context);
  return { ...edit, learned: { fusions, info: { requests: info, templates, ms: now() - t0 } } };
}
