/**
 * Edit tools: measuring a ROME edit of the stack (CounterFact efficacy, paraphrase,
 * neighbourhood, general-text loss ratio), the head-probe grid that head steering ranks heads
 * by, and the α curve. Each asks the worker; the client (lib/worker-client.ts) passes on only
 * the latest request's answers, so the reducers here need no request ids.
 */
import type { StateCreator } from "zustand/vanilla";
import { type FromWorker, isProgressOf } from "../protocol";
import type { Context } from "./context";
import { requestBlocker } from "./errors";
import type {
  AlphaCurveState,
  CausewayState,
  EditEvalState,
  EditToolsSlice,
  HeadProbeState,
  UiError,
} from "./types";

export const IDLE_CURVE: AlphaCurveState = { status: "idle", points: null, error: null };

export function reduceCurve(c: AlphaCurveState, msg: FromWorker): AlphaCurveState {
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

export function reduceEditEval(ev: EditEvalState, msg: FromWorker): EditEvalState {
  if (ev.status !== "running") return ev;
  if (isProgressOf(msg, "evalEdit")) {
    return { ...ev, progress: { phase: msg.phase, done: msg.done, total: msg.total } };
  }
  switch (msg.type) {
    case "evalEdit":
      return { ...ev, status: "ok", progress: null, result: msg.result, error: null };
    case "done":
      return msg.cancelled ? { ...ev, status: "cancelled", progress: null } : ev;
    case "error":
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

export function reduceProbe(p: HeadProbeState, msg: FromWorker): HeadProbeState {
  if (msg.type === "probeHeads") {
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
      const error = requestBlocker(ctx.port, get().model);
      if (error || !ctx.port) {
        set({ alphaCurve: { ...IDLE_CURVE, status: "error", error } });
        return;
      }
      ctx.port.alphaCurve(edit, alphas, ev);
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
      const error = requestBlocker(ctx.port, s.model) ?? editError(s, index);
      if (error || !ctx.port) {
        set({ editEval: { ...IDLE_EVAL, status: "error", index, error } });
        return;
      }
      ctx.port.evalEdit(index);
      set({ editEval: { ...IDLE_EVAL, status: "running", index } });
    },
    cancelEval() {
      if (get().editEval.status !== "running" || !ctx.port) return;
      ctx.port.cancelEval();
      set((s) => ({ editEval: { ...s.editEval, status: "cancelled", progress: null } }));
    },
    probeHeads(positive, negative) {
      const s = get();
      const error = requestBlocker(ctx.port, s.model);
      if (error || !ctx.port) {
        set({ headProbe: { ...IDLE_PROBE, status: "error", error } });
        return;
      }
      ctx.port.probeHeads(positive, negative);
      set({ headProbe: { ...IDLE_PROBE, status: "running" } });
    },
  });
}

/** Why the edit at `index` cannot be measured now, or null. */
function editError(s: CausewayState, index: number): UiError | null {
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
