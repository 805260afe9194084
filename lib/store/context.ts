/** State shared by the slices that does not belong in the store itself (the port, timers). */
import type { ModelPort } from "../worker-client";

export type RunOwner = "trace" | "patch" | "dataset";

export interface Context {
  port: ModelPort | null;
  debounceMs: number;
  timer: ReturnType<typeof setTimeout> | null;
  loadStartedAt: number;
  /** The prompt of the prediction request in flight (its answer is shown against it). */
  pendingPrompt: string | null;
  /** The sweep in flight and the slice it belongs to (the worker runs one at a time). */
  run: { reqId: number; owner: RunOwner } | null;
  now(): number;
}

export function createContext(debounceMs: number): Context {
  return {
    port: null,
    debounceMs,
    timer: null,
    loadStartedAt: 0,
    pendingPrompt: null,
    run: null,
    now: () => (typeof performance !== "undefined" ? performance.now() : Date.now()),
  };
}
