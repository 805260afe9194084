/**
 * What the app asks the worker's `absc` lane (workers/absc-job.ts) and what it answers, without
 * tensors: the ABSC recipe's settings as `causeway absc` takes them (lib/cli/absc.ts), checked
 * here like any untrusted message against the same rows (lib/params/table.ts ABSC_PARAMS), and
 * one answered row per method: the CLI's row (lib/edit/absc-train.ts AbscResult) plus the edits
 * that put the trained method on the edit stack, when the stack's edit kinds can hold it.
 */
import type { KnownFact } from "../interp/dataset";
import { paramError } from "../params/schema";
import { ABSC_PARAMS } from "../params/table";
import type { AbscMethod, AbscResult } from "./absc-train";
import type { Edit } from "./types";

/** The methods in the CLI's order; a compile error if absc-train.ts's list differs. */
export const ABSC_METHOD_NAMES = [
  "joint",
  "loreft",
  "lora_all",
  "ft_layer",
] as const satisfies readonly AbscMethod[];
type Missing = Exclude<AbscMethod, (typeof ABSC_METHOD_NAMES)[number]>;
const _allListed: [Missing] extends [never] ? true : never = true;
void _allListed;

export interface AbscTrainRequest {
  mode: "train";
  methods: AbscMethod[];
  /** Absent: the recipe's default layers (ABSC_DEFAULTS.layers). */
  layers?: number[];
  rank: number;
  n_train: number;
  n_test: number;
  steps: number;
  lr: number;
  seed: number;
}

/** The in-domain test reviews as known facts, for the Dataset panel's trace (the locate study). */
export interface AbscFactsRequest {
  mode: "facts";
}

export type AbscRequest = AbscTrainRequest | AbscFactsRequest;

/** One method's row as the CLI prints it, and the edits that apply it (null: why not). */
export interface AbscRow extends AbscResult {
  apply: { edits: Edit[] } | { reason: string };
}

/** Progress of a train request: method `index` of `methods`, its step `done` of total (0 = before). */
export interface AbscProgress {
  phase: "train";
  method: AbscMethod;
  index: number;
  methods: number;
  done: number;
  total: number;
  /** The training loss before step `done`'s update (after the last, at done = total). */
  loss: number;
}

export interface AbscFacts {
  domain: string;
  facts: KnownFact[];
  /** The labels: the Dataset panel traces the reviews answered right among them (answerAmong). */
  labels: string[];
}

const SETTINGS = [
  ["rank", ABSC_PARAMS.rank],
  ["n_train", ABSC_PARAMS.nTrain],
  ["n_test", ABSC_PARAMS.nTest],
  ["steps", ABSC_PARAMS.steps],
  ["lr", ABSC_PARAMS.lr],
  ["seed", ABSC_PARAMS.seed],
] as const;

/**
 * The request, or the first problem with it in words for the form. `nLayer` (when the model is
 * known) bounds the layers.
 */
export function checkAbscRequest(
  x: unknown,
  nLayer: number | null,
): { request: AbscRequest } | { error: string } {
  const r = (typeof x === "object" && x !== null ? x : {}) as Record<string, unknown>;
  if (r.mode === "facts") return { request: { mode: "facts" } };
  if (r.mode !== "train") return { error: 'an absc request\'s mode must be "train" or "facts"' };
  const methods = r.methods;
  if (
    !Array.isArray(methods) ||
    methods.length === 0 ||
    !methods.every((m) => (ABSC_METHOD_NAMES as readonly unknown[]).includes(m)) ||
    new Set(methods).size !== methods.length
  ) {
    return { error: `Choose one or more methods of ${ABSC_METHOD_NAMES.join(", ")}` };
  }
  const layers = r.layers;
  if (layers !== undefined) {
    const top = nLayer === null ? Number.MAX_SAFE_INTEGER : nLayer - 1;
    const ok =
      Array.isArray(layers) &&
      layers.length > 0 &&
      layers.every((l) => Number.isInteger(l) && l >= 0 && l <= top) &&
      new Set(layers).size === layers.length;
    if (!ok) {
      return {
        error: `Layers must be distinct layers from 0 to ${nLayer === null ? "the last" : top}`,
      };
    }
  }
  for (const [key, param] of SETTINGS) {
    const e = paramError(param, r[key]);
    if (e) return { error: `${e}.` };
  }
  const num = (k: string) => r[k] as number;
  return {
    request: {
      mode: "train",
      methods: [...(methods as AbscMethod[])],
      ...(layers !== undefined ? { layers: [...(layers as number[])] } : {}),
      rank: num("rank"),
      n_train: num("n_train"),
      n_test: num("n_test"),
      steps: num("steps"),
      lr: num("lr"),
      seed: num("seed"),
    },
  };
}

/** "40.3%": the table's accuracies. */
export const abscPercent = (x: number): string => `${(100 * x).toFixed(1)}%`;

/**
 * One method's cells of the table as `causeway absc` prints it and the app's form shows it:
 * method, layers ("all" for lora_all), trainable parameters, final loss, and per test split
 * accuracy before → after.
 */
export function abscCells(m: AbscResult): {
  method: string;
  layers: string;
  params: string;
  loss: string;
  splits: string[];
} {
  return {
    method: m.method,
    layers: m.method === "lora_all" ? "all" : m.layers.join(","),
    params: String(m.params),
    loss: m.losses[m.losses.length - 1].loss.toFixed(4),
    splits: m.splits.map((s) => `${abscPercent(s.before)} → ${abscPercent(s.after)}`),
  };
}

/** The column heads of the split cells: "in_domain (restaurant, n=300) before → after". */
export const abscSplitHeads = (m: AbscResult | undefined): string[] =>
  m?.splits.map((s) => `${s.name} (${s.domain}, n=${s.n}) before → after`) ?? [];
