"use client";
/**
 * A labelled grid of coloured cells in SVG, for the read-out views: rows and columns with their
 * labels and axis titles, an optional short text per cell, a colour bar, a tooltip on hover and
 * a click per cell. Small grids only (layers × positions, layers × heads), so plain SVG.
 *
 * For tests the figure exposes data-values (the grid as JSON) and each cell data-row / data-col.
 */
import { type ReactNode, useMemo, useRef, useState } from "react";
import { monoWidth } from "@/lib/viz/layout";
import { textOn } from "@/lib/viz/scales";
import { ColorBar } from "../ColorBar";
import { useElementWidth } from "../useElementWidth";

export interface CellGridProps {
  /** [rows][cols]; NaN for a cell not computed. */
  values: number[][];
  rowLabels: string[];
  colLabels: string[];
  rowTitle: string;
  colTitle: string;
  color: (v: number) => string;
  legend: { interpolate: (t: number) => string; domain: [number, number]; label: string };
  /** Short text drawn in a cell when it fits (e.g. the lens's top-1 token). */
  cellText?: (row: number, col: number) => string | null;
  tooltip: (row: number, col: number) => ReactNode;
  onCellClick?: (row: number, col: number) => void;
  testId: string;
  /** Widest cell (px); cells shrink to fit the panel down to 12 px. */
  maxCellW?: number;
}

const FONT = 12;
const CELL_H = 22;
const TOP = 6;
const BOTTOM = 44;
const BAR_W = 84;
const EMPTY = "#f1f0ec";
const TIP_W = 220;

export function CellGrid(props: CellGridProps) {
  const { values, rowLabels, colLabels, rowTitle, colTitle, color, legend, testId } = props;
  const { cellText, tooltip, onCellClick, maxCellW = 56 } = props;
  const ref = useRef<HTMLDivElement>(null);
  const width = useElementWidth(ref, 480);
  const [hover, setHover] = useState<{ row: number; col: number } | null>(null);
  const rows = values.length;
  const cols = colLabels.length;
  const left = Math.min(140, Math.max(28, ...rowLabels.map((l) => monoWidth(l, FONT)))) + 24;
  const cellW = Math.max(12, Math.min(maxCellW, (width - left - BAR_W) / Math.max(1, cols)));
  const plotW = cellW * cols;
  const plotH = CELL_H * rows;
  const svgW = left + plotW + BAR_W;
  const barH = Math.max(72, plotH);
  const svgH = TOP + Math.max(plotH, barH) + BOTTOM;
  const maxChars = Math.floor((cellW - 4) / (FONT * 0.6));
  const json = useMemo(() => JSON.stringify(values), [values]);
  // every other column label when they would collide
  const colStep = Math.max(
    1,
    Math.ceil((FONT * 0.6 * Math.max(...colLabels.map((l) => l.length), 1) + 6) / cellW),
  );

  const tip = (() => {
    if (!hover) return null;
    const cx = left + (hover.col + 0.5) * cellW;
    const below = hover.row < 4;
    return {
      left: Math.max(0, Math.min(svgW - TIP_W, cx - TIP_W / 2)),
      top: below ? TOP + (hover.row + 1) * CELL_H + 8 : TOP + hover.row * CELL_H - 8,
      transform: below ? undefined : "translateY(-100%)",
      width: TIP_W,
    };
  })();

  return (
    <div className="cellgrid" ref={ref} data-testid={testId} data-values={json}>
      <div className="cellgrid__figure" style={{ width: svgW }}>
        <svg width={svgW} height={svgH} role="img" aria-label={`${rowTitle} by ${colTitle}`}>
          <text
            transform={`translate(10,${TOP + plotH / 2}) rotate(-90)`}
            textAnchor="middle"
            className="axis__label"
          >
            {rowTitle}
          </text>
          {rowLabels.map((l, r) => (
            <text
              // biome-ignore lint/suspicious/noArrayIndexKey: labels repeat; the index is the row
              key={r}
              x={left - 6}
              y={TOP + (r + 0.5) * CELL_H}
              dy="0.32em"
              textAnchor="end"
              className="axis__token"
            >
              {l}
            </text>
          ))}
          {colLabels.map((l, c) =>
            c % colStep === 0 ? (
              <text
                // biome-ignore lint/suspicious/noArrayIndexKey: the index is the column
                key={c}
                x={left + (c + 0.5) * cellW}
                y={TOP + plotH + 15}
                textAnchor="middle"
                className="axis__tick"
              >
                {l}
              </text>
            ) : null,
          )}
          <text
            x={left + plotW / 2}
            y={TOP + plotH + 34}
            textAnchor="middle"
            className="axis__label"
          >
            {colTitle}
          </text>
          {values.map((row, r) =>
            row.map((v, c) => {
              const fill = Number.isNaN(v) ? EMPTY : color(v);
              const t = cellText?.(r, c) ?? null;
              return (
                // biome-ignore lint/a11y/noStaticElementInteractions: its role is button or gridcell
                <g
                  // biome-ignore lint/suspicious/noArrayIndexKey: grid position is the identity
                  key={`${r}-${c}`}
                  transform={`translate(${left + c * cellW},${TOP + r * CELL_H})`}
                  onMouseEnter={() => setHover({ row: r, col: c })}
                  onMouseLeave={() => setHover(null)}
                  onClick={onCellClick ? () => onCellClick(r, c) : undefined}
                  onKeyDown={
                    onCellClick
                      ? (e) => {
                          if (e.key === "Enter" || e.key === " ") onCellClick(r, c);
                        }
                      : undefined
                  }
                  role={onCellClick ? "button" : "gridcell"}
                  tabIndex={onCellClick ? 0 : undefined}
                  className={
                    onCellClick ? "cellgrid__cell cellgrid__cell--click" : "cellgrid__cell"
                  }
                  data-row={r}
                  data-col={c}
                  data-testid={`${testId}-cell`}
                >
                  <rect width={cellW + 0.5} height={CELL_H + 0.5} fill={fill} />
                  {t && maxChars >= 2 ? (
                    <text
                      x={cellW / 2}
                      y={CELL_H / 2}
                      dy="0.32em"
                      textAnchor="middle"
                      className="cellgrid__text"
                      fill={textOn(fill)}
                    >
                      {t.length > maxChars ? `${t.slice(0, maxChars - 1)}…` : t}
                    </text>
                  ) : null}
                </g>
              );
            }),
          )}
          <rect
            x={left - 0.5}
            y={TOP - 0.5}
            width={plotW + 1}
            height={plotH + 1}
            fill="none"
            stroke="var(--line-2)"
            pointerEvents="none"
          />
          {hover ? (
            <rect
              x={left + hover.col * cellW + 0.5}
              y={TOP + hover.row * CELL_H + 0.5}
              width={cellW - 1}
              height={CELL_H - 1}
              fill="none"
              stroke="var(--ink)"
              strokeWidth={1.5}
              pointerEvents="none"
            />
          ) : null}
          <g transform={`translate(${left + plotW + 10},0)`}>
            <ColorBar
              interpolate={legend.interpolate}
              domain={legend.domain}
              top={TOP}
              height={barH}
              label={legend.label}
              testId={`${testId}-colorbar`}
            />
          </g>
        </svg>
        {hover && tip ? (
          <div className="tooltip" role="tooltip" data-testid={`${testId}-tooltip`} style={tip}>
            {tooltip(hover.row, hover.col)}
          </div>
        ) : null}
      </div>
    </div>
  );
}
