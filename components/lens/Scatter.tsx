"use client";
/**
 * Estimate against exact patching, one dot per cell, with the y = x line and Pearson's r. Exact
 * patching (x) is the reference: dots on the line are cells the estimate gets right.
 */
import { rangeTicks, tickLabel } from "@/lib/viz/ticks";

const W = 240;
const H = 220;
const M = { left: 44, right: 10, top: 10, bottom: 38 };

export function Scatter({
  exact,
  estimate,
  r,
  testId,
}: {
  exact: number[];
  estimate: number[];
  r: number;
  testId: string;
}) {
  const all = [...exact, ...estimate].filter(Number.isFinite);
  const lo = Math.min(0, ...all);
  const hi = Math.max(1e-6, ...all);
  const pad = (hi - lo) * 0.05;
  const [a, b] = [lo - pad, hi + pad];
  const x = (v: number) => M.left + ((v - a) / (b - a)) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - ((v - a) / (b - a)) * (H - M.top - M.bottom);
  const ticks = rangeTicks(a, b, 4);
  return (
    <svg
      width={W}
      height={H}
      role="img"
      aria-label={`estimate against exact patching, r = ${r.toFixed(3)}`}
      data-testid={testId}
      data-r={r}
      className="lens__scatter"
    >
      <rect
        x={M.left}
        y={M.top}
        width={W - M.left - M.right}
        height={H - M.top - M.bottom}
        fill="none"
        stroke="var(--line-2)"
      />
      <line x1={x(a)} y1={y(a)} x2={x(b)} y2={y(b)} stroke="var(--ink-3)" strokeDasharray="3 3" />
      {ticks.map((t) => (
        <g key={t}>
          <text x={x(t)} y={H - M.bottom + 14} textAnchor="middle" className="axis__tick">
            {tickLabel(t)}
          </text>
          <text x={M.left - 5} y={y(t)} dy="0.32em" textAnchor="end" className="axis__tick">
            {tickLabel(t)}
          </text>
        </g>
      ))}
      {exact.map((e, i) =>
        Number.isFinite(e) && Number.isFinite(estimate[i]) ? (
          <circle
            // biome-ignore lint/suspicious/noArrayIndexKey: one dot per cell, in grid order
            key={i}
            cx={x(e)}
            cy={y(estimate[i])}
            r={2.5}
            className="lens__dot"
          />
        ) : null,
      )}
      <text x={(M.left + W - M.right) / 2} y={H - 6} textAnchor="middle" className="axis__label">
        exact patching (reference)
      </text>
      <text
        transform={`translate(11,${(M.top + H - M.bottom) / 2}) rotate(-90)`}
        textAnchor="middle"
        className="axis__label"
      >
        estimate
      </text>
      <text x={M.left + 6} y={M.top + 14} className="axis__label">
        r = {Number.isFinite(r) ? r.toFixed(3) : "—"}
      </text>
    </svg>
  );
}
