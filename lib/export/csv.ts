/**
 * Trace results as CSV (RFC 4180), one row per cell:
 *   kind,position,token,in_subject,layer,score,low_score,high_score,answer
 * A token or answer holding a comma, quote or newline is quoted ("" for a quote); an empty score
 * is a cell not computed. Numbers are written in full (shortest round-trip form).
 */
import type { TraceExport } from "./trace-data";

export const CSV_HEADER = [
  "kind",
  "position",
  "token",
  "in_subject",
  "layer",
  "score",
  "low_score",
  "high_score",
  "answer",
] as const;

/** One CSV field, quoted when it must be. */
export function cell(v: string | number | boolean): string {
  const s = String(v);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function traceCsv(traces: readonly TraceExport[]): string {
  const lines = [CSV_HEADER.join(",")];
  for (const t of traces) {
    const [b, e] = t.subject_range;
    t.scores.forEach((row, pos) => {
      row.forEach((v, layer) => {
        lines.push(
          [
            t.kind,
            pos,
            t.input_tokens[pos],
            pos >= b && pos < e,
            layer,
            Number.isNaN(v) ? "" : v,
            t.low_score,
            t.high_score,
            t.answer,
          ]
            .map(cell)
            .join(","),
        );
      });
    });
  }
  return `${lines.join("\r\n")}\r\n`;
}

/** RFC 4180 rows of a CSV text (for reading an export back). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      // the \n ends the row
    } else if (c === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
