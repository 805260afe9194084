/**
 * Causeway's sweeps: causal tracing (runTrace), activation patching (runPatch) and dataset
 * averages (runTraceDataset), each with a naive reference strategy and a fast one that gives the
 * same numbers. Specs are plain data (spec.ts); work is counted in evaluations (sweep.ts).
 */
export type { CancelSignal } from "./cancel";
export { CancelledError } from "./cancel";
export type {
  DatasetOptions,
  DatasetResult,
  GroupCurve,
  KindCurves,
  KnownFact,
  TokenGroup,
} from "./dataset";
export { parseKnownFacts, runTraceDataset, TOKEN_GROUPS } from "./dataset";
export { embeddingStd } from "./embedding-std";
export type { PatchOptions, PatchResult } from "./patch";
export { patchCells, runPatch } from "./patch";
export { GaussianRng, gaussianArray } from "./rng";
export * from "./spec";
export type { GridRow, Progress } from "./sweep";
export type { TraceHost } from "./tokens";
export { findSubjectRange } from "./tokens";
export type {
  PreparedTrace,
  TraceAnswer,
  TraceBaseline,
  TraceOptions,
  TraceResult,
  TraceRow,
} from "./trace";
export { prepareTrace, runPreparedTrace, runTrace, traceCells } from "./trace";
