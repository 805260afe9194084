"use client";
/**
 * What the three read-out views share: the status line of a read-out (RunLine with its own
 * cancel and phase words), its Run button, and its JSON / CSV exports.
 */
import { modelAbout } from "@/lib/export/model-about";
import { type ReadoutAbout, readoutJson } from "@/lib/export/readouts";
import type { ReadoutType } from "@/lib/lens-jobs";
import type { RunInfo } from "@/lib/store";
import { fmtInt } from "@/lib/viz/format";
import { downloadText } from "../download";
import { etaText } from "../progress-text";
import { RunLine, statusText } from "../RunLine";
import { useCauseway } from "../StoreProvider";
import { useModelBlocked } from "../use-model-blocked";

const PHASE: Record<string, string> = {
  queued: "waiting for the run in flight to finish",
  forward: "one forward pass",
  estimate: "the estimate: clean and corrupted forwards, one backward pass",
  exact: "exact patching",
};

/** The running line: phase, exact site and counts, ETA; else the sweep's own words. */
export function readoutText(run: RunInfo, what: string, elapsedMs: number | null): string {
  const p = run.progress;
  if (run.status !== "running" || !p) return statusText(run, what, elapsedMs);
  const counts =
    p.phase === "exact" && p.total > 0 ? `${fmtInt(p.done)} / ${fmtInt(p.total)} evaluations` : "";
  return [PHASE[p.phase] ?? p.phase, p.kind ?? "", counts, etaText(p.etaMs, p.done, p.total)]
    .filter((x) => x !== "")
    .join(" · ");
}

export function ReadoutStatus({ type, what }: { type: ReadoutType; what: string }) {
  const run = useCauseway((s) => s.readouts[type].run);
  const cancel = useCauseway((s) => s.cancelReadout);
  return (
    <RunLine
      run={run}
      what={what}
      owner={type}
      cancel={() => cancel(type)}
      text={(elapsed) => readoutText(run, what, elapsed)}
    />
  );
}

export function RunButton({ type, label }: { type: ReadoutType; label: string }) {
  const blocked = useModelBlocked();
  const run = useCauseway((s) => s.runReadout);
  return (
    <button
      type="submit"
      className="btn btn--primary"
      disabled={blocked !== null}
      title={blocked ?? undefined}
      onClick={(e) => {
        e.preventDefault();
        run(type);
      }}
      data-testid={`run-${type}`}
    >
      {label}
    </button>
  );
}

/** What the read-out `type` on screen is of: the model, the backend, its prompt(s). */
export function useReadoutAbout(type: ReadoutType): ReadoutAbout | null {
  const info = useCauseway((s) => s.model.info);
  const source = useCauseway((s) => s.model.source);
  const backend = useCauseway((s) => s.model.backend);
  const job = useCauseway((s) => s.readouts[type].job);
  if (!info || !job) return null;
  const model = modelAbout(info, source);
  const of = "prompt" in job ? { prompt: job.prompt } : { clean: job.clean, corrupt: job.corrupt };
  return { model, ...(backend ? { backend } : {}), ...of };
}

/** JSON (the CLI's fields, after what it is of) and CSV downloads of a read-out on screen. */
export function ReadoutExports({
  type,
  name,
  result,
  csv,
}: {
  type: ReadoutType;
  name: string;
  result: object;
  csv: (about: ReadoutAbout) => string;
}) {
  const about = useReadoutAbout(type);
  if (!about) return null;
  return (
    <div className="lens__exports">
      <button
        type="button"
        className="btn btn--ghost btn--small"
        onClick={() => downloadText(readoutJson(result, about), `${name}.json`, "application/json")}
        data-testid={`export-${name}-json`}
      >
        JSON
      </button>
      <button
        type="button"
        className="btn btn--ghost btn--small"
        onClick={() => downloadText(csv(about), `${name}.csv`, "text/csv")}
        data-testid={`export-${name}-csv`}
      >
        CSV
      </button>
    </div>
  );
}
