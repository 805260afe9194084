"use client";
/** A vertical colour bar with round ticks (SVG), for a heatmap's scale. */
import { useId } from "react";
import { rangeTicks, tickLabel } from "@/lib/viz/ticks";

export function ColorBar({
  interpolate,
  domain,
  height,
  label,
  top = 0,
  barWidth = 10,
  testId,
}: {
  interpolate: (t: number) => string;
  domain: [number, number];
  height: number;
  label: string;
  top?: number;
  barWidth?: number;
  testId?: string;
}) {
  const id = useId().replace(/:/g, "");
  const [lo, hi] = domain;
  const stops = Array.from({ length: 11 }, (_, i) => i / 10);
  const ticks = rangeTicks(lo, hi, Math.max(2, Math.floor(height / 36)));
  const y = (v: number) => top + height - ((v - lo) / (hi - lo || 1)) * height;
  return (
    <g className="colorbar" data-testid={testId} data-lo={lo} data-hi={hi}>
      <defs>
        <linearGradient id={`cb-${id}`} x1="0" y1="1" x2="0" y2="0">
          {stops.map((t) => (
            <stop key={t} offset={t} stopColor={interpolate(t)} />
          ))}
        </linearGradient>
      </defs>
      <rect
        x={0}
        y={top}
        width={barWidth}
        height={height}
        fill={`url(#cb-${id})`}
        stroke="var(--line-2)"
        strokeWidth={0.5}
      />
      {ticks.map((v) => (
        <g key={v} transform={`translate(${barWidth},${y(v)})`}>
          <line x2={3} stroke="var(--ink-3)" />
          <text x={5} dy="0.32em" className="axis__tick">
            {tickLabel(v)}
          </text>
        </g>
      ))}
      <text
        className="axis__label"
        transform={`translate(${barWidth + 46},${top + height / 2}) rotate(90)`}
        textAnchor="middle"
      >
        {label}
      </text>
    </g>
  );
}
