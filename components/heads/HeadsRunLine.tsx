"use client";
/**
 * The heads request's status: its phase (patterns, then scores) with a bar and the time so far,
 * a cancel button while it runs; then what it cost, or why it stopped. A request the model load
 * made stale (its answers never come) reads as stopped.
 */
import type { RunInfo } from "@/lib/store";
import { isActive } from "@/lib/store/run";
import { fmtMs } from "@/lib/viz/format";
import { elapsedText } from "../progress-text";
import { useCauseway } from "../StoreProvider";
import { useTicker } from "../useTicker";

const PHASE: Record<string, string> = {
  patterns: "every head's pattern on the prompt",
  scores: "scores on the prompt and on repeated random tokens",
};

function text(run: RunInfo, elapsedMs: number | null): string {
  switch (run.status) {
    case "running": {
      const p = run.progress;
      const so = elapsedText(elapsedMs);
      const what = p ? `${PHASE[p.phase] ?? p.phase} (${p.done + 1} of ${p.total})` : "Starting…";
      return so ? `${what} · ${so} so far` : what;
    }
    case "cancelling":
      return "Cancelling after the current phase…";
    case "cancelled":
      return `Cancelled${run.note ? ` (${run.note})` : ""}`;
    case "done":
      return `Done in ${fmtMs(run.ms ?? 0)} · ${run.tensorsLeft ?? "?"} tensors in the worker`;
    case "error":
      return run.error?.message ?? "Failed";
    default:
      return "";
  }
}

export function HeadsRunLine({ run, current }: { run: RunInfo; current: boolean }) {
  const cancel = useCauseway((s) => s.cancelHeads);
  // a request of a model that is no longer loaded never answers
  const shown: RunInfo =
    !current && isActive(run)
      ? { ...run, status: "cancelled", note: "stopped by the model load" }
      : run;
  const active = isActive(shown);
  const now = useTicker(active);
  const elapsedMs = active && shown.startedAt !== null ? now - shown.startedAt : null;
  const p = shown.progress;
  const frac = p && p.total > 0 ? Math.min(1, (p.done + (active ? 0.5 : 1)) / p.total) : 0;
  if (shown.status === "idle") return null;
  return (
    <div
      className={`runline runline--${shown.status}`}
      data-testid="heads-status"
      data-status={shown.status}
      data-tensors-left={shown.tensorsLeft ?? undefined}
      aria-live="polite"
    >
      {active ? (
        <div
          className="runline__bar"
          role="progressbar"
          aria-label="heads progress"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.round(frac * 100)}
        >
          <div className="runline__fill" style={{ width: `${frac * 100}%` }} />
        </div>
      ) : null}
      <span className="runline__text" role={shown.status === "error" ? "alert" : undefined}>
        {text(shown, elapsedMs)}
      </span>
      {active ? (
        <button
          type="button"
          className="btn btn--ghost"
          onClick={cancel}
          disabled={shown.status === "cancelling"}
          data-testid="heads-cancel"
        >
          Cancel
        </button>
      ) : null}
    </div>
  );
}
