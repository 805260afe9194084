"use client";
/**
 * The heatmaps a shared link carried, drawn at once (before the recompute ends), with the cells
 * whose recomputed value differs beyond the tolerance listed underneath.
 */
import { useMemo } from "react";
import { TRACE_KINDS } from "@/lib/interp/spec";
import type { TraceBaselineInfo } from "@/lib/protocol";
import type { Comparison } from "@/lib/share/compare";
import type { CarriedTrace } from "@/lib/share/session";
import type { TraceGrid } from "@/lib/store";
import { fmtValue, visibleToken } from "@/lib/viz/format";
import { Heatmap, KIND_TITLE } from "./Heatmap";

const MAX_LISTED = 20;

function gridOf(t: CarriedTrace, kind: (typeof TRACE_KINDS)[number]): TraceGrid | undefined {
  const g = t.grids.find((x) => x.kind === kind);
  if (!g) return undefined;
  // only what the heatmap reads of a baseline is known from a link
  const baseline: TraceBaselineInfo = {
    job: "trace",
    kind,
    ids: [],
    tokens: t.tokens,
    subject: t.subject,
    answer: { id: -1, token: t.answer, ids: [], tokens: [t.answer] },
    high: t.high,
    low: t.low,
    noiseSigma: null,
    window: t.window,
    nLayer: g.cols,
    samples: 0,
    corruption: "noise",
  };
  const values = Float32Array.from(g.values);
  const filled = g.values.filter((v) => !Number.isNaN(v)).length;
  return { baseline, values, rows: g.rows, cols: g.cols, filled };
}

export function SessionLinkCarried({
  trace,
  comparison,
}: {
  trace: CarriedTrace;
  comparison: Comparison | null;
}) {
  const grids = useMemo(
    () => Object.fromEntries(TRACE_KINDS.map((k) => [k, gridOf(trace, k)])),
    [trace],
  );
  const domain = useMemo(() => {
    let top = trace.high;
    for (const g of trace.grids) for (const v of g.values) if (v > top) top = v;
    return [trace.low, top > trace.low ? top : trace.low + 1e-6] as [number, number];
  }, [trace]);
  const nLayer = trace.grids[0]?.cols ?? 0;
  return (
    <div className="share__carried" data-testid="share-carried">
      <p className="panel__note">From the link (values rounded to f16):</p>
      <div className="trace__maps">
        {trace.grids.map((g) => (
          <Heatmap
            key={g.kind}
            kind={g.kind}
            grid={grids[g.kind]}
            domain={domain}
            tokens={trace.tokens}
            subject={trace.subject}
            nLayer={nLayer}
            layerWindow={trace.window}
            placeholder="Not in the link."
            answer={trace.answer}
          />
        ))}
      </div>
      {comparison && comparison.flagged.length > 0 ? (
        <ul className="share__flagged" data-testid="share-flagged">
          {comparison.flagged.slice(0, MAX_LISTED).map((c) => (
            <li key={`${c.kind}-${c.row}-${c.col}`}>
              {KIND_TITLE[c.kind]} · {visibleToken(trace.tokens[c.row] ?? "?")} · layer {c.col}:
              link {fmtValue(c.carried)} → recomputed {fmtValue(c.recomputed)}
            </li>
          ))}
          {comparison.flagged.length > MAX_LISTED ? (
            <li>… and {comparison.flagged.length - MAX_LISTED} more cells</li>
          ) : null}
        </ul>
      ) : null}
    </div>
  );
}
