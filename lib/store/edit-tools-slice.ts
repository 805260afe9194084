/**
 * Edit tools: measuring a ROME edit of the stack (CounterFact efficacy, paraphrase,
 * neighbourhood, general-text loss ratio) and the head-probe grid that head steering ranks
 * heads by. Both ask the worker and keep the latest answer.
 */
import type { StateCreator } from "zustand/vanilla";
import type { FromWorker } from "../protocol";
import type { Context } from "./context";
import type {
  AlphaCurveState,
  CausewayState,
  EditEvalState,
  EditToolsSlice,
  HeadProbeState,
} from "./types";

export const IDLE_CURVE: AlphaCurveState = { status: "idle", points: null, error: null };

export function reduceCurve(ctx: Context, c: AlphaCurveState, msg: FromWorker): AlphaCurveState {
  if (msg.reqId !== ctx.curveReqId) return c;
  if (msg.type === "alphaCurve") return { status: "ok", points: msg.points, error: null };
  if (msg.type === "error") {
    return { ...c, status: "error", error: { code: msg.code, message: msg.message } };
  }
  return c;
}

export const IDLE_EVAL: EditEvalState = {
  status: "idle",
  index: null,
  progress: null,
  result: null,
  error: null,
};

export const IDLE_PROBE: HeadProbeState = {
  status: "idle",
  accuracy: null,
  nPositive: 0,
  nNegative: 0,
  error: null,
};

const noWorker = { code: "worker_failed", message: "The model worker is not running." };
const noModel = { code: "no_model", message: "The model is not loaded yet." };

export function reduceEditEval(ctx: Context, ev: EditEvalState, msg: FromWorker): EditEvalState {
  if (msg.reqId !== ctx.evalReqId || ev.status !== "running") return ev;
  switch (msg.type) {
    case "progress":
      return { ...ev, progress: { phase: msg.phase, done: msg.done, total: msg.total } };
    case "editEval":
      ctx.evalReqId = 0;
      return { ...ev, status: "ok", progress: null, result: msg.result, error: null };
    case "done":
      ctx.evalReqId = 0;
      return msg.cancelled ? { ...ev, status: "cancelled", progress: null } : ev;
    case "error":
      ctx.evalReqId = 0;
      return {
        ...ev,
        status: "error",
        progress: null,
        error: { code: msg.code, message: msg.message },
      };
    default:
      return ev;
  }
}

export function reduceProbe(ctx: Context, p: HeadProbeState, msg: FromWorker): HeadProbeState {
  if (msg.reqId !== ctx.probeReqId) return p;
  if (msg.type === "probe") {
    return {
      status: "ok",
      accuracy: msg.accuracy,
      nPositive: msg.nPositive,
      nNegative: msg.nNegative,
      error: null,
    };
  }
  if (msg.type === "error") {
    return { ...p, status: "error", error: { code: msg.code, message: msg.message } };
  }
  return p;
}

export function createEditToolsSlice(
  ctx: Context,
): StateCreator<CausewayState, [], [], EditToolsSlice> {
  return (set, get) => ({
    editEval: IDLE_EVAL,
    headProbe: IDLE_PROBE,
    editForm: null,
    alphaCurve: IDLE_CURVE,
    runAlphaCurve(edit, alphas, ev) {
      if (!ctx.port || get().model.status !== "ready") {
        const error = ctx.port ? noModel : noWorker;
        set({ alphaCurve: { ...IDLE_CURVE, status: "error", error } });
        return;
      }
      ctx.curveReqId = ctx.port.alphaCurve(edit, alphas, ev);
      set({ alphaCurve: { ...IDLE_CURVE, status: "running" } });
    },
    openEditForm(form) {
      set({ editForm: form });
    },
    closeEditForm() {
      set({ editForm: null });
    },
    evalEdit(index) {
      const s = get();
      const error = !ctx.port
        ? noWorker
        : s.model.status !== "ready"
          ? noModel
          : editError(s, index);
      if (error || !ctx.port) {
        set({ editEval: { ...IDLE_EVAL, status: "error", index, error } });
        return;
      }
      ctx.evalReqId = ctx.port.evalEdit(index);
      set({ editEval: { ...IDLE_EVAL, status: "running", index } });
    },
    cancelEval() {
      if (ctx.evalReqId === 0 || !ctx.port) return;
      ctx.port.cancelEval();
      ctx.evalReqId = 0;
      set((s) => ({ editEval: { ...s.editEval, status: "cancelled", progress: null } }));
    },
    probeHeads(positive, negative) {
      const s = get();
      if (!ctx.port || s.model.status !== "ready") {
        set({
          headProbe: { ...IDLE_PROBE, status: "error", error: ctx.port ? noModel : noWorker },
        });
        return;
      }
      ctx.probeReqId = ctx.port.probeHeads(positive, negative);
      set({ headProbe: { ...IDLE_PROBE, status: "running" } });
    },
  });
}

/** Why the edit at `index` cannot be measured now, or null. */
function editError(s: CausewayState, index: number): { code: string; message: string } | null {
  const e = s.edits.stack[index];
  if (!e) return { code: "bad_request", message: `There is no edit ${index + 1} in the stack.` };
  if (e.kind !== "rome") {
    return { code: "bad_request", message: "Only ROME edits have CounterFact measures." };
  }
  if (s.edits.status === "learning") {
    return { code: "busy", message: "Wait until the stack has been learned." };
  }
  return null;
}
