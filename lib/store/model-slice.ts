/**
 * Model slice: which model is loaded, on which backend, and how far loading has got.
 *
 * A load clears the previous model's results from the screen, but keeps them aside: the worker
 * frees the previous model only once the new one's download is done (workers/load.ts), so any
 * load that fails before that — cancelled, 404, 500, a dropped or truncated transfer, a bad
 * file — leaves the previous model loaded with its edit stack (the error answer names it in
 * `kept`).
 * Then everything comes back: the model, its edits, predictions, traces, patching and dataset
 * results, measures; a sweep that was running when the load started is shown as stopped.
 */
import type { StateCreator } from "zustand/vanilla";
import { backendPreference } from "../model/backend-choice";
import type { ErrorCode, KeptModel } from "../protocol";
import { stopAbsc } from "./absc-slice";
import { initialCompare } from "./compare-slice";
import type { Context } from "./context";
import { initialDataset } from "./dataset-slice";
import { IDLE_CURVE, IDLE_EVAL, IDLE_PROBE } from "./edit-tools-slice";
import { restoreEditsAfterCancel, send } from "./edits-slice";
import { IDLE_GENERATE, initialGenerate } from "./generate-slice";
import { initialPatch } from "./patch-slice";
import { IDLE_RUN, isActive } from "./run";
import type { CausewayState, EditsBeforeLoad, ModelSlice, RunInfo } from "./types";

export type { EditsBeforeLoad } from "./types";

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

/** What a load puts aside when it starts from a ready model, to bring back if it fails. */
interface BeforeLoad {
  state: Pick<
    CausewayState,
    | "model"
    | "predict"
    | "trace"
    | "patch"
    | "dataset"
    | "compare"
    | "editEval"
    | "headProbe"
    | "alphaCurve"
    | "generate"
  >;
  edits: EditsBeforeLoad;
}

const beforeLoad = new WeakMap<Context, BeforeLoad | null>();

type Set = (fn: (s: CausewayState) => Partial<CausewayState>) => void;
type Get = () => CausewayState;

/** A sweep the load stopped (the worker stops it silently when a load starts). */
function stopped(run: RunInfo): RunInfo {
  return isActive(run) ? { ...run, status: "cancelled", note: "stopped by the model load" } : run;
}

/** The slices as they were before the load, with the settings changed since kept. */
function restored(s: CausewayState, b: BeforeLoad["state"]): Partial<CausewayState> {
  return {
    predict: {
      ...s.predict,
      result: b.predict.result,
      original: b.predict.original,
      resultPrompt: b.predict.resultPrompt,
      ms: b.predict.ms,
    },
    trace: { ...s.trace, result: b.trace.result, run: stopped(b.trace.run) },
    patch: { ...b.patch, settings: s.patch.settings, run: stopped(b.patch.run) },
    dataset: { ...b.dataset, settings: s.dataset.settings, run: stopped(b.dataset.run) },
    compare: { ...b.compare, run: stopped(b.compare.run) },
    // requests in flight at the load are forgotten by the client: their answers never come
    editEval:
      b.editEval.status === "running"
        ? { ...b.editEval, status: "cancelled", progress: null }
        : b.editEval,
    headProbe: b.headProbe.status === "running" ? IDLE_PROBE : b.headProbe,
    alphaCurve: b.alphaCurve.status === "running" ? IDLE_CURVE : b.alphaCurve,
    generate: {
      original: b.generate.original.status === "running" ? IDLE_GENERATE : b.generate.original,
      edited: b.generate.edited.status === "running" ? IDLE_GENERATE : b.generate.edited,
    },
  };
}

/**
 * The worker answered a load with an error. When it kept a model (a failure before the swap; an
 * old-style "cancelled" answer without `kept` means the model from before) that model comes
 * back: with its edits and results when it is the one that was ready when this load started,
 * else (a load it replaced was still starting) as the worker describes it, the stack sent again.
 * Otherwise the app has no model.
 */
export function loadFailed(
  ctx: Context,
  set: Set,
  get: Get,
  answer: { code: ErrorCode; message: string; kept?: KeptModel | null },
): void {
  const before = beforeLoad.get(ctx) ?? null;
  const error = { code: answer.code, message: answer.message };
  const kept = answer.kept;
  const sameModel =
    before !== null &&
    (kept === undefined
      ? answer.code === "cancelled"
      : kept !== null && kept.model.name === before.state.model.info?.name);
  if (sameModel) {
    beforeLoad.set(ctx, null);
    set((s) => ({
      model: { ...before.state.model, progress: null, error },
      ...restored(s, before.state),
    }));
    // The worker kept the previous model's stack too: agree with it again.
    restoreEditsAfterCancel(ctx, set, get, before.edits);
  } else if (kept) {
    // e.g. the model loading when this load started: the worker finished it and kept it
    set((s) => ({
      model: {
        ...initialModel,
        status: "ready",
        source: kept.source,
        backend: kept.backend,
        adapter: kept.adapter ?? null,
        info: kept.model,
        error,
      },
      predict: { ...s.predict, status: "idle" },
    }));
    ctx.edits = { reqId: 0, sent: [], applied: [] };
    if (get().edits.stack.length > 0) send(ctx, set, get, get().edits.stack);
  } else {
    set((s) => ({
      model: { ...s.model, status: "error", progress: null, error },
      predict: {
        ...s.predict,
        status: s.predict.status === "pending" ? "idle" : s.predict.status,
      },
    }));
    return;
  }
  if (get().predict.prompt.length > 0) get().runPrediction();
}

export function createModelSlice(ctx: Context): StateCreator<CausewayState, [], [], ModelSlice> {
  return (set, get) => ({
    model: initialModel,
    cancelLoad() {
      ctx.port?.cancelLoad?.();
    },
    loadModel(source) {
      ctx.loadStartedAt = ctx.now();
      const s0 = get();
      // A load replacing a load still in flight keeps what was there before both.
      if (s0.model.status !== "loading") {
        const { status, error } = s0.edits;
        beforeLoad.set(
          ctx,
          s0.model.status === "ready"
            ? {
                state: {
                  model: s0.model,
                  predict: s0.predict,
                  trace: s0.trace,
                  patch: s0.patch,
                  dataset: s0.dataset,
                  compare: s0.compare,
                  editEval: s0.editEval,
                  headProbe: s0.headProbe,
                  alphaCurve: s0.alphaCurve,
                  generate: s0.generate,
                },
                edits: { requests: ctx.edits, status, error },
              }
            : null,
        );
      }
      set((s) => ({
        model: {
          ...initialModel,
          status: "loading",
          source,
          progress: { phase: "start", done: 0, total: 1 },
        },
        // Predictions, traces and patching grids of the previous model no longer apply (the
        // worker stops a sweep on it by itself); a failed load brings them back.
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
        // not fit it are refused there, with the reason); a failed load brings back what the
        // worker still has applied (edits-slice restoreEditsAfterCancel).
        edits: { ...s.edits, status: "idle", progress: null, curve: [], error: null },
        editEval: IDLE_EVAL,
        headProbe: IDLE_PROBE,
        alphaCurve: IDLE_CURVE,
        compare: initialCompare(),
        generate: initialGenerate(),
        absc: stopAbsc(s.absc),
      }));
      ctx.run = null;
      ctx.edits = { reqId: 0, sent: [], applied: [] };
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
      ctx.port.load(source, backendPreference()); // ?backend= or the badge's override
    },
  });
}
