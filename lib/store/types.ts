/** The store's shape: one slice per concern, combined in ./index.ts. */
import type { BackendName, FromWorker, ModelInfo, ModelSource, Prediction } from "../protocol";
import type { ModelPort, RequestKind } from "../worker-client";

export interface UiError {
  code: string;
  message: string;
}

export interface Progress {
  phase: string;
  done: number;
  total: number;
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
}

export type PredictStatus = "idle" | "pending" | "ok" | "error";

export interface PredictSlice {
  predict: {
    prompt: string;
    topK: number;
    status: PredictStatus;
    /** The last good prediction, kept on screen (dimmed) while a newer one is computed. */
    result: Prediction | null;
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

export interface ConnectionSlice {
  /** Attaches a model runtime (the worker client); returns a function that detaches it. */
  connect(port: ModelPort): () => void;
  /** Routes one (already de-staled) worker answer into the slices. */
  receive(msg: FromWorker, kind: RequestKind): void;
}

export type CausewayState = ModelSlice & PredictSlice & ConnectionSlice;
