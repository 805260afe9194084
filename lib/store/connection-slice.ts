/** Connection slice: attaches the worker and routes its answers into the other slices. */
import type { StateCreator } from "zustand/vanilla";
import { reduceCompare } from "./compare-slice";
import type { Context } from "./context";
import { reduceDataset } from "./dataset-slice";
import { reduceCurve, reduceEditEval, reduceProbe } from "./edit-tools-slice";
import { reduceEdits, restoreEditsAfterCancel, send } from "./edits-slice";
import { cancelledModel, editsAtLoadStart } from "./model-slice";
import { reduceAttention, reducePatch } from "./patch-slice";
import { reduceTrace } from "./trace-slice";
import type { CausewayState, ConnectionSlice } from "./types";

export function createConnectionSlice(
  ctx: Context,
): StateCreator<CausewayState, [], [], ConnectionSlice> {
  return (set, get) => ({
    connect(port) {
      ctx.port = port;
      return () => {
        if (ctx.timer !== null) clearTimeout(ctx.timer);
        ctx.timer = null;
        if (ctx.port === port) ctx.port = null;
      };
    },
    receive(msg, kind) {
      if (kind === "run") {
        const owner = ctx.run?.reqId === msg.reqId ? ctx.run.owner : null;
        if (owner === "trace") set((s) => ({ trace: reduceTrace(s.trace, msg) }));
        else if (owner === "patch") set((s) => ({ patch: reducePatch(s.patch, msg) }));
        else if (owner === "dataset") set((s) => ({ dataset: reduceDataset(s.dataset, msg) }));
        else if (owner === "compare") set((s) => ({ compare: reduceCompare(s.compare, msg) }));
        if ((msg.type === "done" || msg.type === "error") && ctx.run?.reqId === msg.reqId) {
          ctx.run = null;
        }
        return;
      }
      if (kind === "attention") {
        set((s) => ({ patch: reduceAttention(s.patch, msg) }));
        return;
      }
      if (kind === "tokenize") return;
      if (kind === "edits") {
        reduceEdits(ctx, set, get, msg);
        return;
      }
      if (kind === "evalEdit") {
        set((s) => ({ editEval: reduceEditEval(ctx, s.editEval, msg) }));
        return;
      }
      if (kind === "probe") {
        set((s) => ({ headProbe: reduceProbe(ctx, s.headProbe, msg) }));
        return;
      }
      if (kind === "curve") {
        set((s) => ({ alphaCurve: reduceCurve(ctx, s.alphaCurve, msg) }));
        return;
      }
      if (kind === "load") {
        switch (msg.type) {
          case "progress":
            set((s) => ({
              model: {
                ...s.model,
                progress: {
                  phase: msg.phase,
                  done: msg.done,
                  total: msg.total,
                  bytes: msg.bytes,
                  bytesTotal: msg.bytesTotal,
                  bytesPerSec: msg.bytesPerSec,
                  etaMs: msg.etaMs,
                  note: msg.note,
                },
              },
            }));
            return;
          case "ready":
            set((s) => ({
              model: {
                ...s.model,
                status: "ready",
                progress: null,
                backend: msg.backend,
                adapter: msg.adapter ?? null,
                info: msg.model,
                error: null,
                loadMs: ctx.now() - ctx.loadStartedAt,
              },
            }));
            // A new model starts with an empty stack in the worker: send ours again.
            ctx.edits = { reqId: 0, sent: [], applied: [] };
            if (get().edits.stack.length > 0) send(ctx, set, get, get().edits.stack);
            if (get().predict.prompt.length > 0) get().runPrediction();
            return;
          case "error":
            if (msg.code === "cancelled") {
              set((s) => ({ model: cancelledModel(ctx, s.model, msg.message) }));
              // The worker kept the previous model's stack too: agree with it again.
              restoreEditsAfterCancel(ctx, set, get, editsAtLoadStart(ctx));
              if (get().model.status === "ready" && get().predict.prompt.length > 0) {
                get().runPrediction();
              }
              return;
            }
            set((s) => ({
              model: {
                ...s.model,
                status: "error",
                progress: null,
                error: { code: msg.code, message: msg.message },
              },
              predict: {
                ...s.predict,
                status: s.predict.status === "pending" ? "idle" : s.predict.status,
              },
            }));
            return;
          default:
            return;
        }
      }
      switch (msg.type) {
        case "prediction":
          set((s) => ({
            predict: {
              ...s.predict,
              status: "ok",
              result: msg.prediction,
              original: msg.original ?? null,
              resultPrompt: ctx.pendingPrompt,
              error: null,
              ms: msg.ms,
            },
          }));
          get().syncSubject();
          return;
        case "done":
          set((s) => ({ predict: { ...s.predict, tensorsLeft: msg.tensorsLeft } }));
          return;
        case "error":
          set((s) => ({
            predict: {
              ...s.predict,
              status: "error",
              error: { code: msg.code, message: msg.message },
            },
          }));
          return;
        default:
          return;
      }
    },
  });
}
