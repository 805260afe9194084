"use client";
/**
 * Layer × head grid of activation patching: each cell copies one head's output (hook_z, all
 * positions) from the clean run into the corrupted one, coloured by the normalised logit
 * difference (clean = 1, corrupted = 0) on a diverging scale centred at 0. Click a head to see
 * its attention pattern.
 */
import { useMemo, useRef, useState } from "react";
import { fmtValue } from "@/lib/viz/format";
import { divergingScale, symmetricDomain, textOn } from "@/lib/viz/scales";
import { rangeTicks, tickLabel } from "@/lib/viz/ticks";
import { useElementWidth } from "./useElementWidth";

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

const LEFT = 56;
const TOP = 34;
const UNFILLED = "#f1f0ec";

export function HeadGrid({
  values,
  nLayer,
  nHead,
  selected,
  onSelect,
}: {
  values: Float32Array;
  nLayer: number;
  nHead: number;
  selected: { layer: number; head: number } | null;
  onSelect: (layer: number, head: number) => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const width = useElementWidth(ref, 320);
  const [hover, setHover] = useState<{ layer: number; head: number } | null>(null);
  const cell = Math.max(22, Math.min(52, Math.floor((width - LEFT - 10) / Math.max(1, nHead))));
  const cellH = Math.max(20, Math.min(34, cell));
  const domain = useMemo(() => symmetricDomain(values), [values]);
  const scale = useMemo(() => divergingScale(domain), [domain]);
  const w = LEFT + cell * nHead + 10;
  const plotH = cellH * nLayer;
  const barTop = TOP + plotH + 16;
  const h = barTop + 40;
  const barW = Math.min(cell * nHead, 240);
  const stops = Array.from({ length: 11 }, (_, i) => i / 10);
  const shown = hover ?? selected;
  const shownValue = shown ? values[shown.layer * nHead + shown.head] : Number.NaN;

  return (
    <div className="headgrid" ref={ref}>
      <svg
        width={w}
        height={h}
        role="img"
        aria-label={`Head patching: ${nLayer} layers by ${nHead} heads`}
      >
        <defs>
          <linearGradient id="headgrid-bar" x1="0" x2="1" y1="0" y2="0">
            {stops.map((t) => (
              <stop
                key={t}
                offset={t}
                stopColor={scale.color(domain[0] + t * (domain[1] - domain[0])) ?? ""}
              />
            ))}
          </linearGradient>
        </defs>
        {range(nHead).map((hd) => (
          <text
            key={`h${hd}`}
            x={LEFT + (hd + 0.5) * cell}
            y={TOP - 8}
            textAnchor="middle"
            className="axis__tick"
          >
            H{hd}
          </text>
        ))}
        <text x={LEFT + (cell * nHead) / 2} y={11} textAnchor="middle" className="axis__label">
          head
        </text>
        {range(nLayer).map((l) => (
          <text
            key={`l${l}`}
            x={LEFT - 8}
            y={TOP + (l + 0.5) * cellH}
            dy="0.32em"
            textAnchor="end"
            className="axis__tick"
          >
            L{l}
          </text>
        ))}
        <text
          transform={`translate(12,${TOP + plotH / 2}) rotate(-90)`}
          textAnchor="middle"
          className="axis__label"
        >
          layer
        </text>
        {range(nLayer).map((l) =>
          range(nHead).map((hd) => {
            const v = values[l * nHead + hd];
            const fill = scale.color(v) ?? UNFILLED;
            const isSel = selected?.layer === l && selected?.head === hd;
            const filled = !Number.isNaN(v);
            return (
              // biome-ignore lint/a11y/useSemanticElements: an SVG cell cannot be a <button>
              <g
                key={`${l}-${hd}`}
                transform={`translate(${LEFT + hd * cell},${TOP + l * cellH})`}
                className={`headgrid__cell${isSel ? " headgrid__cell--selected" : ""}`}
                role="button"
                tabIndex={filled ? 0 : -1}
                aria-label={`layer ${l} head ${hd}: ${filled ? fmtValue(v) : "pending"}`}
                aria-pressed={isSel}
                data-testid="head-cell"
                data-layer={l}
                data-head={hd}
                data-value={filled ? v : undefined}
                onClick={() => filled && onSelect(l, hd)}
                onKeyDown={(e) => {
                  if (filled && (e.key === "Enter" || e.key === " ")) {
                    e.preventDefault();
                    onSelect(l, hd);
                  }
                }}
                onMouseEnter={() => setHover({ layer: l, head: hd })}
                onMouseLeave={() => setHover(null)}
              >
                <rect width={cell - 2} height={cellH - 2} x={1} y={1} rx={3} fill={fill} />
                {filled && cell >= 34 ? (
                  <text
                    x={cell / 2}
                    y={cellH / 2}
                    dy="0.32em"
                    textAnchor="middle"
                    className="headgrid__value"
                    fill={textOn(fill)}
                  >
                    {Math.abs(v) < 0.005 ? "0" : v.toFixed(2).replace(/^(-?)0\./, "$1.")}
                  </text>
                ) : null}
                {isSel ? (
                  <rect
                    width={cell - 1}
                    height={cellH - 1}
                    x={0.5}
                    y={0.5}
                    rx={3.5}
                    fill="none"
                    stroke="var(--ink)"
                    strokeWidth={2}
                  />
                ) : null}
              </g>
            );
          }),
        )}
        <g transform={`translate(${LEFT},${barTop})`}>
          <rect width={barW} height={8} fill="url(#headgrid-bar)" rx={2} />
          {rangeTicks(domain[0], domain[1], 4).map((v) => {
            const x = ((v - domain[0]) / (domain[1] - domain[0])) * barW;
            return (
              <g key={v} transform={`translate(${x},8)`}>
                <line y2={3} stroke="var(--ink-3)" />
                <text y={14} textAnchor="middle" className="axis__tick">
                  {tickLabel(v)}
                </text>
              </g>
            );
          })}
        </g>
      </svg>
      <p className="headgrid__readout" data-testid="head-readout">
        {shown
          ? `L${shown.layer} H${shown.head}: ${Number.isNaN(shownValue) ? "pending" : fmtValue(shownValue)}`
          : "normalised logit difference: 1 = clean restored, 0 = still corrupted"}
      </p>
    </div>
  );
}
