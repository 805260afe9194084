"use client";
/**
 * The heads request's status line (components/RunLine with its own words and cancel): its phase
 * (patterns, then scores) and the time so far while it runs; then what it cost, or why it
 * stopped. A request the model load made stale (its answers never come) reads as stopped.
 */
import type { RunInfo } from "@/lib/store";
import { isActive } from "@/lib/store/run";
import { fmtMs } from "@/lib/viz/format";
import { elapsedText } from "../progress-text";
import { RunLine } from "../RunLine";
import { useCauseway } from "../StoreProvider";

const PHASE: Record<string, string> = {
  patterns: "every head's pattern on the prompt",
  scores: "scores on the prompt and on repeated random tokens",
};

function statusOf(run: RunInfo, elapsedMs: number | null): string {
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
  if (shown.status === "idle") return null;
  return (
    <RunLine
      run={shown}
      what="heads"
      owner="heads"
      cancel={cancel}
      text={(ms) => statusOf(shown, ms)}
    />
  );
}
