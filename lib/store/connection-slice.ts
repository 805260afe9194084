/**
 * Connection slice: attaches the worker and routes its answers into the other slices, by the
 * lane (request type) they answer. The client (lib/worker-client.ts) has already dropped stale
 * answers, so nothing here compares request ids except to tell which slice owns a sweep.
 */
import type { StateCreator } from "zustand/vanilla";
import { type AnswerOf, type FromWorker, isProgressOf } from "../protocol";
import type { LaneKey } from "../worker-client";
import { receiveAbsc } from "./absc-slice";
import { reduceBatch } from "./batch-slice";
import { reduceCompare } from "./compare-slice";
import { reduceConsistency } from "./consistency-slice";
import type { Context } from "./context";
import { reduceDataset } from "./dataset-slice";
import { reduceCurve, reduceEditEval, reduceProbe } from "./edit-tools-slice";
import { reduceEdits, send } from "./edits-slice";
import { reduceGenerate } from "./generate-slice";
import { reduceHeads } from "./heads-slice";
import { reduceReadout } from "./lens-slice";
import { loadFailed } from "./model-slice";
import { reduceAttention, reducePatch } from "./patch-slice";
import { reducePath } from "./path-slice";
import { reducePositions } from "./positions-slice";
import { reduceTrace } from "./trace-slice";
import type { CausewayState, ConnectionSlice } from "./types";
import { restartWorker } from "./worker-restart";

type Set = (fn: (s: CausewayState) => Partial<CausewayState>) => void;
type Get = () => CausewayState;

/** A sweep's answer goes to the slice that started it (one sweep at a time in the worker). */
function receiveRun(ctx: Context, set: Set, msg: FromWorker): void {
  const owner = ctx.run?.reqId === msg.reqId ? ctx.run.owner : null;
  if (owner === "trace") set((s) => ({ trace: reduceTrace(s.trace, msg) }));
  else if (owner === "patch") set((s) => ({ patch: reducePatch(s.patch, msg) }));
  else if (owner === "dataset") set((s) => ({ dataset: reduceDataset(s.dataset, msg) }));
  else if (owner === "compare") set((s) => ({ compare: reduceCompare(s.compare, msg) }));
  else if (owner === "positions") set((s) => ({ positions: reducePositions(s.positions, msg) }));
  else if (owner === "path") set((s) => ({ path: reducePath(s.path, msg) }));
  if ((msg.type === "done" || msg.type === "error") && ctx.run?.reqId === msg.reqId) {
    ctx.run = null;
  }
}

function loadReady(ctx: Context, set: Set, get: Get, msg: AnswerOf<"load">): void {
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
}

function receiveLoad(ctx: Context, set: Set, get: Get, msg: FromWorker): void {
  if (isProgressOf(msg, "load")) {
    const { phase, done, total, bytes, bytesTotal, bytesPerSec, etaMs, note } = msg;
    set((s) => ({
      model: {
        ...s.model,
        progress: { phase, done, total, bytes, bytesTotal, bytesPerSec, etaMs, note },
      },
    }));
  } else if (msg.type === "load") {
    loadReady(ctx, set, get, msg);
  } else if (msg.type === "error") {
    loadFailed(ctx, set, get, msg);
  }
}

function receivePredict(ctx: Context, set: Set, get: Get, msg: FromWorker): void {
  switch (msg.type) {
    case "predict":
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
        predict: { ...s.predict, status: "error", error: { code: msg.code, message: msg.message } },
      }));
      return;
    default:
      return;
  }
}

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
    restartWorker() {
      restartWorker(ctx, set, get);
    },
    receive(msg: FromWorker, lane: LaneKey) {
      switch (lane) {
        case "load":
          return receiveLoad(ctx, set, get, msg);
        case "predict":
          return receivePredict(ctx, set, get, msg);
        case "run":
          return receiveRun(ctx, set, msg);
        case "attention":
          return set((s) => ({ patch: reduceAttention(s.patch, msg) }));
        case "lens":
        case "dla":
        case "attrib":
          return set((s) => ({ readouts: reduceReadout(s.readouts, lane, msg) }));
        case "tokenize":
          return;
        case "heads":
          return set((s) => ({ heads: reduceHeads(s.heads, msg) }));
        case "setEdits":
          return reduceEdits(ctx, set, get, msg);
        case "evalEdit":
          return set((s) => ({ editEval: reduceEditEval(s.editEval, msg) }));
        case "probeHeads":
          return set((s) => ({ headProbe: reduceProbe(s.headProbe, msg) }));
        case "alphaCurve":
          return set((s) => ({ alphaCurve: reduceCurve(s.alphaCurve, msg) }));
        case "consistency":
          return set((s) => ({ consistency: reduceConsistency(s.consistency, msg) }));
        case "absc":
          return receiveAbsc(set, get, msg);
        case "batchEdit":
        case "batchMethods":
          return reduceBatch(set, get, msg);
        case "generate:original":
        case "generate:edited": {
          const v = lane === "generate:original" ? "original" : "edited";
          return set((s) => ({
            generate: { ...s.generate, [v]: reduceGenerate(s.generate[v], msg) },
          }));
        }
      }
    },
  });
}
