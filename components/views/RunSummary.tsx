"use client";
/**
 * The one-line summary of a view's last run on its tab: "running 40 %", or, once done, what it
 * found (its peak) and how long it took; "stopped" / "failed" otherwise. Nothing before a run.
 */
import type { ReactNode } from "react";
import type { RunInfo } from "@/lib/store";
import { fmtMs } from "@/lib/viz/format";

export function RunSummary({ run, found }: { run: RunInfo; found: ReactNode }) {
  let text: ReactNode = null;
  if (run.status === "running" || run.status === "cancelling") {
    const p = run.progress;
    text = p && p.total > 0 ? `running ${Math.floor((100 * p.done) / p.total)} %` : "running…";
  } else if (run.status === "done") {
    text = (
      <>
        {found}
        {run.ms !== null ? <span className="tab__time"> · {fmtMs(run.ms)}</span> : null}
      </>
    );
  } else if (run.status === "cancelled") text = "stopped";
  else if (run.status === "error") text = "failed";
  if (text === null) return null;
  return (
    <span className="tab__summary" data-status={run.status}>
      {text}
    </span>
  );
}
