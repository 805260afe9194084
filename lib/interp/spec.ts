/**
 * Plain-data job specs for the sweeps, their defaults and their validation. A spec is what a
 * session shares (URL, worker message, CLI flags): everything needed to recompute its numbers.
 *
 * Causal trace (ROME, docs/methods.md §0):
 *   const spec: TraceSpec = {
 *     prompt: "The Eiffel Tower is located in the city of",
 *     subject: "Eiffel Tower",          // or [1, 4]: token range, end-exclusive
 *     kind: "hidden",                   // "hidden" | "mlp" | "attn"
 *   };                                  // target: the clean top-1; 10 samples, ν = 3σ, seed 1
 *
 * Activation patching:
 *   const spec: PatchSpec = {
 *     clean: "The Eiffel Tower is in the city of", corrupt: "The Colosseum is in the city of",
 *     target: " Paris", foil: " Rome", site: "head_out",
 *   };
 *
 * Text or ids: prompts may be given as token ids (number[]) instead of text, targets as ids;
 * a subject given as text needs a text prompt (or a tokenizer to decode ids).
 */

import { CodedError } from "../errors";
import { inRange, rangeText } from "../params/schema";
import { TRACE_PARAMS } from "../params/table";

export type TraceKind = "hidden" | "mlp" | "attn";
export const TRACE_KINDS: readonly TraceKind[] = ["hidden", "mlp", "attn"];

export type Strategy = "fast" | "naive";
export const STRATEGIES: readonly Strategy[] = ["fast", "naive"];

/**
 * How the subject is corrupted.
 * - noise: Gaussian noise N(0, ν²) added to the subject tokens' input (token) embeddings, ν =
 *   `noise` × std of the token-embedding matrix, `samples` draws from the seeded generator
 *   (lib/interp/rng.ts). ROME's corruption.
 * - prompt: the counterfactual prompt (same number of tokens) is the corrupted run; one run, no
 *   samples. The first token where the two prompts differ is the first corrupted position.
 */
export type Corruption = { type: "noise" } | { type: "prompt"; prompt: string | number[] };

export interface TraceSpec {
  prompt: string | number[];
  /**
   * The subject: text (its first occurrence in the prompt; the token span covering it) or a token
   * range [b, e), end-exclusive. Required for noise corruption; optional for prompt corruption
   * (default: the span of tokens where the prompts differ).
   */
  subject?: string | [number, number];
  /**
   * What to score: text (may be several tokens: scored as the probability of the whole
   * continuation, teacher forced; a leading space is added when the target has none and the
   * prompt does not end in whitespace, as TransformerLens' test_prompt does), a token id, or ids.
   * Default: the clean run's top-1 next token.
   */
  target?: string | number | number[];
  /** What is restored at (token t, layer l). Default "hidden". */
  kind?: TraceKind;
  /** Noise samples averaged per cell. Default 10 (ROME). */
  samples?: number;
  /** Noise multiplier: ν = noise × std(token embeddings). Default 3 (ROME). */
  noise?: number;
  /** Seed of the noise generator. Default 1. */
  seed?: number;
  /**
   * mlp / attn kinds restore a window of layers [l − ⌊w/2⌋, l + ⌈w/2⌉) clipped to the model.
   * Default: defaultWindow(nLayer) = max(1, round(nLayer / 5)). Ignored by "hidden".
   */
  window?: number;
  /** Default { type: "noise" }. */
  corruption?: Corruption;
  /** Default "fast"; "naive" is the reference (one full forward per cell). */
  strategy?: Strategy;
}

export type PatchSite = "resid_pre" | "attn_out" | "mlp_out" | "head_out" | "head_out_pos";
export const PATCH_SITES: readonly PatchSite[] = [
  "resid_pre",
  "attn_out",
  "mlp_out",
  "head_out",
  "head_out_pos",
];

export type PatchMetric = "logit_diff_normalized" | "prob";
export const PATCH_METRICS: readonly PatchMetric[] = ["logit_diff_normalized", "prob"];

export interface PatchSpec {
  clean: string | number[];
  /** Same number of tokens as `clean`. */
  corrupt: string | number[];
  /** A single token (text or id): the answer of the clean prompt. */
  target: string | number;
  /** A single token (text or id): the answer of the corrupted prompt. */
  foil: string | number;
  /**
   * What is copied from the clean run into the corrupted run:
   *   resid_pre | attn_out | mlp_out   by (layer, position)          → scores [L][T]
   *   head_out                         hook_z of one head, all positions → scores [L][H]
   *   head_out_pos                     hook_z of one head at one position → scores [L][T][H]
   */
  site: PatchSite;
  /**
   * logit_diff_normalized: (LD_patched − LD_corrupt) / (LD_clean − LD_corrupt) with LD =
   * logit[target] − logit[foil] at the last position (clean = 1, corrupted = 0).
   * prob: softmax probability of the target at the last position. Default logit_diff_normalized.
   */
  metric?: PatchMetric;
  strategy?: Strategy;
}

export type TraceErrorCode =
  | "bad_spec" // a field of the wrong type or out of range
  | "empty_prompt"
  | "too_long" // prompt (+ continuation) longer than the model's context
  | "subject_not_found" // subject text not in the prompt
  | "bad_subject" // bad token range, or text subject without text
  | "bad_target" // empty, not a single token where one is needed, outside the vocabulary
  | "length_mismatch" // counterfactual prompt with a different number of tokens
  | "identical_prompts"; // counterfactual prompt equal to the prompt

/** A spec the engine refuses, with a one-line message fit to show a user. */
export class TraceError extends CodedError<TraceErrorCode> {
  override readonly name = "TraceError";
}

/** Defaults of the numeric fields: lib/params/table.ts (the one table of settings). */
export const TRACE_DEFAULTS = {
  kind: "hidden" as TraceKind,
  samples: TRACE_PARAMS.samples.default as number,
  noise: TRACE_PARAMS.noise.default as number,
  seed: TRACE_PARAMS.seed.default as number,
  strategy: "fast" as Strategy,
};

/**
 * Default mlp/attn window: max(1, round(nLayer / 5)). ROME's w = 10 was chosen for the 48-layer
 * GPT-2 XL, which this reproduces (48 / 5 → 10); it scales with depth so that a window never
 * spans the whole model (where every column would be the same): GPT-2 small (12 layers) → 2,
 * medium (24) → 5, large (36) → 7, a 4-layer model → 1.
 */
export function defaultWindow(nLayer: number): number {
  return Math.max(1, Math.round(nLayer / 5));
}

/** Layers restored for a cell at layer l with window w: [max(0, l − ⌊w/2⌋), min(L, l + ⌈w/2⌉)). */
export function windowLayers(layer: number, window: number, nLayer: number): number[] {
  const lo = Math.max(0, layer - Math.floor(window / 2));
  const hi = Math.min(nLayer, layer + Math.ceil(window / 2));
  const out: number[] = [];
  for (let j = lo; j < hi; j++) out.push(j);
  return out;
}

export interface ResolvedTraceOptions {
  kind: TraceKind;
  samples: number;
  noise: number;
  seed: number;
  window: number;
  strategy: Strategy;
  corruption: Corruption;
}

function bad(msg: string): never {
  throw new TraceError("bad_spec", msg);
}

/** A field checked against its row of the settings table (`max`: a model's lower bound). */
function param(v: unknown, name: keyof typeof TRACE_PARAMS, max?: number): number {
  const p = TRACE_PARAMS[name];
  if (!inRange(p, v, max)) bad(`${name} must be ${rangeText(p, max)}, got ${JSON.stringify(v)}`);
  return v;
}

function oneOf<T extends string>(v: unknown, name: string, allowed: readonly T[]): T {
  if (!allowed.includes(v as T))
    bad(`${name} must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
  return v as T;
}

export function checkPromptValue(v: unknown, name: string): void {
  const ok =
    typeof v === "string" ||
    (Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isInteger(x)));
  if (!ok) bad(`${name} must be text or an array of token ids`);
}

/** Fills in defaults and checks every scalar field of a TraceSpec (token-level checks come later). */
export function resolveTraceOptions(spec: TraceSpec, nLayer: number): ResolvedTraceOptions {
  if (spec === null || typeof spec !== "object") bad("a trace spec must be an object");
  checkPromptValue(spec.prompt, "prompt");
  const kind = oneOf(spec.kind ?? TRACE_DEFAULTS.kind, "kind", TRACE_KINDS);
  const samples = param(spec.samples ?? TRACE_DEFAULTS.samples, "samples");
  const noise = param(spec.noise ?? TRACE_DEFAULTS.noise, "noise");
  const seed = param(spec.seed ?? TRACE_DEFAULTS.seed, "seed");
  // a window wider than the model restores every layer in every column: refused, not clipped
  const window = param(
    spec.window ?? defaultWindow(nLayer),
    "window",
    Math.min(TRACE_PARAMS.window.max, nLayer),
  );
  const strategy = oneOf(spec.strategy ?? TRACE_DEFAULTS.strategy, "strategy", STRATEGIES);
  const corruption = spec.corruption ?? { type: "noise" };
  if (corruption === null || typeof corruption !== "object") bad("corruption must be an object");
  oneOf(corruption.type, "corruption.type", ["noise", "prompt"]);
  if (corruption.type === "prompt") checkPromptValue(corruption.prompt, "corruption.prompt");
  const t = spec.target;
  if (
    t !== undefined &&
    typeof t !== "string" &&
    !(typeof t === "number" && Number.isInteger(t)) &&
    !(Array.isArray(t) && t.length > 0 && t.every((x) => Number.isInteger(x)))
  ) {
    bad("target must be text, a token id or a non-empty array of token ids");
  }
  const s = spec.subject;
  if (
    s !== undefined &&
    typeof s !== "string" &&
    !(Array.isArray(s) && s.length === 2 && s.every((x) => Number.isInteger(x)))
  ) {
    bad("subject must be text or a token range [begin, end)");
  }
  if (s === undefined && corruption.type === "noise") {
    throw new TraceError("bad_subject", "a subject is required to corrupt it with noise");
  }
  return {
    kind,
    samples: corruption.type === "prompt" ? 1 : samples,
    noise,
    seed,
    window,
    strategy,
    corruption,
  };
}

export interface ResolvedPatchOptions {
  site: PatchSite;
  metric: PatchMetric;
  strategy: Strategy;
}

export function resolvePatchOptions(spec: PatchSpec): ResolvedPatchOptions {
  if (spec === null || typeof spec !== "object") bad("a patch spec must be an object");
  checkPromptValue(spec.clean, "clean");
  checkPromptValue(spec.corrupt, "corrupt");
  for (const k of ["target", "foil"] as const) {
    const v = spec[k];
    if (typeof v !== "string" && !(typeof v === "number" && Number.isInteger(v))) {
      throw new TraceError("bad_target", `${k} must be a single token: text or a token id`);
    }
  }
  return {
    site: oneOf(spec.site, "site", PATCH_SITES),
    metric: oneOf(spec.metric ?? "logit_diff_normalized", "metric", PATCH_METRICS),
    strategy: oneOf(spec.strategy ?? "fast", "strategy", STRATEGIES),
  };
}
