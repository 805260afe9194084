/** The store's shape: one slice per concern, combined in ./index.ts. */
import type { Edit, EditEval, PromptSet } from "../edit/types";
import type { DatasetResult, KnownFact } from "../interp/dataset";
import type { TraceKind } from "../interp/spec";
import type {
  AlphaPoint,
  BackendName,
  EditEvalResult,
  ErrorCode,
  FromWorker,
  GenerateResult,
  GenerateSettings,
  GenerateVariant,
  ModelInfo,
  ModelSource,
  ModelVariant,
  PatchBaselineInfo,
  Prediction,
  StageSummary,
  TraceBaselineInfo,
  TraceJob,
} from "../protocol";
import type { ShareErrorCode } from "../share/errors";
import type { LaneKey, ModelPort } from "../worker-client";
import type { Context } from "./context";

/** Codes the store gives itself, beside the worker's (lib/protocol.ts ErrorCode). */
export type StoreErrorCode =
  | "busy" // another request must finish first
  | "no_trace" // re-trace without a trace on screen
  | "no_edits" // re-trace with an empty (or all-off) stack
  | "bad_file" // a dropped file that is not what it should be
  | "prompt_too_long"
  | ShareErrorCode;

export interface UiError {
  code: ErrorCode | StoreErrorCode;
  message: string;
}

export interface Progress {
  phase: string;
  done: number;
  total: number;
  /** Model loads: bytes downloaded / expected so far, speed, ETA, a memory warning. */
  bytes?: number;
  bytesTotal?: number;
  bytesPerSec?: number;
  etaMs?: number;
  note?: string;
}

export type ModelStatus = "idle" | "loading" | "ready" | "error";

export interface ModelSlice {
  model: {
    status: ModelStatus;
    source: ModelSource | null;
    progress: Progress | null;
    backend: BackendName | null;
    adapter: string | null;
    info: ModelInfo | null;
    error: UiError | null;
    /** Milliseconds from load request to ready. */
    loadMs: number | null;
  };
  loadModel(source: ModelSource): void;
  /** Stops the download in flight; the previous model (if any) comes back as the current one. */
  cancelLoad(): void;
}

export type PredictStatus = "idle" | "pending" | "ok" | "error";

export interface PredictSlice {
  predict: {
    prompt: string;
    topK: number;
    status: PredictStatus;
    /** The last good prediction, kept on screen (dimmed) while a newer one is computed. */
    result: Prediction | null;
    /**
     * The original model's prediction for the same prompt, when the edit stack changes the
     * model (then `result` is the edited model's); null otherwise.
     */
    original: Prediction | null;
    /** The prompt `result` answers. */
    resultPrompt: string | null;
    error: UiError | null;
    ms: number | null;
    tensorsLeft: number | null;
  };
  /** Sets the prompt and schedules a prediction after the debounce delay (latest wins). */
  setPrompt(prompt: string): void;
  /** Predicts for the current prompt now (no debounce). */
  runPrediction(): void;
}

/** A known fact the bundled model was trained on, with a counterfactual of the same length. */
export interface ExampleFact {
  prompt: string;
  subject: string;
  attribute: string;
  /** Same template, another subject, same number of tokens, another answer. */
  counterfactual?: { prompt: string; subject: string; attribute: string };
}

export type RunStatus = "idle" | "running" | "cancelling" | "done" | "cancelled" | "error";

export interface RunProgress {
  phase: string;
  /** Trace kind, patch site or "dataset". */
  kind: string | null;
  done: number;
  total: number;
  etaMs: number | null;
}

/** The life of one sweep as the UI sees it. */
export interface RunInfo {
  status: RunStatus;
  /** The worker request (0: none yet). */
  reqId: number;
  progress: RunProgress | null;
  /** When it was asked for (store clock, ms). */
  startedAt: number | null;
  ms: number | null;
  evaluations: number | null;
  /** Tensors the worker holds after the run (or its cancellation) minus before it. */
  tensorsLeft: number | null;
  stages: Record<string, StageSummary> | null;
  error: UiError | null;
  /** Why a run stopped early when the user did not cancel it ("replaced by …"). */
  note: string | null;
}

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

export interface ExamplesSlice {
  examples: ExampleFact[];
}

export interface ConnectionSlice {
  /** Attaches a model runtime (the worker client); returns a function that detaches it. */
  connect(port: ModelPort): () => void;
  /** Routes one (already de-staled) worker answer into the slices, by the lane it answers. */
  receive(msg: FromWorker, lane: LaneKey): void;
}

/**
 * The edit requests and the stack's status when a load started from a ready model. The worker
 * frees its stack only once the new model's download is done (workers/load.ts), so a failed or
 * cancelled download leaves the previous model with its stack applied: edits-slice
 * restoreEditsAfterCancel brings this back and sends the stack again where they may differ.
 */
export interface EditsBeforeLoad {
  requests: Context["edits"];
  status: EditsSlice["edits"]["status"];
  error: EditsSlice["edits"]["error"];
}

export interface GenerateSide {
  status: "idle" | "running" | "done" | "error";
  /** Tokens generated so far. */
  done: number;
  result: GenerateResult | null;
  error: UiError | null;
}

/** Generation after the prompt, original and edited side by side (lib/store/generate-slice.ts). */
export interface GenerateSlice {
  generate: Record<GenerateVariant, GenerateSide>;
  /** The panel's decoding settings (kept here so that a link restores them: lib/share). */
  generateSettings: GenerateSettings;
  setGenerateSettings(patch: Partial<GenerateSettings>): void;
  /** Starts both sides with the same settings (the latest request per side wins). */
  startGenerate(prompt: string, settings: GenerateSettings): void;
  stopGenerate(): void;
  /** Forgets a side's text (e.g. the edit stack changed under the edited one). */
  clearGenerate(variant?: GenerateVariant): void;
}

export type EditsStatus = "idle" | "learning" | "ready" | "error";

export interface EditProgress {
  /** Index in the stack of the edit being learned. */
  index: number;
  phase: string;
  step: number;
  total: number;
  loss?: number;
  /** ROME: the new object's probability at this step. */
  pNew?: number;
}

export interface EditsSlice {
  edits: {
    /** The edit stack, in order; every edit has a unique id. */
    stack: Edit[];
    /** Earlier stacks, most recent last: undo pops one. */
    history: Edit[][];
    /** Stacks undone, most recent last: redo pops one; any other change empties it. */
    future: Edit[][];
    status: EditsStatus;
    progress: EditProgress | null;
    /** The loss curve of the edit being learned so far (ROME: with p_new). */
    curve: { step: number; loss: number; pNew?: number }[];
    error: UiError | null;
  };
  /** Adds a recipe or learned edit; the worker learns what is missing. */
  addEdit(edit: Edit): void;
  toggleEdit(id: string): void;
  moveEdit(id: string, delta: -1 | 1): void;
  removeEdit(id: string): void;
  /** Restores the stack before the last change. */
  undoEdits(): void;
  /** Restores the stack the last undo left, exactly (learned edits are not relearned). */
  redoEdits(): void;
  /**
   * Stops the learning in flight: the stack goes back to the one the worker has applied (the
   * change that triggered learning is undone), with no error; nothing to do when not learning.
   */
  cancelLearning(): void;
  /** Replaces the whole stack (e.g. from a share link); learns what is missing. */
  setEditStack(edits: Edit[]): void;
}

export interface EditEvalState {
  status: "idle" | "running" | "ok" | "error" | "cancelled";
  index: number | null;
  progress: Progress | null;
  result: EditEvalResult | null;
  error: UiError | null;
}

export interface HeadProbeState {
  status: "idle" | "running" | "ok" | "error";
  accuracy: number[][] | null;
  nPositive: number;
  nNegative: number;
  error: UiError | null;
}

/** The edit form open in the edit panel: the clicked site and the trace's prompt and subject. */
export interface EditFormState {
  /** components/edit-forms/registry.ts id. */
  form: string;
  site: { layer?: number; position?: number; head?: number; kind?: EditSiteKind };
  prompt: string;
  subject?: string;
}

export type EditSiteKind = "hidden" | "mlp" | "attn" | "head";

export interface AlphaCurveState {
  status: "idle" | "running" | "ok" | "error";
  points: AlphaPoint[] | null;
  error: UiError | null;
}

export interface EditToolsSlice {
  editEval: EditEvalState;
  headProbe: HeadProbeState;
  alphaCurve: AlphaCurveState;
  /** Learns a steering recipe on the edited model and scores it for each α. */
  runAlphaCurve(edit: Edit, alphas: number[], ev: EditEval): void;
  editForm: EditFormState | null;
  openEditForm(form: EditFormState): void;
  closeEditForm(): void;
  /** Scores the ROME edit at `index` of the stack (CounterFact measures, general-text loss). */
  evalEdit(index: number): void;
  cancelEval(): void;
  probeHeads(positive: PromptSet, negative: PromptSet): void;
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

export type CausewayState = ModelSlice &
  GenerateSlice &
  EditsSlice &
  EditToolsSlice &
  CompareSlice &
  PredictSlice &
  TraceSlice &
  PatchSlice &
  DatasetSlice &
  ExamplesSlice &
  ConnectionSlice;
