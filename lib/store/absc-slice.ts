/**
 * The ABSC recipe in the app: one worker request (lib/protocol.ts "absc"), whose rows arrive
 * one method at a time and are kept with the name of the model they ran on (a later model's
 * form never shows an earlier model's numbers). Cancelling or a failure keeps the rows that
 * arrived. `locateAbsc` asks for the in-domain reviews as known facts and starts the Dataset
 * panel's trace over them (the locate study of `causeway absc --locate`).
 */
import type { StateCreator } from "zustand/vanilla";
import type { AbscProgress, AbscRow, AbscTrainRequest } from "../edit/absc-request";
import { type FromWorker, isProgressOf } from "../protocol";
import type { ModelPort } from "../worker-client";
import type { UiError } from "./common-types";
import type { Context } from "./context";
import { NO_WORKER, requestBlocker } from "./errors";
import type { CausewayState } from "./types";

type Err = UiError | null;

export interface AbscState {
  /** The methods' training (its rows stay through a cancel or a failure). */
  status: "idle" | "running" | "ok" | "cancelled" | "error";
  /** Asking the worker for the review facts to trace (then the Dataset panel runs). */
  locate: { status: "idle" | "running" | "ok" | "error"; error: Err };
  /** The settings of the rows' run. */
  request: AbscTrainRequest | null;
  rows: AbscRow[];
  progress: AbscProgress | null;
  /** The model the rows belong to. */
  model: string | null;
  error: Err;
}

export interface AbscSlice {
  absc: AbscState;
  runAbsc(request: AbscTrainRequest): void;
  cancelAbsc(): void;
  /** Traces the model's in-domain ABSC reviews in the Dataset panel. */
  locateAbsc(): void;
}

export const IDLE_ABSC: AbscState = {
  status: "idle",
  locate: { status: "idle", error: null },
  request: null,
  rows: [],
  progress: null,
  model: null,
  error: null,
};

export function reduceAbsc(a: AbscState, msg: FromWorker): AbscState {
  if (a.locate.status === "running") {
    if (msg.type === "done") return { ...a, locate: { status: "ok", error: null } };
    if (msg.type === "error") {
      return { ...a, locate: { status: "error", error: { code: msg.code, message: msg.message } } };
    }
    return a;
  }
  if (a.status !== "running") return a; // a cancelled run's late answers change nothing
  if (isProgressOf(msg, "absc")) {
    const { type: _t, reqId: _r, request: _q, ...p } = msg as typeof msg & { request?: string };
    return { ...a, progress: p };
  }
  if (msg.type === "absc") return { ...a, rows: [...a.rows, msg.row] };
  if (msg.type === "done") return { ...a, status: "ok", progress: null };
  if (msg.type === "error") {
    return {
      ...a,
      status: "error",
      progress: null,
      error: { code: msg.code, message: msg.message },
    };
  }
  return a;
}

/**
 * A new model is loading: the client forgets the request in flight (its answers never come), so
 * a running training counts as cancelled (its rows stay, shown only with their model).
 */
export function stopAbsc(a: AbscState): AbscState {
  return {
    ...a,
    status: a.status === "running" ? "cancelled" : a.status,
    progress: null,
    locate: a.locate.status === "running" ? { status: "idle", error: null } : a.locate,
  };
}

type Set = (fn: (s: CausewayState) => Partial<CausewayState>) => void;
type Get = () => CausewayState;

/** The absc lane's answers: rows into the slice; review facts into the Dataset panel's trace. */
export function receiveAbsc(set: Set, get: Get, msg: FromWorker): void {
  if (msg.type === "abscFacts") {
    set((s) => ({
      dataset: {
        ...s.dataset,
        settings: {
          ...s.dataset.settings,
          facts: msg.facts,
          factsName: `ABSC reviews (${msg.domain} test)`,
          answerAmong: msg.labels, // traced when right among the labels, as causeway absc --locate
        },
      },
    }));
    get().runDataset();
    return;
  }
  set((s) => ({ absc: reduceAbsc(s.absc, msg) }));
}

export function createAbscSlice(ctx: Context): StateCreator<CausewayState, [], [], AbscSlice> {
  /** The port when a model is ready, else the error in words. */
  const ready = (get: Get): { port: ModelPort } | { error: UiError } => {
    const s = get();
    const error = requestBlocker(ctx.port, s.model);
    if (ctx.port?.absc && !error) return { port: ctx.port };
    return { error: error ?? NO_WORKER };
  };
  return (set, get) => ({
    absc: IDLE_ABSC,
    runAbsc(request) {
      const r = ready(get);
      if ("error" in r) {
        set((s) => ({ absc: { ...s.absc, status: "error", error: r.error } }));
        return;
      }
      r.port.absc?.(request);
      set({
        absc: {
          ...IDLE_ABSC,
          status: "running",
          request,
          model: get().model.info?.name ?? null,
        },
      });
    },
    cancelAbsc() {
      if (get().absc.status !== "running") return;
      ctx.port?.cancelAbsc?.();
      set((s) => ({ absc: { ...s.absc, status: "cancelled", progress: null } }));
    },
    locateAbsc() {
      const r = ready(get);
      if ("error" in r) {
        set((s) => ({ absc: { ...s.absc, locate: { status: "error", error: r.error } } }));
        return;
      }
      // the same lane: a training still running would be stopped (the form offers neither then)
      if (get().absc.status === "running") return;
      r.port.absc?.({ mode: "facts" });
      set((s) => ({ absc: { ...s.absc, locate: { status: "running", error: null } } }));
    },
  });
}
