/** State shared by the slices that does not belong in the store itself (the port, timers). */
import type { Edit } from "../edit/types";
import { now } from "../util/clock";
import type { ModelPort } from "../worker-client";

export type RunOwner = "trace" | "patch" | "dataset" | "compare" | "positions" | "path";

export interface Context {
  port: ModelPort | null;
  debounceMs: number;
  timer: ReturnType<typeof setTimeout> | null;
  loadStartedAt: number;
  /** The prompt of the prediction request in flight (its answer is shown against it). */
  pendingPrompt: string | null;
  /** The sweep in flight and the slice it belongs to (the worker runs one at a time). */
  run: { reqId: number; owner: RunOwner } | null;
  /**
   * The edit stack: `sent` went with setEdits request `reqId` (0: none in flight), `applied` is
   * the last stack the worker confirmed (what "edited" requests run on).
   */
  edits: { reqId: number; sent: Edit[]; applied: Edit[] };
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
    edits: { reqId: 0, sent: [], applied: [] },
    now,
  };
}
