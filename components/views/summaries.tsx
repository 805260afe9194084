"use client";
/** The tab summaries of the built-in views: each run's peak cell (components/views/RunSummary). */
import { TRACE_KINDS } from "@/lib/interp/spec";
import { fmtValue, visibleToken } from "@/lib/viz/format";
import { peakCell } from "@/lib/viz/peak";
import { useCauseway } from "../StoreProvider";
import { RunSummary } from "./RunSummary";

const short = (v: number) =>
  fmtValue(v)
    .replace(/^(-?)0\./, "$1.")
    .slice(0, 5);

/** The causal trace: the highest restored cell over its kinds, with layer and token. */
export function TraceSummary() {
  const run = useCauseway((s) => s.trace.run);
  const result = useCauseway((s) => s.trace.result);
  let found = "done";
  let best: { kind: string; value: number; row: number; col: number } | null = null;
  for (const k of TRACE_KINDS) {
    const g = result?.grids[k];
    const p = g ? peakCell(g.values, g.cols) : null;
    if (p && (!best || p.value > best.value)) best = { kind: k, ...p };
  }
  if (best) {
    const tok = result?.tokens?.[best.row];
    found = `peak ${short(best.value)} ${best.kind} L${best.col}${tok !== undefined ? ` “${visibleToken(tok).trim()}”` : ""}`;
  }
  return <RunSummary run={run} found={found} />;
}

/** Head patching: the head that restores most. */
export function PatchSummary() {
  const run = useCauseway((s) => s.patch.run);
  const result = useCauseway((s) => s.patch.result);
  const H = result?.baseline?.nHead ?? 0;
  const p = result?.values && H > 0 ? peakCell(result.values, H) : null;
  return <RunSummary run={run} found={p ? `peak ${short(p.value)} L${p.row}H${p.col}` : "done"} />;
}

/** Patching by position: the cell that restores most. */
export function PositionsSummary() {
  const run = useCauseway((s) => s.positions.run);
  const result = useCauseway((s) => s.positions.result);
  const b = result?.baseline;
  const p = result?.values && b ? peakCell(result.values, result.width) : null;
  let found = "done";
  if (p && b) {
    const where =
      result?.site === "head_out_pos"
        ? `L${Math.floor(p.col / b.nHead)}H${p.col % b.nHead}`
        : `L${p.col}`;
    found = `peak ${short(p.value)} ${where} “${visibleToken(b.cleanTokens[p.row] ?? "").trim()}”`;
  }
  return <RunSummary run={run} found={found} />;
}

/** Path patching: the receiver the path moves most (most negative effect). */
export function PathSummary() {
  const run = useCauseway((s) => s.path.run);
  const result = useCauseway((s) => s.path.result);
  const H = result?.baseline?.nHead ?? 0;
  const neg =
    result?.values && H > 0
      ? peakCell(
          result.values.map((v) => -v),
          H,
        )
      : null;
  const found =
    neg && result
      ? `L${result.sender.layer}H${result.sender.head} → L${neg.row}H${neg.col} ${short(-neg.value)}`
      : "done";
  return <RunSummary run={run} found={found} />;
}

/** Dataset mode: how many facts were traced. */
export function DatasetSummary() {
  const run = useCauseway((s) => s.dataset.run);
  const result = useCauseway((s) => s.dataset.result);
  return <RunSummary run={run} found={result ? `${result.n_used} facts` : "done"} />;
}
