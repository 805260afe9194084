/**
 * Batch and sequential editing in the app (issue 14): the Batch form's run, its progress, the
 * sequential curve and the final scores, and the editing methods the worker has.
 *
 * The worker posts each batch's learned edits as soon as they are learned; they are kept here
 * and pushed onto the edit stack (one undoable change, so links and edit files carry them) when
 * the run ends, fails, is cancelled or is stopped by a model load: nothing learned is lost.
 * "The next N cases" of the model's dataset continue after the last case a run used.
 */
import type { StateCreator } from "zustand/vanilla";
import type { BatchProgressMsg, BatchRunResult, BatchRunSpec, CurvePoint } from "../batch-jobs";
import type { Edit } from "../edit/types";
import { type FromWorker, isProgressOf } from "../protocol";
import type { Context } from "./context";
import { fail, requestBlocker } from "./errors";
import type { CausewayState, UiError } from "./types";

export type BatchStatus = "idle" | "running" | "done" | "cancelled" | "error";

export interface BatchState {
  status: BatchStatus;
  /** The editing methods the worker has ("+blue" variants included); null until asked. */
  methods: string[] | null;
  /** The settings of the run on screen. */
  spec: BatchRunSpec | null;
  progress: Omit<BatchProgressMsg, "request" | "edits" | "point"> | null;
  /** Sequential mode: the scores after each batch, as they arrive. */
  curve: CurvePoint[];
  result: BatchRunResult | null;
  /** Edits learned by this run so far (pushed onto the stack when it ends). */
  learned: Edit[];
  /** Edits of this run pushed onto the stack. */
  pushed: number;
  /** Where each layer's C came from (browser storage, computed, memory). */
  stats: NonNullable<BatchProgressMsg["source"]>[];
  /** A storage problem that did not stop the run. */
  note: string | null;
  error: UiError | null;
  /** The first case of "the next N cases" of the model's dataset. */
  nextCase: number;
}

export interface BatchSlice {
  batch: BatchState;
  /** Starts a run (one at a time: ignored while one runs). */
  runBatch(spec: BatchRunSpec): void;
  /** Stops the run; the edits learned so far go onto the stack. */
  cancelBatch(): void;
  /** Asks the worker which editing methods it has (once per model). */
  loadBatchMethods(): void;
}

export function initialBatch(): BatchState {
  return {
    status: "idle",
    methods: null,
    spec: null,
    progress: null,
    curve: [],
    result: null,
    learned: [],
    pushed: 0,
    stats: [],
    note: null,
    error: null,
    nextCase: 0,
  };
}

type SetState = (fn: (s: CausewayState) => Partial<CausewayState>) => void;
type Get = () => CausewayState;

/** The run is over: its learned edits go onto the stack (once). */
function finish(set: SetState, get: Get, patch: Partial<BatchState>): void {
  const b = get().batch;
  const fresh = b.learned.slice(b.pushed);
  set((s) => ({ batch: { ...s.batch, ...patch, progress: null, pushed: b.learned.length } }));
  if (fresh.length > 0) get().setEditStack([...get().edits.stack, ...fresh]);
}

/** Folds a batchEdit / batchMethods answer into the slice. */
export function reduceBatch(set: SetState, get: Get, msg: FromWorker): void {
  if (msg.type === "batchMethods") {
    set((s) => ({ batch: { ...s.batch, methods: msg.methods } }));
    return;
  }
  if (get().batch.status !== "running") return;
  if (isProgressOf(msg, "batchEdit")) {
    const { request: _r, edits, point, ...p } = msg as BatchProgressMsg & { type: "progress" };
    set((s) => {
      const b = s.batch;
      return {
        batch: {
          ...b,
          progress: p,
          learned: edits ? [...b.learned, ...edits] : b.learned,
          curve: point ? [...b.curve, point] : b.curve,
          stats: p.phase === "stats" && p.source ? [...b.stats, p.source] : b.stats,
          note: p.note ?? b.note,
        },
      };
    });
    return;
  }
  if (msg.type === "batchEdit") {
    set((s) => ({ batch: { ...s.batch, result: msg.result, curve: msg.result.curve } }));
    finish(set, get, { status: "done", error: null });
    return;
  }
  if (msg.type === "error") {
    const kept = get().batch.learned.length;
    const message =
      kept > 0
        ? `${msg.message} (the ${kept} edits learned before it are on the stack)`
        : msg.message;
    finish(set, get, { status: "error", error: { code: msg.code, message } });
  }
}

export function createBatchSlice(ctx: Context): StateCreator<CausewayState, [], [], BatchSlice> {
  return (set, get, api) => {
    // a model load forgets the run (its answers never come): keep what it learned
    api.subscribe((s, prev) => {
      if (s.model.status === "loading" && prev.model.status !== "loading") {
        if (s.batch.status === "running") {
          finish(set, get, {
            status: "cancelled",
            error: fail("cancelled", "stopped by the model load"),
          });
        }
        set((x) => ({
          // the methods are the worker build's, not the model's: kept
          batch: {
            ...initialBatch(),
            methods: x.batch.methods,
            status: x.batch.status,
            error: x.batch.error,
          },
        }));
      }
    });
    return {
      batch: initialBatch(),
      runBatch(spec) {
        const s = get();
        const error = requestBlocker(ctx.port?.batchEdit, s.model);
        if (error || !ctx.port?.batchEdit) {
          set((x) => ({ batch: { ...x.batch, status: "error", error } }));
          return;
        }
        // one run at a time: a second would start from the stack without the first's edits
        if (s.batch.status === "running") return;
        const c = spec.cases;
        const nextCase = c.from === "model" ? c.start + c.count : s.batch.nextCase;
        set((x) => ({
          batch: {
            ...initialBatch(),
            methods: x.batch.methods,
            status: "running",
            spec,
            nextCase,
          },
        }));
        ctx.port.batchEdit(spec);
      },
      cancelBatch() {
        if (get().batch.status !== "running") return;
        ctx.port?.cancelBatch?.();
        finish(set, get, { status: "cancelled", error: null });
      },
      loadBatchMethods() {
        if (get().batch.methods !== null || get().model.status !== "ready") return;
        ctx.port?.batchMethods?.();
      },
    };
  };
}
