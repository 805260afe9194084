/** Store types every slice shares: its errors, progress and the life of one sweep. */
import type { ErrorCode, ProgressOf, StageSummary } from "../protocol";
import type { ShareErrorCode } from "../share/errors";

/** Codes the store gives itself, beside the worker's (lib/protocol.ts ErrorCode). */
export type StoreErrorCode =
  | "busy" // another request must finish first
  | "no_trace" // re-trace without a trace on screen
  | "no_edits" // re-trace with an empty (or all-off) stack
  | "bad_file" // a dropped file that is not what it should be
  | "prompt_too_long"
  | ShareErrorCode;

export interface UiError {
  code: ErrorCode | StoreErrorCode;
  message: string;
}

/**
 * A load's progress as the worker sends it (lib/protocol.ts, one definition), less its request
 * tag; edit evals reuse it with their own phase names.
 */
export type Progress = Omit<ProgressOf<"load">, "request" | "phase"> & {
  phase: ProgressOf<"load" | "evalEdit">["phase"];
};

export type RunStatus = "idle" | "running" | "cancelling" | "done" | "cancelled" | "error";

export interface RunProgress {
  phase: string;
  /** Trace kind, patch site or "dataset". */
  kind: string | null;
  done: number;
  total: number;
  etaMs: number | null;
}

/** The life of one sweep as the UI sees it. */
export interface RunInfo {
  status: RunStatus;
  /** The worker request (0: none yet). */
  reqId: number;
  progress: RunProgress | null;
  /** When it was asked for (store clock, ms). */
  startedAt: number | null;
  ms: number | null;
  evaluations: number | null;
  /** Tensors the worker holds after the run (or its cancellation) minus before it. */
  tensorsLeft: number | null;
  stages: Record<string, StageSummary> | null;
  error: UiError | null;
  /** Why a run stopped early when the user did not cancel it ("replaced by …"). */
  note: string | null;
}
