/** The store's own errors: one constructor, and the two every request can meet. */
import type { UiError } from "./types";

export const fail = (code: UiError["code"], message: string): UiError => ({ code, message });

export const NO_WORKER: UiError = fail("worker_failed", "The model worker is not running.");
export const NO_MODEL: UiError = fail("no_model", "The model is not loaded yet.");
