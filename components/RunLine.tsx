"use client";
/**
 * The status of one panel's sweep: a progress bar with the phase, counts, time so far and ETA
 * while it runs, then what it cost (time, evaluations, tensors left in the worker), or why it
 * stopped. A cancel button while it runs.
 */
import type { RunInfo } from "@/lib/store";
import { fmtInt, fmtMs } from "@/lib/viz/format";
import { elapsedText, etaText, SWEEP_PHASE } from "./progress-text";
import { useCauseway } from "./StoreProvider";
import { useTicker } from "./useTicker";

/**
 * The line of a run: while it runs, the phase, its counts and the share done, the time so far
 * (`elapsedMs`) and the ETA (marked as an estimate early on); then what it cost, or why it
 * stopped.
 */
export function statusText(run: RunInfo, what: string, elapsedMs: number | null = null): string {
  const elapsed = elapsedText(elapsedMs);
  switch (run.status) {
    case "idle":
      return "";
    case "running": {
      const p = run.progress;
      if (!p) return `Starting ${what}…${elapsed ? ` · ${elapsed}` : ""}`;
      const pct = p.total > 0 ? Math.floor((100 * p.done) / p.total) : 0;
      const kind = p.kind && p.kind !== "dataset" ? `${p.kind} · ` : "";
      // the counts are of the whole run (every kind): evaluations, or facts in dataset mode
      const unit = p.phase === "dataset" ? "facts" : "evaluations";
      const eta = etaText(p.etaMs, p.done, p.total);
      return [
        `${kind}${SWEEP_PHASE[p.phase] ?? p.phase}`,
        p.total > 0 ? `${fmtInt(p.done)} / ${fmtInt(p.total)} ${unit} (${pct}%)` : "",
        elapsed ? `${elapsed} so far` : "",
        eta,
      ]
        .filter((x) => x !== "")
        .join(" · ");
    }
    case "cancelling":
      return "Cancelling after the current pass…";
    case "cancelled":
      return `Cancelled${run.note ? ` (${run.note})` : ""}${
        run.tensorsLeft !== null ? ` · ${run.tensorsLeft} tensors left` : ""
      }`;
    case "done":
      return `Done in ${fmtMs(run.ms ?? 0)}${
        run.evaluations !== null ? ` · ${fmtInt(run.evaluations)} evaluations` : ""
      } · ${run.tensorsLeft ?? "?"} tensors left`;
    case "error":
      return run.error?.message ?? "Failed";
  }
}

export function RunLine({
  run,
  what,
  owner,
  cancel,
  text,
}: {
  run: RunInfo;
  what: string;
  owner: string;
  /** Another request's cancel (default: the sweep's, cancelRun). */
  cancel?: () => void;
  /** Another request's words for its status (default: statusText). */
  text?: (elapsedMs: number | null) => string;
}) {
  const cancelRun = useCauseway((s) => s.cancelRun);
  const active = run.status === "running" || run.status === "cancelling";
  // ticks every second while running, so a long phase is never a frozen line
  const now = useTicker(active);
  const elapsedMs = active && run.startedAt !== null ? now - run.startedAt : null;
  const frac =
    run.progress && run.progress.total > 0
      ? Math.min(1, run.progress.done / run.progress.total)
      : 0;
  return (
    <div
      className={`runline runline--${run.status}`}
      data-testid={`run-status-${owner}`}
      data-status={run.status}
      data-tensors-left={run.tensorsLeft ?? undefined}
      data-evaluations={run.evaluations ?? undefined}
      data-code={run.error?.code}
      aria-live="polite"
    >
      {active ? (
        <div
          className="runline__bar"
          role="progressbar"
          aria-label={`${what} progress`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.round(frac * 100)}
        >
          <div className="runline__fill" style={{ width: `${frac * 100}%` }} />
        </div>
      ) : null}
      <span className="runline__text" role={run.status === "error" ? "alert" : undefined}>
        {text ? text(elapsedMs) : statusText(run, what, elapsedMs)}
      </span>
      {active ? (
        <button
          type="button"
          className="btn btn--ghost"
          onClick={cancel ?? cancelRun}
          disabled={run.status === "cancelling"}
          data-testid={`cancel-${owner}`}
        >
          Cancel
        </button>
      ) : null}
    </div>
  );
}
