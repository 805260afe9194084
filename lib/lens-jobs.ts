/**
 * The read-out requests of the lens views (issue 13; lib/protocol.ts re-exports them): `lens`
 * (logit lens), `dla` (direct logit attribution) and `attrib` (attribution patching beside exact
 * patching). Each is its own latest-wins lane in the worker (workers/lens-job.ts); they run one
 * at a time, never beside a sweep, and end with `done` {ms, tensorsLeft, cancelled?}.
 *
 *   lens    → progress, lens {result}, done
 *   dla     → progress, dla {result}, done
 *   attrib  → progress, attrib {part: "estimate"}, then per exact site: progress …,
 *             attrib {part: "exact", comparison}, then done {evaluations}
 */
import type { AttributionComparison, AttributionResult } from "./interp/attribution";
import type { DlaResult } from "./interp/dla";
import type { LensResult } from "./interp/logit-lens";
import type { PatchSite } from "./interp/spec";

export type ReadoutType = "lens" | "dla" | "attrib";
export const READOUT_TYPES: readonly ReadoutType[] = ["lens", "dla", "attrib"];

/** Logit lens of a prompt. A blank target is the model's top-1 at the last position. */
export interface LensJob {
  prompt: string;
  target?: string;
  /** Tokens listed per cell (1 … MAX_LENS_TOP_K). */
  topK?: number;
}

/**
 * Direct logit attribution at one position (default the last). A blank target is the model's
 * top-1 there, a blank foil its top-2 (the CLI asks for both).
 */
export interface DlaJob {
  prompt: string;
  target?: string;
  foil?: string;
  position?: number;
}

/**
 * Attribution patching of a clean / corrupted pair, then exact patching (the reference) of each
 * site in `exact`. Blank target and foil default as a patch job's do (lib/sweep-jobs.ts PatchJob).
 */
export interface AttribJob {
  clean: string;
  corrupt: string;
  target?: string;
  foil?: string;
  exact: PatchSite[];
}

/** queued: waiting for a sweep or another read-out to finish; exact: patching `site`. */
export type ReadoutPhase = "queued" | "forward" | "estimate" | "exact";

export interface ReadoutProgress {
  request: ReadoutType;
  phase: ReadoutPhase;
  /** The exact patching site being run, and its place among the job's exact sites. */
  site?: PatchSite;
  siteIndex?: number;
  sites?: number;
  done: number;
  total: number;
  etaMs?: number;
}

export type ReadoutRequest =
  | { type: "lens"; reqId: number; job: LensJob; variant?: "original" | "edited" }
  | { type: "dla"; reqId: number; job: DlaJob; variant?: "original" | "edited" }
  | { type: "attrib"; reqId: number; job: AttribJob; variant?: "original" | "edited" };

export type ReadoutAnswer =
  | { type: "lens"; reqId: number; result: LensResult }
  | { type: "dla"; reqId: number; result: DlaResult }
  | { type: "attrib"; reqId: number; part: "estimate"; result: AttributionResult }
  | { type: "attrib"; reqId: number; part: "exact"; comparison: AttributionComparison };

/** A read-out request before the client gives it its reqId. */
export type ReadoutBody = ReadoutRequest extends infer R
  ? R extends ReadoutRequest
    ? Omit<R, "reqId">
    : never
  : never;
