"use client";
/**
 * A patching result as a grid of cells on a diverging scale centred at 0 (red below, blue above),
 * for layer × position, (layer, head) × position and layer × head maps: hover shows a cell's
 * value, a click (or Enter) on a cell calls `onCellClick`; `marked` cells carry a dot. Columns may come in groups (the heads
 * of one layer), labelled once per group. NaN cells are not computed (or not part of the map).
 */
import { useMemo, useState } from "react";
import { fmtValue, visibleToken } from "@/lib/viz/format";
import { divergingScale, symmetricDomain } from "@/lib/viz/scales";
import "./patching.css";

const UNFILLED = "#f1f0ec";
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export interface PatchGridProps {
  /** rows × cols, row-major. */
  values: Float32Array;
  rows: number;
  cols: number;
  rowLabels: string[];
  /** Column label for column c (shown on the first column of each group). */
  colLabel: (c: number) => string;
  /** Columns per labelled group (1: every column labelled). */
  group?: number;
  /** What one cell is, for its tooltip and aria label: "L3 at “Sten”". */
  cellName: (row: number, col: number) => string;
  selected?: { row: number; col: number } | null;
  /** Cells outlined as members of a set (e.g. path patching's receivers). */
  marked?: readonly { row: number; col: number }[];
  onCellClick?: (row: number, col: number) => void;
  /** Cells that take a click even without a value (e.g. picking a sender). */
  clickBlank?: boolean;
  testId: string;
  caption: string;
}

export function PatchGrid(p: PatchGridProps) {
  const { values, rows, cols, group = 1, selected, onCellClick, testId } = p;
  const [hover, setHover] = useState<{ row: number; col: number } | null>(null);
  const domain = useMemo(() => symmetricDomain(values), [values]);
  const scale = useMemo(() => divergingScale(domain), [domain]);
  const cell = Math.max(9, Math.min(34, Math.floor(900 / Math.max(1, cols))));
  const left = 12 + 7 * Math.max(4, ...p.rowLabels.map((l) => Math.min(l.length, 16)));
  const top = 26;
  const w = left + cell * cols + 8;
  const h = top + cell * rows + 6;
  const shown = hover ?? selected ?? null;
  const value = (r: number, c: number) => values[r * cols + c];
  return (
    <figure className="patchgrid" data-testid={testId} data-rows={rows} data-cols={cols}>
      <svg width={w} height={h} role="img" aria-label={p.caption}>
        {range(cols).map((c) =>
          c % group === 0 ? (
            <text key={`c${c}`} x={left + c * cell + 2} y={top - 8} className="axis__tick">
              {p.colLabel(c)}
            </text>
          ) : null,
        )}
        {range(rows).map((r) => (
          <text
            key={`r${r}`}
            x={left - 6}
            y={top + (r + 0.5) * cell}
            dy="0.32em"
            textAnchor="end"
            className="axis__tick"
          >
            {visibleToken(p.rowLabels[r] ?? "").slice(0, 16)}
          </text>
        ))}
        {range(rows).map((r) =>
          range(cols).map((c) => {
            const v = value(r, c);
            const filled = !Number.isNaN(v);
            const clickable = !!onCellClick && (filled || !!p.clickBlank);
            const on = selected?.row === r && selected?.col === c;
            const member = !!p.marked?.some((m) => m.row === r && m.col === c);
            return (
              // biome-ignore lint/a11y/useSemanticElements: an SVG cell cannot be a <button>
              <rect
                key={`${r}-${c}`}
                x={left + c * cell + (group > 1 && c % group === 0 ? 1 : 0)}
                y={top + r * cell}
                width={cell - 1}
                height={cell - 1}
                fill={filled ? (scale.color(v) ?? UNFILLED) : UNFILLED}
                stroke={on ? "var(--ink)" : "none"}
                strokeWidth={on ? 2 : 0}
                role="button"
                tabIndex={clickable ? 0 : -1}
                aria-disabled={!clickable}
                aria-label={`${p.cellName(r, c)}: ${filled ? fmtValue(v) : "—"}`}
                data-testid={`${testId}-cell`}
                data-row={r}
                data-col={c}
                data-value={filled ? v : undefined}
                data-marked={member || undefined}
                style={{ cursor: clickable ? "pointer" : "default" }}
                onMouseEnter={() => setHover({ row: r, col: c })}
                onMouseLeave={() => setHover(null)}
                onClick={() => clickable && onCellClick?.(r, c)}
                onKeyDown={(e) => {
                  if (clickable && (e.key === "Enter" || e.key === " ")) {
                    e.preventDefault();
                    onCellClick?.(r, c);
                  }
                }}
              />
            );
          }),
        )}
        {p.marked?.map((m) => (
          <circle
            key={`m${m.row}-${m.col}`}
            cx={left + (m.col + 0.5) * cell}
            cy={top + (m.row + 0.5) * cell}
            r={Math.max(2.5, cell * 0.17)}
            fill="#fff"
            stroke="var(--ink)"
            strokeWidth={1.5}
            pointerEvents="none"
          />
        ))}
      </svg>
      <div className="patchgrid__legend" data-testid={`${testId}-legend`}>
        {[domain[0], domain[0] / 2, 0, domain[1] / 2, domain[1]].map((v) => (
          <span key={v} className="patchgrid__swatch">
            <i style={{ background: scale.color(v) ?? UNFILLED }} />
            {fmtValue(v)}
          </span>
        ))}
      </div>
      <figcaption className="patchgrid__readout" data-testid={`${testId}-readout`}>
        {shown
          ? `${p.cellName(shown.row, shown.col)}: ${Number.isNaN(value(shown.row, shown.col)) ? "—" : fmtValue(value(shown.row, shown.col))}`
          : p.caption}
      </figcaption>
    </figure>
  );
}
