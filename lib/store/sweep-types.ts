/** The sweep slices' state (trace, patch, dataset, compare): settings, runs and results. */
import type { DatasetResult, KnownFact } from "../interp/dataset";
import type { TraceKind } from "../interp/spec";
import type { ModelVariant, PatchBaselineInfo, TraceBaselineInfo, TraceJob } from "../protocol";
import type { RunInfo, UiError } from "./common-types";

export type CorruptionMode = "noise" | "prompt";

export interface TraceSettings {
  /** The subject as typed (or as picked on the token strip). */
  subjectText: string;
  /** The subject's token range [b, e) in `subjectPrompt`'s tokens, when known. */
  subjectRange: [number, number] | null;
  subjectPrompt: string | null;
  /** True while the subject was filled in from a known fact (not typed by the user). */
  subjectAuto: boolean;
  /** Empty: the model's top prediction. */
  target: string;
  corruption: CorruptionMode;
  samples: number;
  /** Noise multiplier ν / std(token embeddings). */
  noise: number;
  seed: number;
  counterfactual: string;
  counterfactualAuto: boolean;
  /** null: the default window for the model's depth. */
  window: number | null;
  kinds: TraceKind[];
}

/** One kind's heatmap as it fills in. */
export interface TraceGrid {
  baseline: TraceBaselineInfo;
  /** T × L, row-major, NaN until computed. */
  values: Float32Array;
  rows: number;
  cols: number;
  filled: number;
}

export interface TraceResultState {
  /** The job the run was asked with. */
  job: TraceJob;
  /** The model it ran on (the causal trace panel traces the original; re-trace the edited). */
  variant: ModelVariant;
  prompt: string;
  kinds: TraceKind[];
  /** Filled in by the first baseline. */
  tokens: string[] | null;
  subject: [number, number] | null;
  grids: Partial<Record<TraceKind, TraceGrid>>;
}

export interface TraceSlice {
  trace: {
    settings: TraceSettings;
    /** Why the subject cannot be used (not in the prompt, …). */
    subjectError: UiError | null;
    /** Why the last click on Run was refused before reaching the worker. */
    formError: UiError | null;
    run: RunInfo;
    /** The trace on screen: the last run that produced numbers (a failed run leaves it). */
    result: TraceResultState | null;
    /** The run asked for, until its first baseline replaces `result` with it. */
    pending: TraceResultState | null;
  };
  setSubjectText(text: string): void;
  /** Picks the subject on the token strip (tokens of the current prompt). */
  selectSubjectRange(range: [number, number]): void;
  setTraceSettings(patch: Partial<TraceSettings>): void;
  /** Starts the trace (all the selected kinds); the latest run wins. */
  runTrace(): void;
  /** Stops whatever sweep is running (trace, patch or dataset). */
  cancelRun(): void;
  /** Re-resolves the subject against the tokens of the current prompt. */
  syncSubject(): void;
}

export interface PatchSettings {
  clean: string;
  corrupt: string;
  /** Empty: the clean prompt's top-1. */
  target: string;
  /** Empty: the corrupted prompt's top-1. */
  foil: string;
}

export interface AttentionState {
  status: "idle" | "pending" | "ok" | "error";
  layer: number;
  head: number;
  prompt: string;
  tokens: string[] | null;
  /** T × T, [query][key]. */
  pattern: Float32Array | null;
  error: UiError | null;
}

export interface PatchSlice {
  patch: {
    settings: PatchSettings;
    formError: UiError | null;
    run: RunInfo;
    result: {
      clean: string;
      baseline: PatchBaselineInfo | null;
      /** L × H, row-major, NaN until computed. */
      values: Float32Array | null;
      filled: number;
    } | null;
    selected: { layer: number; head: number } | null;
    attention: AttentionState | null;
  };
  setPatchSettings(patch: Partial<PatchSettings>): void;
  runPatch(): void;
  /** Shows a head's attention pattern on the clean prompt (asks the worker). */
  selectHead(layer: number, head: number): void;
}

export interface DatasetSettings {
  samples: number;
  /** Trace at most this many facts (the first ones). */
  limit: number;
  kinds: TraceKind[];
  /** Facts from a dropped file; null: the model's own dataset.json. */
  facts: KnownFact[] | null;
  factsName: string | null;
  /** Candidate answers that came with the facts (the ABSC labels): right = highest among them. */
  answerAmong: string[] | null;
}

export interface DatasetSlice {
  dataset: {
    settings: DatasetSettings;
    formError: UiError | null;
    run: RunInfo;
    result: DatasetResult | null;
  };
  setDatasetSettings(patch: Partial<DatasetSettings>): void;
  /** Reads a known-facts file (ROME's known_1000.json, or { known_facts: [...] }). */
  loadFactsFile(text: string, name: string): void;
  runDataset(): void;
}

/** Original vs edited side by side: the trace of the edited model beside the original one. */
export interface CompareSlice {
  compare: {
    /** The re-trace of the edited model (same job as `original`). */
    edited: TraceResultState | null;
    /** The original model's trace it is compared with. */
    original: TraceResultState | null;
    /** edits-slice stackKey of the stack `edited` was computed with (stale when it differs). */
    stackKey: string | null;
    run: RunInfo;
    error: UiError | null;
  };
  /** Runs the current trace result's job on the edited model, keeping the original grids. */
  retraceEdited(): void;
  /** Drops the side-by-side view. */
  closeCompare(): void;
}
