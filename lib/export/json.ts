/**
 * Trace results as JSON with ROME's field names (calculate_hidden_flow): scores [T][L],
 * low_score, high_score, input_tokens, subject_range, answer, kind, window; `model: "edited"`
 * for a trace of the edited model. A cell not computed is null (JSON has no NaN).
 */
import type { TraceExport } from "./trace-data";

export function traceJson(traces: readonly TraceExport[]): string {
  const out = traces.map((t) => ({
    kind: t.kind,
    ...(t.model === "edited" ? { model: "edited" } : {}),
    answer: t.answer,
    low_score: t.low_score,
    high_score: t.high_score,
    input_tokens: t.input_tokens,
    ...(t.input_ids ? { input_ids: t.input_ids } : {}),
    subject_range: t.subject_range,
    window: t.window,
    scores: t.scores.map((row) => row.map((v) => (Number.isNaN(v) ? null : v))),
  }));
  return `${JSON.stringify(out.length === 1 ? out[0] : out, null, 1)}\n`;
}
