"use client";
/**
 * The effect of α for a steering recipe (lib/edit/steer.ts alphaCurve, run in the worker on the
 * model with the current stack): accuracy and mean log P(" positive") − log P(" negative") on
 * held-out absc reviews, one point per α.
 */
import { useState } from "react";
import type { Edit, EditEval } from "@/lib/edit/types";
import { useCauseway } from "../StoreProvider";

export const CURVE_ALPHAS = [-10, -5, -2, 0, 2, 5, 10];

export const ABSC_EVAL: EditEval = {
  prompts: { dataset: "absc", split: "test", limit: 50 },
  target: " positive",
  foil: " negative",
};

export function AlphaCurve({ recipe }: { recipe: () => { edit: Edit } | { error: string } }) {
  const curve = useCauseway((s) => s.alphaCurve);
  const run = useCauseway((s) => s.runAlphaCurve);
  const [invalid, setInvalid] = useState<string | null>(null);
  const W = 260;
  const H = 90;
  const pts = curve.points ?? [];
  const diffs = pts.map((p) => p.mean_logprob_diff);
  const lo = Math.min(0, ...diffs);
  const hi = Math.max(0, ...diffs, 1e-9);
  const a0 = CURVE_ALPHAS[0];
  const a1 = CURVE_ALPHAS[CURVE_ALPHAS.length - 1];
  const x = (a: number) => 6 + ((a - a0) / (a1 - a0)) * (W - 12);
  const y = (d: number) => H - 14 - ((d - lo) / (hi - lo || 1)) * (H - 24);
  return (
    <div className="probe" data-testid="alpha-curve" data-status={curve.status}>
      <button
        type="button"
        className="btn btn--ghost"
        onClick={() => {
          const r = recipe();
          setInvalid("error" in r ? r.error : null);
          if ("edit" in r) run(r.edit, CURVE_ALPHAS, ABSC_EVAL);
        }}
      >
        {curve.status === "running" ? "Computing the α curve…" : "Show α curve (absc test)"}
      </button>
      {invalid ? <p className="form-error">{invalid}</p> : null}
      {curve.status === "error" && curve.error ? (
        <p className="form-error">{curve.error.message}</p>
      ) : null}
      {pts.length > 0 ? (
        <svg width={W} height={H} className="edits__curve" role="img" aria-label="alpha curve">
          <line x1={x(0)} x2={x(0)} y1={4} y2={H - 14} stroke="var(--line-2)" />
          <line x1={6} x2={W - 6} y1={y(0)} y2={y(0)} stroke="var(--line-2)" />
          <path
            className="edits__loss"
            d={pts
              .map((p, i) => `${i ? "L" : "M"}${x(p.alpha)},${y(p.mean_logprob_diff)}`)
              .join("")}
          />
          {pts.map((p) => (
            <text
              key={p.alpha}
              x={x(p.alpha)}
              y={H - 2}
              textAnchor="middle"
              className="edits__legend"
            >
              {p.alpha}: {Math.round(p.accuracy * 100)}%
            </text>
          ))}
          <text x={W - 4} y={12} textAnchor="end" className="edits__legend">
            log P(+) − log P(−) vs α · accuracy
          </text>
        </svg>
      ) : null}
    </div>
  );
}
