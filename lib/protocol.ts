/**
 * Typed messages between the UI thread and the model worker. Requests carry a reqId; the worker
 * answers with the same reqId, and the UI drops answers to anything but its latest request.
 */
import type { Gpt2Config } from "./load/types";

export type BackendName = "webgpu" | "webgl" | "wasm" | "cpu";

export interface ModelInfo {
  /** Display name, e.g. "tiny-facts". */
  name: string;
  config: Gpt2Config;
  nParams: number;
}

export interface TokenProb {
  id: number;
  /** Decoded text of the token (spaces shown as they are). */
  token: string;
  prob: number;
}

export interface Prediction {
  inputIds: number[];
  inputTokens: string[];
  top: TokenProb[];
}

/** Where a model comes from. Only "bundled" and "url" exist in the first screen. */
export type ModelSource =
  | { kind: "bundled"; name: string }
  | { kind: "url"; baseUrl: string; name?: string };

export type ToWorker =
  | { type: "load"; reqId: number; source: ModelSource; backends?: BackendName[] }
  | { type: "predict"; reqId: number; prompt: string; topK: number }
  | { type: "cancel"; reqId: number };

export type FromWorker =
  | { type: "progress"; reqId: number; phase: string; done: number; total: number }
  | { type: "ready"; reqId: number; backend: BackendName; adapter?: string; model: ModelInfo }
  | { type: "prediction"; reqId: number; prediction: Prediction; ms: number }
  | { type: "done"; reqId: number; ms: number; tensorsLeft: number }
  | { type: "error"; reqId: number; code: string; message: string };
