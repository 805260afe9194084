/** The store's own errors: one constructor, and the ones every request can meet. */
import type { CausewayState, UiError } from "./types";
import { isWorkerStopped } from "./worker-restart";

export const fail = (code: UiError["code"], message: string): UiError => ({ code, message });

export const NO_WORKER: UiError = fail("worker_failed", "The model worker is not running.");
const NO_MODEL: UiError = fail("no_model", "The model is not loaded yet.");
/** The worker died (components/WorkerStopped.tsx shows why, with the button this names). */
export const WORKER_STOPPED: UiError = fail(
  "worker_failed",
  "The model worker stopped: press “Restart the model worker” to load the model again.",
);

/**
 * Why nothing can run on the model now, or null when it is ready: every run button's and
 * request's reason, so that a stopped worker is never called a model still loading.
 */
export function modelBlocker(
  model: Pick<CausewayState["model"], "status" | "error">,
): UiError | null {
  if (isWorkerStopped(model)) return WORKER_STOPPED;
  return model.status === "ready" ? null : NO_MODEL;
}

/**
 * Why a request cannot be sent now: no worker (or it lacks the request's method: pass that
 * method as `worker`), else modelBlocker's reason; null when it can.
 */
export function requestBlocker(
  worker: unknown,
  model: Pick<CausewayState["model"], "status" | "error">,
): UiError | null {
  return worker ? modelBlocker(model) : NO_WORKER;
}
