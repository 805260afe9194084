/**
 * The store's shape: one slice per concern, combined in ./index.ts. The shared, sweep and edit
 * types live in ./common-types.ts, ./sweep-types.ts and ./edits-types.ts, re-exported here.
 */
import type {
  BackendName,
  FromWorker,
  GenerateResult,
  GenerateSettings,
  GenerateVariant,
  ModelInfo,
  ModelSource,
  Prediction,
} from "../protocol";
import type { LaneKey, ModelPort } from "../worker-client";
import type { AbscSlice } from "./absc-slice";
import type { BatchSlice } from "./batch-slice";
import type { Progress, UiError } from "./common-types";
import type { ConsistencySlice } from "./consistency-slice";
import type { EditsSlice, EditToolsSlice } from "./edits-types";
import type { HeadsSlice } from "./heads-slice";
import type { LensSlice } from "./lens-slice";
import type { PathSlice } from "./path-slice";
import type { PositionsSlice } from "./positions-slice";
import type { CompareSlice, DatasetSlice, PatchSlice, TraceSlice } from "./sweep-types";
import type { ViewSlice } from "./view-slice";

export type * from "./common-types";
export type * from "./edits-types";
export type * from "./sweep-types";

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

export interface ExamplesSlice {
  examples: ExampleFact[];
}

export interface ConnectionSlice {
  /** Attaches a model runtime (the worker client); returns a function that detaches it. */
  connect(port: ModelPort): () => void;
  /** Routes one (already de-staled) worker answer into the slices, by the lane it answers. */
  receive(msg: FromWorker, lane: LaneKey): void;
  /** After the worker stopped: a fresh one reloads the model and the stack (./worker-restart.ts). */
  restartWorker(): void;
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

export type CausewayState = ModelSlice &
  ConsistencySlice &
  AbscSlice &
  GenerateSlice &
  LensSlice &
  HeadsSlice &
  EditsSlice &
  EditToolsSlice &
  BatchSlice &
  CompareSlice &
  PredictSlice &
  TraceSlice &
  PatchSlice &
  DatasetSlice &
  ExamplesSlice &
  ViewSlice &
  PositionsSlice &
  PathSlice &
  ConnectionSlice;
