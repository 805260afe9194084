/**
 * MEMIT's and AlphaEdit's hyper-parameters (their hparams files' names), the default layer
 * range, and the checks of a batch of requests before any work starts.
 */
import type { Gpt2Config } from "../load/types";
import { defaultRomeLayer } from "./rome";
import {
  type BatchEdit,
  type BatchParams,
  type CovSource,
  EditError,
  type MemitHparams,
  type RewriteRequest,
} from "./types";

/**
 * kmeng01/memit hparams/MEMIT/gpt2-xl.json and jianghoucheng/AlphaEdit hparams/AlphaEdit/
 * gpt2-xl.json, except the corpus of C (the model's own general text plus its facts as
 * sentences, as ROME's default here: lib/edit/rome.ts covTexts) and the context templates
 * (MEMIT's one group of 5 texts of 10 tokens after "{}").
 */
export const MEMIT_DEFAULTS = {
  v_num_grad_steps: 20,
  v_lr: 0.5,
  v_weight_decay: 0.5,
  clamp_norm_factor: 0.75,
  kl_factor: 0.0625,
  mom2_update_weight: 20000,
  mom2_dataset: "general_text+facts" as CovSource,
  mom2_shrinkage: 0,
  nullspace_threshold: 2e-2,
  L2: 10,
  context: { lengths: [10], per_length: 5, seed: 0, top_k: 5 },
};

/**
 * The bundled-size models' (≤ 8 layers) own values, chosen by measurement on the bundled model
 * (docs/edits.md "MEMIT, AlphaEdit and BLUE on the bundled model", one batch of 10 cases): its
 * keys live in 512 dimensions and its corpus contains the edited subjects, so kᵀC⁻¹k of an
 * edited key is ~700 (C from general_text+facts) and MEMIT's λ = 20000 writes ~3% of each
 * residual (efficacy 0); λ = 10 writes most of it. With MEMIT's clamp (0.75‖h‖) 3 of 10 targets
 * never make the new object likely (efficacy 0.6); ROME's clamp 4 and 40 steps (ROME's default
 * here) give efficacy 1.0, paraphrase 0.7, neighbourhood 0.94. AlphaEdit's L2 = 10 damps its
 * projected update to nothing here (efficacy 0); L2 = 0.1 gave 0.6 (with MEMIT's clamp; the
 * combination with clamp 4 is not measured yet).
 */
export const SMALL_MODEL_HPARAMS = {
  mom2_update_weight: 10,
  v_num_grad_steps: 40,
  clamp_norm_factor: 4,
  L2: 0.1,
};

export type ResolvedHparams = Required<
  Omit<MemitHparams, "mom2_n_samples" | "context" | "nll_loss_factor" | "v_loss_layer">
> & {
  mom2_n_samples?: number;
  /** PMET's (lib/edit/pmet-params.ts fills them in). */
  nll_loss_factor?: number;
  v_loss_layer?: number;
  context: typeof MEMIT_DEFAULTS.context;
};

/**
 * The edit's hyper-parameters with the defaults (MEMIT's, or the small models') filled in;
 * `own`: a method's own defaults over MEMIT's (PMET's: lib/edit/pmet-params.ts).
 */
export function memitHparams(
  p: MemitHparams,
  config: { nLayer: number },
  own: Partial<ResolvedHparams> = {},
): ResolvedHparams {
  const given = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
  delete given.requests;
  delete given.blue;
  return {
    ...MEMIT_DEFAULTS,
    ...own,
    ...(config.nLayer <= 8 ? SMALL_MODEL_HPARAMS : {}),
    ...given,
    context: { ...MEMIT_DEFAULTS.context, ...(p.context ?? {}) },
  } as ResolvedHparams;
}

/**
 * The layers a batch edit rewrites when the edit names none: a range ending at the layer the
 * MLP causal trace peaks at (ROME's default layer, lib/edit/rome.ts defaultRomeLayer), as long
 * as GPT-2 XL's 13–17 (5 of 48) scaled to depth but at least 2 (a range of one layer has no
 * residual to spread and BLUE needs two boundaries), moved up when it would start below 0.
 * GPT-2 XL: 13–17; GPT-2 small: 3–4; the bundled 6-layer model, whose MLP trace peaks at
 * layer 0: 0–1.
 */
export function defaultMemitLayers(config: Gpt2Config): number[] {
  const n = Math.min(config.nLayer, Math.max(2, Math.round((5 * config.nLayer) / 48)));
  const end = Math.max(n - 1, defaultRomeLayer(config));
  return Array.from({ length: n }, (_, i) => end - n + 1 + i);
}

/** The layers of a batch edit: its own (checked) or the default. */
export function batchLayers(edit: BatchEdit, config: Gpt2Config): number[] {
  const layers = edit.site.layers ?? defaultMemitLayers(config);
  const where = `${edit.kind}`;
  if (layers.length === 0) throw new EditError("bad_edit", `${where}: site.layers is empty`);
  for (const [i, l] of layers.entries()) {
    if (!Number.isInteger(l) || l < 0 || l >= config.nLayer) {
      throw new EditError(
        "bad_edit",
        `${where}: site.layers[${i}] = ${l} does not exist (0 to ${config.nLayer - 1})`,
      );
    }
    if (i > 0 && l <= layers[i - 1]) {
      throw new EditError("bad_edit", `${where}: site.layers must be ascending without repeats`);
    }
  }
  return layers;
}

/** The layers that move: all of the range, or (BLUE) its first and last. */
export function updatedLayers(layers: readonly number[], blue: boolean): number[] {
  if (!blue || layers.length <= 2) return [...layers];
  return [layers[0], layers[layers.length - 1]];
}

/**
 * A batch's requests, each a specific error naming its index (and CounterFact case, when it has
 * one): a prompt without exactly one "{}" for the subject, an empty subject or target, and two
 * requests for one subject (MEMIT's least-squares step would ask one key for two values).
 */
export function checkRequests(requests: readonly RewriteRequest[], where = "the batch"): void {
  if (requests.length === 0) throw new EditError("bad_edit", `${where} has no requests`);
  const caseOf = (i: number) => requests[i].case_id;
  const seen = new Map<string, number>();
  requests.forEach((r, i) => {
    const fail = (msg: string): never => {
      const c = caseOf(i) === undefined ? "" : `case ${caseOf(i)}, `;
      throw new EditError(
        "bad_edit",
        `${where}: ${c}request ${i} (${JSON.stringify(r.subject)}): ${msg}`,
      );
    };
    const slots = r.prompt.split("{}").length - 1;
    if (slots === 0) fail(`prompt ${JSON.stringify(r.prompt)} has no "{}" for the subject`);
    if (slots > 1) {
      fail(`prompt ${JSON.stringify(r.prompt)} has "{}" ${slots} times: one slot for the subject`);
    }
    if (r.subject.trim() === "") fail("the subject is empty");
    if (r.target_new.trim() === "") fail("target_new is empty");
    const s = r.subject.trim();
    const before = seen.get(s);
    if (before !== undefined) {
      const other = caseOf(before) === undefined ? "" : ` (case ${caseOf(before)})`;
      fail(`the same subject as request ${before}${other}: one subject per batch`);
    }
    seen.set(s, i);
  });
}

export type { BatchParams };
