/**
 * One trace kind's result in ROME's terms (its calculate_hidden_flow dict): what every export
 * format starts from. Built from the store's grid or a carried (shared) one.
 */
import type { TraceKind } from "../interp/spec";
import type { CarriedTrace } from "../share/session";
import { type Rome, toRome } from "./rome-fields";

/** One kind's trace under the code's (the store's) names. */
export interface TraceExportFields {
  kind: TraceKind;
  /** The model the trace ran on; absent: the original (a shared trace is always original). */
  model?: "original" | "edited";
  /** T × L, [token][layer]; NaN: not computed. */
  scores: number[][];
  low: number;
  high: number;
  tokens: string[];
  ids?: number[];
  /** [b, e), end-exclusive. */
  subject: [number, number];
  answer: string;
  window: number;
}

/** The same under ROME's names (low_score, input_tokens, subject_range, …). */
export type TraceExport = Rome<TraceExportFields>;

/** A trace as the exports take it: the one place its fields get ROME's names. */
export function traceExport(fields: TraceExportFields): TraceExport {
  return toRome(fields);
}

/** Every kind of a carried trace as exports. */
export function exportsOf(t: CarriedTrace): TraceExport[] {
  return t.grids.map((g) =>
    traceExport({
      kind: g.kind,
      scores: Array.from({ length: g.rows }, (_, r) =>
        g.values.slice(r * g.cols, (r + 1) * g.cols),
      ),
      low: t.low,
      high: t.high,
      tokens: [...t.tokens],
      subject: [t.subject[0], t.subject[1]],
      answer: t.answer,
      window: t.window,
    }),
  );
}
