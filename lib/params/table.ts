/**
 * THE table of numeric settings: one row per trace, patch, generation and edit setting, with its
 * default, documented bounds, unit and doc (./schema.ts). The CLI's flags, the store's checks,
 * the edit forms, the share-link codec and the engine's spec check all read these rows; nothing
 * else writes a default or a bound of these settings. Edit recipes' numbers (steps, lr, rank, α,
 * …) are bounded by their own table, lib/edit/bounds.ts (under the edit file's snake_case names),
 * which the edit parser, the edit forms, the CLI's edit flags and links all read.
 */
import { EDIT_BOUNDS } from "../edit/bounds";
import type { GenerateSettings } from "../protocol";
import { fromBound, type NumParam } from "./schema";

const UINT32_MAX = 0xffffffff;

const int = (
  min: number,
  max: number,
  def: number | null,
  label: string,
  doc: string,
  unit?: string,
): NumParam => ({ integer: true, min, max, default: def, label, doc, unit });

const num = (
  min: number,
  max: number,
  def: number | null,
  label: string,
  doc: string,
  unit?: string,
): NumParam => ({ integer: false, min, max, default: def, label, doc, unit });

/** Sizes checked before work starts (issue 10.14). */
export const LIMITS = {
  /** Characters of a prompt (store, links, CLI); the real limit is the model's context. */
  promptChars: 20_000,
  /** Edits in a stack (edit files, links, the app): the edit parser's bound. */
  edits: EDIT_BOUNDS.edits.max,
  /** Tokens of a carried trace or a picked subject range in a link. */
  tokens: 4096,
} as const;

/** The causal trace (lib/interp/spec.ts TraceSpec). */
export const TRACE_PARAMS = {
  samples: int(1, 1000, 10, "samples", "noise samples averaged per cell (ROME: 10)", "draws"),
  noise: num(
    0,
    1000,
    3,
    "the noise multiplier",
    "ν = noise × std(token embeddings) (ROME: 3)",
    "σ",
  ),
  seed: int(0, UINT32_MAX, 1, "the seed", "seed of the noise generator (uint32)"),
  /** Also at most the model's n_layer, checked when the model is known. */
  window: int(
    1,
    10_000,
    null,
    "the window",
    "layers restored around each mlp/attn cell (default max(1, round(n_layer / 5)); ≤ n_layer)",
    "layers",
  ),
} as const;

/** trace-dataset: how many facts. */
export const DATASET_PARAMS = {
  limit: int(1, 1_000_000, null, "the limit", "facts traced (default: all)", "facts"),
} as const;

/** Next-token predictions (also ≤ the vocabulary size). */
export const PREDICT_PARAMS = {
  top: int(1, 1000, 10, "top", "predictions listed, most likely first", "tokens"),
} as const;

/** Generation (lib/edit/generate.ts): greedy, or sampled with a seed. */
export const GENERATE_PARAMS = {
  maxNew: int(1, 4096, 20, "max new tokens", "tokens generated (also ≤ the context)", "tokens"),
  temperature: num(1e-6, 1e6, 1, "the temperature", "softmax(logits / T) when sampling"),
  topK: int(0, 1_000_000, 0, "top-k", "sample among the k most likely (0: all)", "tokens"),
  seed: int(0, UINT32_MAX, 0, "the seed", "seed of the sampler (uint32)"),
} as const;

/** Greedy decoding with the defaults above: the generation panel's start, a link's default. */
export const DEFAULT_GENERATION: GenerateSettings = {
  maxNew: GENERATE_PARAMS.maxNew.default as number,
  sample: false,
  seed: GENERATE_PARAMS.seed.default as number,
  temperature: GENERATE_PARAMS.temperature.default as number,
  topK: GENERATE_PARAMS.topK.default as number,
};

/** causeway edit --counterfact: general texts for the loss ratio. */
export const EDIT_RUN_PARAMS = {
  texts: int(0, 100_000, 100, "texts", "general texts for the loss ratio", "texts"),
  batch: int(1, 10_000, 1, "batch", "requested rewrites edited together", "requests"),
} as const;

/** Edit settings the CLI's flags and the edit forms take: the edit parser's own bounds. */
export const EDIT_PARAMS = {
  romeSteps: fromBound(EDIT_BOUNDS.rome_steps, { integer: true, label: "steps" }),
  shrinkage: fromBound(EDIT_BOUNDS.shrinkage, { integer: false, label: "the shrinkage γ" }),
  prefixes: fromBound(EDIT_BOUNDS.context_per_length, { integer: true, label: "prefixes" }),
  loreftRank: fromBound(EDIT_BOUNDS.loreft_rank, { integer: true, label: "the rank" }),
  nTrain: fromBound(EDIT_BOUNDS.n_train, { integer: true, label: "training examples" }),
  loreftSteps: fromBound(EDIT_BOUNDS.loreft_steps, { integer: true, label: "steps" }),
  loreftLr: fromBound(EDIT_BOUNDS.loreft_lr, { integer: false, label: "the learning rate" }),
  seed: fromBound(EDIT_BOUNDS.seed, { integer: true, label: "the seed" }),
} as const;

/**
 * The ABSC recipe (lib/edit/absc-train.ts; `causeway absc` and the app's ABSC form): each row's
 * range is the LoReFT edit's bound of the same setting, its default the recipe's own
 * (absc-train.ts's ABSC_DEFAULTS reads them from here).
 */
export const ABSC_PARAMS = {
  rank: fromBound(EDIT_BOUNDS.loreft_rank, { integer: true, label: "the rank", default: 4 }),
  nTrain: fromBound(EDIT_BOUNDS.n_train, {
    integer: true,
    label: "training reviews",
    default: 96,
  }),
  nTest: fromBound(EDIT_BOUNDS.n_train, {
    integer: true,
    label: "test reviews per split",
    default: 300,
  }),
  steps: fromBound(EDIT_BOUNDS.loreft_steps, { integer: true, label: "steps", default: 60 }),
  lr: fromBound(EDIT_BOUNDS.loreft_lr, {
    integer: false,
    label: "the learning rate",
    default: 0.01,
  }),
  seed: fromBound(EDIT_BOUNDS.seed, { integer: true, label: "the seed", default: 0 }),
} as const;
