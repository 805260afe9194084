/**
 * The life of a sweep as the UI sees it, shared by the trace, patch and dataset slices: the
 * worker runs one sweep at a time and the latest wins, so starting one in any slice stops the
 * one in flight, and that slice says so.
 */
import { type FromWorker, isProgressOf, type ModelVariant, type RunJob } from "../protocol";
import type { Context, RunOwner } from "./context";
import type { CausewayState, RunInfo } from "./types";

export const IDLE_RUN: RunInfo = {
  status: "idle",
  reqId: 0,
  progress: null,
  startedAt: null,
  ms: null,
  evaluations: null,
  tensorsLeft: null,
  stages: null,
  error: null,
  note: null,
};

export function isActive(run: RunInfo): boolean {
  return run.status === "running" || run.status === "cancelling";
}

const OWNER_LABEL: Record<RunOwner, string> = {
  trace: "the causal trace",
  patch: "activation patching",
  dataset: "the dataset trace",
  compare: "the re-trace of the edited model",
  positions: "patching by position",
  path: "path patching",
};

type Set = (fn: (s: CausewayState) => Partial<CausewayState>) => void;

/** The RunInfo of a slice, and how to write it back. */
export function runOf(s: CausewayState, owner: RunOwner): RunInfo {
  if (owner === "compare") return s.compare.run;
  if (owner === "positions") return s.positions.run;
  if (owner === "path") return s.path.run;
  return owner === "trace" ? s.trace.run : owner === "patch" ? s.patch.run : s.dataset.run;
}

export function withRun(s: CausewayState, owner: RunOwner, run: RunInfo): Partial<CausewayState> {
  if (owner === "trace") return { trace: { ...s.trace, run } };
  if (owner === "patch") return { patch: { ...s.patch, run } };
  if (owner === "compare") return { compare: { ...s.compare, run } };
  if (owner === "positions") return { positions: { ...s.positions, run } };
  if (owner === "path") return { path: { ...s.path, run } };
  return { dataset: { ...s.dataset, run } };
}

/**
 * Sends `job` to the worker for `owner`. A sweep of another slice still in flight is marked
 * cancelled ("replaced by …"); the worker stops it between passes and posts nothing more for it.
 */
export function startRun(
  ctx: Context,
  set: Set,
  owner: RunOwner,
  job: RunJob,
  variant?: ModelVariant,
): number | null {
  if (!ctx.port) return null;
  const previous = ctx.run;
  const reqId = ctx.port.run(job, variant);
  ctx.run = { reqId, owner };
  const now = ctx.now();
  set((s) => {
    let out: Partial<CausewayState> = {};
    if (previous && previous.owner !== owner) {
      const old = runOf(s, previous.owner);
      if (old.reqId === previous.reqId && isActive(old)) {
        out = withRun(s, previous.owner, {
          ...old,
          status: "cancelled",
          note: `replaced by ${OWNER_LABEL[owner]}`,
        });
      }
    }
    const merged = { ...s, ...out } as CausewayState;
    return {
      ...out,
      ...withRun(merged, owner, { ...IDLE_RUN, status: "running", reqId, startedAt: now }),
    };
  });
  return reqId;
}

/** Folds a progress / done / error message into a run; other messages leave it as it is. */
export function applyRunMessage(run: RunInfo, msg: FromWorker): RunInfo {
  if (msg.reqId !== run.reqId) return run;
  if (isProgressOf(msg, "run")) {
    if (!isActive(run)) return run;
    return {
      ...run,
      progress: {
        phase: msg.phase,
        kind: msg.kind ?? null,
        done: msg.done,
        total: msg.total,
        etaMs: msg.etaMs ?? null,
      },
    };
  }
  switch (msg.type) {
    case "done":
      return {
        ...run,
        status: msg.cancelled ? "cancelled" : "done",
        ms: msg.ms,
        evaluations: msg.evaluations ?? null,
        tensorsLeft: msg.tensorsLeft,
        stages: msg.stages ?? null,
        progress:
          run.progress && !msg.cancelled
            ? { ...run.progress, done: run.progress.total, etaMs: 0 }
            : run.progress,
      };
    case "error":
      return { ...run, status: "error", error: { code: msg.code, message: msg.message } };
    default:
      return run;
  }
}
