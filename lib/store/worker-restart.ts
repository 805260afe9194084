/**
 * After the model worker stopped (lib/worker-client.ts: every waiting request failed with
 * "worker_failed"), a fresh worker loads the same model source again: WASM without threads
 * unless the user forced a backend (`?backend=` or the badge), and on its `load` answer the
 * edit stack is sent as it is (connection-slice loadReady): learned edits are only re-applied,
 * never learned again. Unlike loadModel, nothing on screen is cleared: traces, tables and
 * measures of the same model stay valid.
 */
import { backendPreference } from "../model/backend-choice";
import type { BackendName } from "../protocol";
import type { UiError } from "./common-types";
import type { Context } from "./context";
import type { CausewayState } from "./types";

type Set = (fn: (s: CausewayState) => Partial<CausewayState>) => void;
type Get = () => CausewayState;

type ModelStatus = Pick<CausewayState["model"], "status" | "error">;

/** The model worker stopped (its death reached the load lane) and waits for a restart. */
export function isWorkerStopped<M extends ModelStatus>(model: M): model is M & { error: UiError } {
  return model.status === "error" && model.error?.code === "worker_failed";
}

/** Backends for a restarted worker: the user's choice, else WASM (which has no threads there). */
export function restartBackends(): BackendName[] {
  return backendPreference() ?? ["wasm"];
}

export function restartWorker(ctx: Context, set: Set, get: Get): void {
  const port = ctx.port;
  const source = get().model.source;
  if (!source) return;
  if (!port?.restart) {
    const message = "The model worker cannot be restarted here: reload the page.";
    set((s) => ({ model: { ...s.model, error: { code: "worker_failed", message } } }));
    return;
  }
  try {
    port.restart();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    set((s) => ({
      model: { ...s.model, status: "error", error: { code: "worker_failed", message } },
    }));
    return;
  }
  // nothing is in flight in a fresh worker; it has no stack until the model is ready
  ctx.run = null;
  ctx.edits = { reqId: 0, sent: [], applied: [] };
  ctx.loadStartedAt = ctx.now();
  set((s) => ({
    model: {
      ...s.model,
      status: "loading",
      error: null,
      progress: { phase: "start", done: 0, total: 1 },
    },
  }));
  port.load(source, restartBackends());
}
