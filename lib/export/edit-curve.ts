/**
 * Batch / sequential editing scores as CSV (`causeway edit … --csv FILE` and the app's Batch
 * form export the same columns): one row per curve point (the scores after `edits` edits), or
 * one row of final scores per method when there is no curve (independent batches).
 *
 *   method,edits,efficacy,paraphrase,neighborhood,score,efficacy_diff,paraphrase_diff,
 *   neighborhood_diff,fluency,general_text_ratio
 *
 * An empty field is a score not measured (no paraphrase prompts, fluency off, no texts).
 */
import type { EditRunResult } from "../edit/eval-run";

export const EDIT_SCORE_COLUMNS = [
  "efficacy",
  "paraphrase",
  "neighborhood",
  "score",
  "efficacy_diff",
  "paraphrase_diff",
  "neighborhood_diff",
  "fluency",
  "general_text_ratio",
] as const;

export type CurveRun = Pick<EditRunResult, "method" | "curve" | "n_cases" | "edited">;

/** CSV: method, edits so far and every score; one row per curve point (or per method). */
export function curveCsv(runs: readonly CurveRun[]): string {
  const lines = [["method", "edits", ...EDIT_SCORE_COLUMNS].join(",")];
  for (const r of runs) {
    const points = r.curve.length > 0 ? r.curve : [{ edits: r.n_cases, ...r.edited }];
    for (const p of points) {
      const rec = p as unknown as Record<string, number | null>;
      lines.push([r.method, p.edits, ...EDIT_SCORE_COLUMNS.map((k) => rec[k] ?? "")].join(","));
    }
  }
  return `${lines.join("\n")}\n`;
}
