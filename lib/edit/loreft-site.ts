/**
 * Where a LoReFT edit acts, as interventions for one pass: its position rule ("last", "aspect",
 * absolute positions) resolved against the pass's length T, or against each row's own length in
 * a right-padded batch (rows that share a position share one intervention).
 */
import type { ModelIntervention } from "../model/hook-plan";
import type { LoreftPosition } from "./types";

/**
 * The layers a LoReFT edit without site.layers edits: the paper's 10–15 of Llama-2-7B's 32,
 * scaled to depth, end-exclusive as its code (round(10/32·n) … round(15/32·n) − 1, at least one
 * layer): layer 2 of 6, layers 10–14 of 32.
 */
export function defaultLoreftLayers(config: { nLayer: number }): number[] {
  const n = config.nLayer;
  const from = Math.min(n - 1, Math.round((10 / 32) * n));
  const to = Math.max(from + 1, Math.round((15 / 32) * n));
  return Array.from({ length: Math.min(to, n) - from }, (_, i) => from + i);
}

/** Trainable parameters of a LoReFT edit: per layer R and W (r×d) and b (r). */
export function loreftParamCount(layers: number, rank: number, dModel: number): number {
  return layers * (2 * rank * dModel + rank);
}

/** The position the rule picks in a row of `len` tokens (null: none, e.g. "aspect" at len 1). */
function positionsIn(rule: LoreftPosition, len: number): number[] {
  if (rule === "last") return [len - 1];
  if (rule === "aspect") return len >= 2 ? [len - 2] : [];
  return rule.filter((p) => p < len);
}

/** The interventions of one LoReFT site for a pass of T positions or a padded batch. */
export function loreftInterventions(
  hook: string,
  loreft: NonNullable<ModelIntervention["loreft"]>,
  rule: LoreftPosition,
  lengths: number | readonly number[],
): ModelIntervention[] {
  const same = typeof lengths === "number" || new Set(lengths).size === 1;
  if (same || Array.isArray(rule)) {
    const T = typeof lengths === "number" ? lengths : Math.max(...lengths);
    const positions = positionsIn(rule, T);
    return positions.length > 0 ? [{ hook, op: "loreft", positions, loreft }] : [];
  }
  // per-row "last" / "aspect": group rows by the position the rule picks in each
  const groups = new Map<number, number[]>();
  (lengths as readonly number[]).forEach((len, row) => {
    for (const p of positionsIn(rule, len)) groups.set(p, [...(groups.get(p) ?? []), row]);
  });
  return [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([p, rows]) => ({ hook, op: "loreft", positions: [p], batchIndex: rows, loreft }));
}
