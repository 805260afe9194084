/**
 * Per-head scores as files: JSON with `causeway heads --json`'s fields (docs/attribution.md), so
 * an export from the app and the CLI's output read the same; CSV one row per head:
 *   layer,head,previous_token,first_token,subject,duplicate_token,induction
 * with an empty cell for a score the prompt does not define (no subject, one token). Numbers
 * are written in full (shortest round-trip form).
 */
import { HEAD_SCORE_NAMES, type HeadScoresResult } from "../interp/head-scores";
import type { ModelAbout } from "./model-about";

/** `causeway heads --json`'s fields; `model` (what it is of) first when given, `backend` last. */
export function headScoresJson(
  r: HeadScoresResult,
  extra: { backend?: string; model?: ModelAbout } = {},
): string {
  const { model, ...rest } = extra;
  return `${JSON.stringify({ ...(model ? { model } : {}), ...r, ...rest }, null, 1)}\n`;
}

export function headScoresCsv(r: HeadScoresResult): string {
  const lines = [["layer", "head", ...HEAD_SCORE_NAMES].join(",")];
  for (let l = 0; l < r.n_layer; l++) {
    for (let h = 0; h < r.n_head; h++) {
      const cells = HEAD_SCORE_NAMES.map((name) => {
        const grid = r.scores[name];
        return grid === null ? "" : String(grid[l][h]);
      });
      lines.push([l, h, ...cells].join(","));
    }
  }
  return `${lines.join("\r\n")}\r\n`;
}
