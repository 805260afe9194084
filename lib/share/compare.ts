/**
 * Recomputed vs carried: when a session opens from a link that carries its heatmaps, the trace
 * is computed again and every cell compared. A cell is flagged when
 *     |recomputed − carried| > COMPARE_TOLERANCE
 * which covers the f16 rounding of the carried value (≤ 2⁻¹² for a probability ≤ 1) plus the
 * spread between backends (webgpu / wasm / cpu agree within 1e-3: docs/benchmarks.md), so on the
 * same model a flag means the numbers really changed (another model revision, another edit…).
 */
import type { TraceKind } from "../interp/spec";
import type { CarriedGrid } from "./session";

export const COMPARE_TOLERANCE = 2e-3;

export interface FlaggedCell {
  kind: TraceKind;
  row: number;
  col: number;
  carried: number;
  recomputed: number;
}

export interface Comparison {
  /** Cells compared (both sides computed). */
  cells: number;
  maxAbsDiff: number;
  flagged: FlaggedCell[];
  /** Kinds carried but not recomputed, or with another shape. */
  missing: TraceKind[];
}

export function compareGrids(
  carried: readonly CarriedGrid[],
  recomputed: Partial<Record<TraceKind, { rows: number; cols: number; values: ArrayLike<number> }>>,
  tolerance = COMPARE_TOLERANCE,
): Comparison {
  const out: Comparison = { cells: 0, maxAbsDiff: 0, flagged: [], missing: [] };
  for (const g of carried) {
    const r = recomputed[g.kind];
    if (!r || r.rows !== g.rows || r.cols !== g.cols) {
      out.missing.push(g.kind);
      continue;
    }
    for (let i = 0; i < g.values.length; i++) {
      const a = g.values[i];
      const b = r.values[i];
      if (Number.isNaN(a) || Number.isNaN(b)) continue;
      const d = Math.abs(a - b);
      out.cells++;
      if (d > out.maxAbsDiff) out.maxAbsDiff = d;
      if (d > tolerance) {
        out.flagged.push({
          kind: g.kind,
          row: Math.floor(i / g.cols),
          col: i % g.cols,
          carried: a,
          recomputed: b,
        });
      }
    }
  }
  return out;
}
