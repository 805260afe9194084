/** Model slice: which model is loaded, on which backend, and how far loading has got. */
import type { StateCreator } from "zustand/vanilla";
import { initialCompare } from "./compare-slice";
import type { Context } from "./context";
import { initialDataset } from "./dataset-slice";
import { IDLE_CURVE, IDLE_EVAL, IDLE_PROBE } from "./edit-tools-slice";
import { initialPatch } from "./patch-slice";
import { IDLE_RUN } from "./run";
import type { CausewayState, EditsSlice, ModelSlice } from "./types";

export const initialModel: ModelSlice["model"] = {
  status: "idle",
  source: null,
  progress: null,
  backend: null,
  adapter: null,
  info: null,
  error: null,
  loadMs: null,
};

/** The model that was ready when a load started: a cancelled download brings it back. */
const beforeLoad = new WeakMap<Context, ModelSlice["model"] | null>();

/**
 * The edit requests and the stack's status when a load started from a ready model. The worker
 * frees its stack only once the new model's download is done (workers/model.worker.ts swap), so
 * a cancelled download leaves the previous model with its stack applied: edits-slice
 * restoreEditsAfterCancel brings this back and sends the stack again where they may differ.
 */
export interface EditsBeforeLoad {
  requests: Context["edits"];
  status: EditsSlice["edits"]["status"];
  error: EditsSlice["edits"]["error"];
}
const editsBeforeLoad = new WeakMap<Context, EditsBeforeLoad | null>();

export const editsAtLoadStart = (ctx: Context): EditsBeforeLoad | null =>
  editsBeforeLoad.get(ctx) ?? null;

/** The model state after the worker reports a cancelled load (it keeps the previous model). */
export function cancelledModel(
  ctx: Context,
  current: ModelSlice["model"],
  message: string,
): ModelSlice["model"] {
  const prev = beforeLoad.get(ctx);
  const error = { code: "cancelled", message };
  return prev
    ? { ...prev, progress: null, error }
    : { ...current, status: "error", progress: null, error };
}

export function createModelSlice(ctx: Context): StateCreator<CausewayState, [], [], ModelSlice> {
  return (set, get) => ({
    model: initialModel,
    cancelLoad() {
      ctx.port?.cancelLoad?.();
    },
    loadModel(source) {
      ctx.loadStartedAt = ctx.now();
      const now = get().model;
      // A load replacing a load still in flight keeps the model from before both.
      if (now.status !== "loading") {
        const wasReady = now.status === "ready";
        beforeLoad.set(ctx, wasReady ? now : null);
        const { status, error } = get().edits;
        editsBeforeLoad.set(ctx, wasReady ? { requests: ctx.edits, status, error } : null);
      }
      set((s) => ({
        model: {
          ...initialModel,
          status: "loading",
          source,
          progress: { phase: "start", done: 0, total: 1 },
        },
        // Predictions, traces and patching grids of the previous model no longer apply (the
        // worker stops a sweep on it by itself).
        predict: {
          ...s.predict,
          result: null,
          original: null,
          resultPrompt: null,
          error: null,
          ms: null,
        },
        trace: { ...s.trace, run: IDLE_RUN, result: null, formError: null },
        patch: { ...initialPatch(s.patch.settings) },
        dataset: { ...initialDataset(), settings: s.dataset.settings },
        // The stack is kept and sent to the new model once it is ready (learned values that do
        // not fit it are refused there, with the reason); a cancelled load brings back what the
        // worker still has applied (edits-slice restoreEditsAfterCancel).
        edits: { ...s.edits, status: "idle", progress: null, curve: [], error: null },
        editEval: IDLE_EVAL,
        headProbe: IDLE_PROBE,
        alphaCurve: IDLE_CURVE,
        compare: initialCompare(),
      }));
      ctx.run = null;
      ctx.edits = { reqId: 0, sent: [], applied: [] };
      ctx.evalReqId = 0;
      ctx.probeReqId = 0;
      ctx.curveReqId = 0;
      if (!ctx.port) {
        set((s) => ({
          model: {
            ...s.model,
            status: "error",
            error: { code: "worker_failed", message: "The model worker is not running" },
          },
        }));
        return;
      }
      ctx.port.load(source);
    },
  });
}
