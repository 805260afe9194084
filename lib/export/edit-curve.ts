/**
 * Batch / sequential editing scores as CSV (`causeway edit … --csv FILE` and the app's Batch
 * form export the same columns): one row per curve point (the scores after `edits` edits), or
 * one row of final scores per method when there is no curve (independent batches); with the
 * unedited model's scores, a first row `unedited,0,…` (loss ratio 1), the reference every
 * method is read against (the CLI writes it as soon as it is measured, so a run stopped part way
 * keeps it).
 *
 *   method,edits,efficacy,paraphrase,neighborhood,score,efficacy_diff,paraphrase_diff,
 *   neighborhood_diff,fluency,general_text_ratio
 *
 * An empty field is a score not measured (no paraphrase prompts, fluency off, no texts).
 */
import type { SuiteScores } from "../edit/eval-cases";
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

/** A method's run; `edited` (the final scores) is what a run without a curve writes. */
export type CurveRun = Pick<EditRunResult, "method" | "curve" | "n_cases"> &
  Partial<Pick<EditRunResult, "edited">>;

/** CSV: method, edits so far and every score; one row per curve point (or per method). */
export function curveCsv(runs: readonly CurveRun[], unedited?: SuiteScores): string {
  const lines = [["method", "edits", ...EDIT_SCORE_COLUMNS].join(",")];
  const row = (method: string, edits: number, p: object) => {
    const rec = p as Record<string, number | null>;
    lines.push([method, edits, ...EDIT_SCORE_COLUMNS.map((k) => rec[k] ?? "")].join(","));
  };
  if (unedited) row("unedited", 0, { ...unedited, general_text_ratio: 1 });
  for (const r of runs) {
    const points = r.curve.length > 0 || !r.edited ? r.curve : [{ edits: r.n_cases, ...r.edited }];
    for (const p of points) row(r.method, p.edits, p);
  }
  return `${lines.join("\n")}\n`;
}
