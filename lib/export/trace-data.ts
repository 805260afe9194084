/**
 * One trace kind's result in ROME's terms (its calculate_hidden_flow dict): what every export
 * format starts from. Built from the store's grid or a carried (shared) one.
 */
import type { TraceKind } from "../interp/spec";
import type { CarriedTrace } from "../share/session";

export interface TraceExport {
  kind: TraceKind;
  /** The model the trace ran on; absent: the original (a shared trace is always original). */
  model?: "original" | "edited";
  /** T × L, [token][layer]; NaN: not computed. */
  scores: number[][];
  low_score: number;
  high_score: number;
  input_tokens: string[];
  input_ids?: number[];
  /** [b, e), end-exclusive. */
  subject_range: [number, number];
  answer: string;
  window: number;
}

/** Every kind of a carried trace as exports. */
export function exportsOf(t: CarriedTrace): TraceExport[] {
  return t.grids.map((g) => ({
    kind: g.kind,
    scores: Array.from({ length: g.rows }, (_, r) => g.values.slice(r * g.cols, (r + 1) * g.cols)),
    low_score: t.low,
    high_score: t.high,
    input_tokens: [...t.tokens],
    subject_range: [t.subject[0], t.subject[1]],
    answer: t.answer,
    window: t.window,
  }));
}
