/**
 * The semantic-consistency recipe in the app: one worker request (lib/protocol.ts
 * "consistency"), its run kept with the name of the model it ran on so a later model's form
 * never shows an earlier model's numbers. Applying the run's edit goes through the edit stack.
 */
import type { StateCreator } from "zustand/vanilla";
import type { ConsistencyRequest } from "../edit/consistency-request";
import type { ConsistencyProgress, ConsistencyRun } from "../edit/consistency-run";
import { type FromWorker, isProgressOf } from "../protocol";
import type { UiError } from "./common-types";
import type { Context } from "./context";
import { NO_WORKER, requestBlocker } from "./errors";
import type { CausewayState } from "./types";

export interface ConsistencyState {
  status: "idle" | "running" | "ok" | "error";
  run: ConsistencyRun | null;
  /** The running request's last progress. */
  progress: ConsistencyProgress | null;
  /** The model the run belongs to. */
  model: string | null;
  error: UiError | null;
}

export interface ConsistencySlice {
  consistency: ConsistencyState;
  runConsistency(request: ConsistencyRequest): void;
}

export const IDLE_CONSISTENCY: ConsistencyState = {
  status: "idle",
  run: null,
  progress: null,
  model: null,
  error: null,
};

export function reduceConsistency(c: ConsistencyState, msg: FromWorker): ConsistencyState {
  if (isProgressOf(msg, "consistency")) {
    return { ...c, progress: { phase: msg.phase, done: msg.done, total: msg.total } };
  }
  if (msg.type === "consistency") {
    return { ...c, status: "ok", run: msg.run, progress: null, error: null };
  }
  if (msg.type === "error") {
    return {
      ...c,
      status: "error",
      progress: null,
      error: { code: msg.code, message: msg.message },
    };
  }
  return c;
}

export function createConsistencySlice(
  ctx: Context,
): StateCreator<CausewayState, [], [], ConsistencySlice> {
  return (set, get) => ({
    consistency: IDLE_CONSISTENCY,
    runConsistency(request) {
      const s = get();
      const error = requestBlocker(ctx.port, s.model);
      if (error || !ctx.port?.consistency) {
        set({ consistency: { ...IDLE_CONSISTENCY, status: "error", error: error ?? NO_WORKER } });
        return;
      }
      ctx.port.consistency(request);
      set({
        consistency: { ...IDLE_CONSISTENCY, status: "running", model: s.model.info?.name ?? null },
      });
    },
  });
}
