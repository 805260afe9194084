/**
 * The one mapping from the code's field names (the engine's and the store's) to ROME's
 * (calculate_hidden_flow's dict), applied only where results leave the program: the CLI's
 * `trace --json` and the trace exports.
 *
 *   toRome({ tokens: ["A"], high: 0.9, kind: "hidden" })
 *     // { input_tokens: ["A"], high_score: 0.9, kind: "hidden" }: same order, other keys kept
 */

export const ROME_FIELDS = {
  ids: "input_ids",
  tokens: "input_tokens",
  subject: "subject_range",
  high: "high_score",
  low: "low_score",
  noiseSigma: "noise_sigma",
  nLayer: "n_layer",
  corruptIds: "corrupt_ids",
  corruptTokens: "corrupt_tokens",
  firstCorrupted: "first_corrupted",
  sharedBaseline: "shared_baseline",
} as const;

type RomeFields = typeof ROME_FIELDS;
type RomeName<K> = K extends keyof RomeFields ? RomeFields[K] : K;

/** T with its fields under ROME's names. */
export type Rome<T> = { [K in keyof T as RomeName<K>]: T[K] };

/** The object with ROME's field names; key order (and so the JSON's bytes) is kept. */
export function toRome<T extends object>(x: T): Rome<T> {
  const names: Record<string, string> = ROME_FIELDS;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) out[Object.hasOwn(names, k) ? names[k] : k] = v;
  return out as Rome<T>;
}
