"use client";
/**
 * One causal-trace heatmap, as in ROME's figures: tokens down the side (subject tokens starred),
 * layers along the bottom, cells coloured by the probability of the answer with that state
 * restored. Canvas draws the cells (redrawn at most once per animation frame as rows stream in);
 * SVG draws the axes, the hovered cell and the colour bar on top.
 *
 * For tests the wrapper exposes data-filled (cells computed), data-cells (T × L) and
 * data-values (the grid as JSON, null for cells not yet computed).
 */
import { type CSSProperties, useEffect, useMemo, useRef, useState } from "react";
import type { TraceKind } from "@/lib/interp/spec";
import { windowLayers } from "@/lib/interp/spec";
import type { TraceGrid } from "@/lib/store";
import { fmtSigned, fmtValue, tokenLabel, visibleToken } from "@/lib/viz/format";
import { gridToRows } from "@/lib/viz/grid";
import { cellAt, type HeatmapLayout, heatmapLayout, monoWidth } from "@/lib/viz/layout";
import { throttleRAF } from "@/lib/viz/raf";
import { type SequentialScale, sequentialScale, TRACE_SCHEMES } from "@/lib/viz/scales";
import { indexTicks } from "@/lib/viz/ticks";
import { ColorBar } from "./ColorBar";
import { useElementWidth } from "./useElementWidth";

export const KIND_TITLE: Record<TraceKind, string> = {
  hidden: "Hidden state",
  mlp: "MLP output",
  attn: "Attention output",
};

const UNFILLED = "#f1f0ec";
const LABEL_FONT = 12;
const COLORBAR_W = 72;

interface PaintArgs {
  canvas: HTMLCanvasElement;
  layout: HeatmapLayout;
  values: Float32Array;
  scale: SequentialScale;
  dpr: number;
}

function paint({ canvas, layout, values, scale, dpr }: PaintArgs): void {
  const { plot, cellW, cellH, rows, cols } = layout;
  const w = Math.round(plot.w * dpr);
  const h = Math.round(plot.h * dpr);
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, plot.w, plot.h);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c];
      ctx.fillStyle = scale.color(v) ?? UNFILLED;
      // cells overlap by a hair so no seams show between them
      ctx.fillRect(c * cellW, r * cellH, cellW + 0.5, cellH + 0.5);
    }
  }
}

const TOOLTIP_W = 200;

/** Above the hovered cell (below it in the top rows), kept inside the figure horizontally. */
function tooltipPlace(
  layout: HeatmapLayout,
  hover: { row: number; col: number },
  figureWidth: number,
): CSSProperties {
  const cx = layout.plot.x + (hover.col + 0.5) * layout.cellW;
  const left = Math.max(0, Math.min(figureWidth - TOOLTIP_W, cx - TOOLTIP_W / 2));
  if (hover.row < 4) {
    return { left, top: layout.plot.y + (hover.row + 1) * layout.cellH + 8, width: TOOLTIP_W };
  }
  return {
    left,
    top: layout.plot.y + hover.row * layout.cellH - 8,
    width: TOOLTIP_W,
    transform: "translateY(-100%)",
  };
}

export interface HeatmapProps {
  kind: TraceKind;
  grid: TraceGrid | undefined;
  /** Shared by the three maps of a trace: [low_score, top]. */
  domain: [number, number] | null;
  tokens: string[] | null;
  subject: [number, number] | null;
  nLayer: number;
  /** Window of the mlp / attn kinds (from the baseline, or the default before it). */
  layerWindow: number;
  /** Shown instead of the figure while there is no grid. */
  placeholder: string;
  /** Dimmed: not part of the current run. */
  off?: boolean;
  answer: string | null;
  /** A click on cell (token row, layer col): opens an edit form (components/EditPanel). */
  onCellClick?: (row: number, col: number) => void;
  /** Test ids of a second map of the same kind (e.g. "edited": heatmap-edited-mlp). */
  variant?: string;
}

export function Heatmap(props: HeatmapProps) {
  const { kind, grid, domain, tokens, subject, nLayer, layerWindow, placeholder, off, answer } =
    props;
  const { onCellClick, variant } = props;
  const tid = (name: string) => (variant ? `${name}-${variant}-${kind}` : `${name}-${kind}`);
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const width = useElementWidth(wrapRef);
  const [hover, setHover] = useState<{ row: number; col: number } | null>(null);

  const rows = grid?.rows ?? tokens?.length ?? 0;
  const cols = grid?.cols ?? nLayer;
  const labels = useMemo(
    () =>
      (tokens ?? []).map((t, i) =>
        tokenLabel(t, subject !== null && i >= subject[0] && i < subject[1]),
      ),
    [tokens, subject],
  );
  const labelWidth = Math.min(120, Math.max(24, ...labels.map((l) => monoWidth(l, LABEL_FONT))));
  const layout = useMemo(
    () =>
      heatmapLayout({
        rows: Math.max(rows, 1),
        cols: Math.max(cols, 1),
        labelWidth,
        maxWidth: Math.max(160, width - COLORBAR_W),
        cellH: 20,
        maxCellW: 44,
        top: 6,
        bottom: 42,
      }),
    [rows, cols, labelWidth, width],
  );
  const scheme = TRACE_SCHEMES[kind];
  const scale = useMemo(
    () => sequentialScale(scheme.interpolate, domain ?? [0, 1]),
    [scheme, domain],
  );

  const draw = useMemo(() => throttleRAF((args: PaintArgs) => paint(args)), []);
  useEffect(() => () => draw.cancel(), [draw]);
  const dpr = typeof devicePixelRatio === "number" ? Math.min(devicePixelRatio, 3) : 1;
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !grid) return;
    draw({ canvas, layout, values: grid.values, scale, dpr });
  }, [draw, grid, layout, scale, dpr]);

  const filled = grid?.filled ?? 0;
  const cells = grid ? grid.rows * grid.cols : 0;
  const valuesJson = useMemo(
    () => (grid ? JSON.stringify(gridToRows(grid.values, grid.cols)) : "[]"),
    [grid],
  );
  const xTicks = indexTicks(cols, layout.cellW, 16);
  const xLabel =
    kind === "hidden" || layerWindow === 1
      ? "restored layer"
      : `centre of ${layerWindow} restored layers`;
  const title = KIND_TITLE[kind];
  const low = grid?.baseline.low ?? null;

  const hoverInfo = (() => {
    if (!hover || !grid || !tokens) return null;
    const v = grid.values[hover.row * grid.cols + hover.col];
    const restored =
      kind === "hidden"
        ? `block ${hover.col} output`
        : (() => {
            const ls = windowLayers(hover.col, layerWindow, nLayer);
            const what = kind === "mlp" ? "MLP" : "attention";
            return ls.length === 1
              ? `${what} of layer ${ls[0]}`
              : `${what} of layers ${ls[0]}–${ls[ls.length - 1]}`;
          })();
    return { v, restored, token: tokens[hover.row] };
  })();

  return (
    <figure
      className={`heatmap heatmap--${kind}${off ? " heatmap--off" : ""}`}
      data-testid={tid("heatmap")}
      data-kind={kind}
      data-filled={filled}
      data-cells={cells}
      data-values={valuesJson}
      data-low={low ?? ""}
      data-high={grid?.baseline.high ?? ""}
    >
      <figcaption className="heatmap__title">
        <span className={`heatmap__swatch heatmap__swatch--${kind}`} />
        {title}
        <span className="heatmap__sub">
          {kind === "hidden" ? "one layer restored" : `window of ${layerWindow}`}
          {grid ? ` · ${filled}/${cells}` : ""}
        </span>
      </figcaption>
      <div className="heatmap__wrap" ref={wrapRef}>
        {grid && tokens ? (
          <div className="heatmap__figure" style={{ width: layout.width + COLORBAR_W }}>
            <canvas
              ref={canvasRef}
              className="heatmap__canvas"
              style={{
                left: layout.plot.x,
                top: layout.plot.y,
                width: layout.plot.w,
                height: layout.plot.h,
              }}
              onMouseMove={(e) => {
                const r = e.currentTarget.getBoundingClientRect();
                setHover(
                  cellAt(
                    layout,
                    e.clientX - r.left + layout.plot.x,
                    e.clientY - r.top + layout.plot.y,
                  ),
                );
              }}
              onMouseLeave={() => setHover(null)}
              onClick={
                onCellClick
                  ? (e) => {
                      const r = e.currentTarget.getBoundingClientRect();
                      const c = cellAt(
                        layout,
                        e.clientX - r.left + layout.plot.x,
                        e.clientY - r.top + layout.plot.y,
                      );
                      if (c) onCellClick(c.row, c.col);
                    }
                  : undefined
              }
              data-clickable={onCellClick ? "true" : undefined}
              data-testid={tid("heatmap-canvas")}
            />
            <svg
              className="heatmap__svg"
              width={layout.width + COLORBAR_W}
              height={layout.height}
              aria-label={`${title} heatmap: ${rows} tokens by ${cols} layers`}
              role="img"
            >
              <rect
                x={layout.plot.x - 0.5}
                y={layout.plot.y - 0.5}
                width={layout.plot.w + 1}
                height={layout.plot.h + 1}
                fill="none"
                stroke="var(--line-2)"
              />
              {labels.map((l, i) => (
                <text
                  // biome-ignore lint/suspicious/noArrayIndexKey: tokens repeat; position is the identity
                  key={i}
                  x={layout.plot.x - 6}
                  y={layout.plot.y + (i + 0.5) * layout.cellH}
                  dy="0.32em"
                  textAnchor="end"
                  className={`axis__token${subject && i >= subject[0] && i < subject[1] ? " axis__token--subject" : ""}`}
                >
                  {l}
                </text>
              ))}
              {xTicks.map((l) => (
                <g
                  key={l}
                  transform={`translate(${layout.plot.x + (l + 0.5) * layout.cellW},${layout.plot.y + layout.plot.h})`}
                >
                  <line y2={4} stroke="var(--ink-3)" />
                  <text y={15} textAnchor="middle" className="axis__tick">
                    {l}
                  </text>
                </g>
              ))}
              <text
                x={layout.plot.x + layout.plot.w / 2}
                y={layout.plot.y + layout.plot.h + 33}
                textAnchor="middle"
                className="axis__label"
              >
                {xLabel}
              </text>
              {hover ? (
                <rect
                  x={layout.plot.x + hover.col * layout.cellW + 0.5}
                  y={layout.plot.y + hover.row * layout.cellH + 0.5}
                  width={layout.cellW - 1}
                  height={layout.cellH - 1}
                  fill="none"
                  stroke="var(--ink)"
                  strokeWidth={1.5}
                  pointerEvents="none"
                />
              ) : null}
              {domain ? (
                <g transform={`translate(${layout.width + 6},0)`}>
                  <ColorBar
                    interpolate={scheme.interpolate}
                    domain={domain}
                    top={layout.plot.y}
                    height={layout.plot.h}
                    label={answer ? `p(${visibleToken(answer)})` : "p(answer)"}
                    testId={tid("colorbar")}
                  />
                </g>
              ) : null}
            </svg>
            {hover && hoverInfo ? (
              <div
                className="tooltip"
                role="tooltip"
                data-testid="heatmap-tooltip"
                style={tooltipPlace(layout, hover, layout.width + COLORBAR_W)}
              >
                <div className="tooltip__head">
                  <code>{visibleToken(hoverInfo.token)}</code>
                  <span>
                    token {hover.row} · layer {hover.col}
                  </span>
                </div>
                <div className="tooltip__row">
                  <span>restored</span>
                  <span>{hoverInfo.restored}</span>
                </div>
                <div className="tooltip__row">
                  <span>p{answer ? `(${visibleToken(answer)})` : ""}</span>
                  <strong>{Number.isNaN(hoverInfo.v) ? "pending…" : fmtValue(hoverInfo.v)}</strong>
                </div>
                {low !== null && !Number.isNaN(hoverInfo.v) ? (
                  <div className="tooltip__row">
                    <span>indirect effect</span>
                    <strong>{fmtSigned(hoverInfo.v - low)}</strong>
                  </div>
                ) : null}
              </div>
            ) : null}
          </div>
        ) : (
          <p className="heatmap__empty">{placeholder}</p>
        )}
      </div>
    </figure>
  );
}
