/**
 * The sweep jobs a `run` request carries (trace, patch, dataset) and the baselines, row grids
 * and costs they answer with (lib/protocol.ts re-exports them; workers/sweeps.ts runs them).
 */
import type { DatasetOptions, KnownFact } from "./interp/dataset";
import type { HeadRef, PathPatchSpec, ReceiverInput } from "./interp/path-patch";
import type {
  PatchMetric,
  PatchSite,
  PatchSpec,
  Strategy,
  TraceKind,
  TraceSpec,
} from "./interp/spec";
import type { TraceBaseline } from "./interp/trace";

/** A causal trace of one prompt, of one kind or several (run one after another). */
export interface TraceJob {
  type: "trace";
  /** Everything but the kind (lib/interp/spec.ts TraceSpec). */
  spec: Omit<TraceSpec, "kind">;
  kinds: TraceKind[];
}

/**
 * Activation patching (lib/interp/spec.ts PatchSpec). An empty or absent target defaults to the
 * clean prompt's top-1 token, an empty or absent foil to the corrupted prompt's top-1 (its second
 * choice when that is the target).
 */
export interface PatchJob {
  type: "patch";
  spec: Omit<PatchSpec, "target" | "foil"> & { target?: string | number; foil?: string | number };
}

/** Causal traces averaged over known facts (lib/interp/dataset.ts); the bundled ones by default. */
export interface DatasetJob extends Omit<DatasetOptions, "signal" | "onFact"> {
  type: "dataset";
  facts?: KnownFact[];
}

/** Path patching from a sender head (lib/interp/path-patch.ts); target and foil default as PatchJob's. */
export interface PathJob {
  type: "path";
  spec: Omit<PathPatchSpec, "target" | "foil"> & {
    target?: string | number;
    foil?: string | number;
  };
}

export type RunJob = TraceJob | PatchJob | DatasetJob | PathJob;

/** What a run's baseline, rows and progress are of: a trace kind, a patch site, or the dataset. */
export type SweepKind = TraceKind | PatchSite | "dataset" | "path";

/** What a trace kind starts from: the engine's baseline (clean and corrupted runs, before any cell). */
export interface TraceBaselineInfo extends TraceBaseline {
  job: "trace";
  samples: number;
  corruption: "noise" | "prompt";
  corruptTokens?: string[];
}

/** What the clean / corrupted pair of a patch or path run is: the pair, its answer, its runs. */
export interface ContrastBaseline {
  cleanIds: number[];
  corruptIds: number[];
  cleanTokens: string[];
  corruptTokens: string[];
  target: { id: number; token: string };
  foil: { id: number; token: string };
  cleanLogitDiff: number;
  corruptLogitDiff: number;
  nLayer: number;
  nHead: number;
}

export interface PatchBaselineInfo extends ContrastBaseline {
  job: "patch";
  site: PatchSite;
  metric: PatchMetric;
  /** How the sweep ran (naive or fast: the same numbers, lib/interp/sweep.ts). */
  strategy: Strategy;
  cleanProb: number;
  corruptProb: number;
}

/** Path patching's clean and corrupted runs; rows are receiver layers (values[h]). */
export interface PathBaselineInfo extends ContrastBaseline {
  job: "path";
  sender: HeadRef;
  inputs: ReceiverInput[];
}

export type BaselineInfo = TraceBaselineInfo | PatchBaselineInfo | PathBaselineInfo;

/** Per-kind cost of a finished run. */
export interface StageSummary {
  evaluations: number;
  ms: number;
}
