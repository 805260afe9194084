"use client";
/**
 * The sequential editing curve: each CounterFact score (efficacy, paraphrase, neighbourhood and
 * their harmonic mean) against the number of edits applied so far, one point per batch, drawn as
 * the points arrive (lib/edit/eval-run.ts CurvePoint). Rates share one 0–1 axis; a score the
 * cases do not have (no paraphrase prompts) is left out of the plot and the legend.
 */
import { scaleLinear } from "d3";
import type { CurvePoint } from "@/lib/batch-jobs";
import st from "./Batch.module.css";

const SERIES = [
  { key: "efficacy", label: "efficacy", color: "#1f77b4", dash: "" },
  { key: "paraphrase", label: "paraphrase", color: "#ff7f0e", dash: "5 3" },
  { key: "neighborhood", label: "neighbourhood", color: "#2ca02c", dash: "2 2" },
  { key: "score", label: "score (harmonic mean)", color: "#444", dash: "" },
] as const;

const W = 420;
const H = 220;
const M = { top: 10, right: 12, bottom: 40, left: 44 };

export function SequentialCurve({ points }: { points: readonly CurvePoint[] }) {
  if (points.length === 0) return null;
  const maxEdits = Math.max(...points.map((p) => p.edits));
  const x = scaleLinear()
    .domain([0, Math.max(1, maxEdits)])
    .range([M.left, W - M.right]);
  const y = scaleLinear()
    .domain([0, 1])
    .range([H - M.bottom, M.top]);
  const shown = SERIES.filter((s) => points.some((p) => typeof p[s.key] === "number"));
  const xTicks = x.ticks(Math.min(8, Math.max(1, maxEdits))).filter(Number.isInteger);
  return (
    <figure data-testid="batch-curve">
      <svg
        width={W}
        height={H}
        role="img"
        aria-label={`Scores against the number of edits, ${points.length} points`}
      >
        {y.ticks(5).map((t) => (
          <g key={`y${t}`}>
            <line x1={M.left} x2={W - M.right} y1={y(t)} y2={y(t)} stroke="#e4e4e4" />
            <text x={M.left - 6} y={y(t)} dy="0.32em" textAnchor="end" fontSize={11}>
              {t.toFixed(1)}
            </text>
          </g>
        ))}
        {xTicks.map((t) => (
          <text key={`x${t}`} x={x(t)} y={H - M.bottom + 14} textAnchor="middle" fontSize={11}>
            {t}
          </text>
        ))}
        <line x1={M.left} x2={W - M.right} y1={H - M.bottom} y2={H - M.bottom} stroke="#888" />
        <line x1={M.left} x2={M.left} y1={M.top} y2={H - M.bottom} stroke="#888" />
        <text x={(M.left + W - M.right) / 2} y={H - 6} textAnchor="middle" fontSize={12}>
          edits so far
        </text>
        <text
          transform={`translate(12 ${(M.top + H - M.bottom) / 2}) rotate(-90)`}
          textAnchor="middle"
          fontSize={12}
        >
          score
        </text>
        {shown.map((s) => {
          const pts = points.filter((p) => typeof p[s.key] === "number");
          return (
            <g key={s.key} data-series={s.key}>
              <path
                fill="none"
                stroke={s.color}
                strokeWidth={2}
                strokeDasharray={s.dash}
                d={pts
                  .map((p, i) => `${i ? "L" : "M"}${x(p.edits)},${y(p[s.key] as number)}`)
                  .join("")}
              />
              {pts.map((p) => (
                <circle
                  key={p.edits}
                  cx={x(p.edits)}
                  cy={y(p[s.key] as number)}
                  r={3}
                  fill={s.color}
                >
                  <title>{`${s.label} after ${p.edits} edits: ${(p[s.key] as number).toFixed(3)}`}</title>
                </circle>
              ))}
            </g>
          );
        })}
      </svg>
      <figcaption className={st.legend}>
        {shown.map((s) => (
          <span key={s.key} className={st.key}>
            <svg width={22} height={10} aria-hidden="true">
              <line
                x1={1}
                x2={21}
                y1={5}
                y2={5}
                stroke={s.color}
                strokeWidth={2}
                strokeDasharray={s.dash}
              />
            </svg>
            {s.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
