/**
 * Typed messages between the UI thread and the model worker: the shared vocabulary of the app.
 * Requests carry a reqId; the worker answers with the same reqId, and the client
 * (lib/worker-client.ts) drops answers to anything but its latest request of each type.
 *
 * One name per request: a request's result answer has the request's own `type` (`predict` →
 * `predict`, `setEdits` → `setEdits`, …; a `run` answers `baseline` / `rows` / `dataset`), and
 * its `progress` messages carry `request: <type>` with that request's own fields. Every request
 * also may answer `error` (an ErrorCode and a one-line message); most end with `done`.
 * The worker side of this lifecycle is workers/lane.ts; docs/architecture.md has the picture.
 *
 * Sweeps (`run`): one at a time, the latest wins (a new run cancels the one before it, whose
 * answers are never posted). A run answers, in order:
 *   baseline   once per trace kind (or once for a patch run), before any row
 *   rows       as rows of the grid complete; values are transferred, not copied
 *   pathJoint  (path runs with receivers) the receiver set's joint effect, after the rows
 *   progress   evaluations done / planned, with an ETA
 *   done       ms, evaluations and tensorsLeft (tensors alive after the run minus before it);
 *              also the acknowledgement of a `cancel` (cancelled: true), so a cancelled run
 *              always reports its tensor balance
 *   error      code and a one-line message (spec errors: lib/interp TraceErrorCode)
 * `attention` and `tokenize` are small requests beside a run: they neither cancel it nor are
 * cancelled by it, and each keeps its own latest-wins lane.
 *
 * Cancelling a `setEdits` stops its learning at the next optimisation step (or before the next
 * edit), frees every tensor it made, keeps the previously applied stack, and answers `error`
 * coded "cancelled" (as a cancelled load does). A cancel that arrives after the stack was
 * applied changes nothing. The store does not wait for that answer (the client drops it): it
 * restores its applied stack and sends it again, which the worker only re-applies.
 */
import type { BatchProgressMsg, BatchRunResult, BatchRunSpec } from "./batch-jobs";
import type { AbscFacts, AbscProgress, AbscRequest, AbscRow } from "./edit/absc-request";
import type { ConsistencyRequest } from "./edit/consistency-request";
import type { ConsistencyProgress, ConsistencyRun } from "./edit/consistency-run";
import type { CounterFactScores } from "./edit/metrics";
import type { Edit, EditErrorCode, EditEval, PromptSet } from "./edit/types";
import type { EngineErrorCode } from "./engine";
import type { DatasetResult } from "./interp/dataset";
import type { AllHeadPatterns } from "./interp/head-patterns";
import type { HeadScoresResult } from "./interp/head-scores";
import type { HeadRef } from "./interp/path-patch";
import type { TraceErrorCode } from "./interp/spec";
import type { ReadoutAnswer, ReadoutProgress, ReadoutRequest } from "./lens-jobs";
import type { LoadErrorCode } from "./load/errors";
import type { Gpt2Config } from "./load/types";
import type { ModelErrorCode } from "./model/errors";
import type { QueryErrorCode } from "./queries";
import type { BaselineInfo, RunJob, StageSummary, SweepKind } from "./sweep-jobs";

export type BackendName = "webgpu" | "webgl" | "wasm" | "cpu";

/**
 * Which model a predict / run / attention request runs on: the loaded weights ("original") or
 * the model with the worker's current edit stack ("edited", the default; the same as
 * "original" while the stack changes nothing). Dataset runs always use the original model.
 */
export type ModelVariant = "original" | "edited";

/** One point of an α curve: log P(target) − log P(foil) and accuracy on the eval prompts. */
export interface AlphaPoint {
  alpha: number;
  n: number;
  mean_logprob_diff: number;
  accuracy: number;
}

/** The measures of one ROME edit of the stack (workers/edit-eval.ts; docs/methods.md §5). */
export interface EditEvalResult {
  index: number;
  description: string;
  /** The case scored: the edit's CounterFact case, or one made from its own prompt. */
  source: "counterfact" | "edit";
  /** null when the case has no true object to compare with (see `note`). */
  original: CounterFactScores | null;
  edited: CounterFactScores | null;
  /** Mean next-token NLL on dataset.json general_text, original and edited, and their ratio. */
  generalText: { original: number; edited: number; ratio: number; texts: number } | null;
  note: string | null;
}

/** Generation settings (lib/edit/generate.ts): greedy, or sampled with a seed. */
export interface GenerateSettings {
  maxNew: number;
  sample: boolean;
  seed: number;
  temperature: number;
  /** 0 = every token. */
  topK: number;
}

export interface GenerateResult {
  promptIds: number[];
  ids: number[];
  tokens: string[];
  text: string;
  stop: "max_new" | "eos" | "context" | "cancelled";
  /** True when the edited variant was asked for and the stack changes nothing. */
  sameAsOriginal: boolean;
}

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

/**
 * Where a model comes from. "hub": a Hugging Face repo id at a revision, fetched from `endpoint`
 * (default https://huggingface.co) and kept in the browser's Cache API. "files": File objects the
 * user picked or dropped (config.json, tokenizer.json, *.safetensors [+ index]); they travel with
 * the load message (structured clone), so a files source cannot be shared or restored.
 */
export type ModelSource =
  | { kind: "bundled"; name: string }
  | { kind: "url"; baseUrl: string; name?: string }
  | { kind: "hub"; repo: string; revision?: string; endpoint?: string }
  | { kind: "files"; name: string; files?: File[] };

// The read-out requests (lens, dla, attrib): ./lens-jobs.ts.
export type {
  AttribJob,
  DlaJob,
  LensJob,
  ReadoutPhase,
  ReadoutType,
} from "./lens-jobs";
// The sweep jobs of a `run` request and what their baselines say: ./sweep-jobs.ts.
export type {
  BaselineInfo,
  ContrastBaseline,
  DatasetJob,
  PatchBaselineInfo,
  PatchJob,
  PathBaselineInfo,
  PathJob,
  RunJob,
  StageSummary,
  SweepKind,
  TraceBaselineInfo,
  TraceJob,
} from "./sweep-jobs";

/** Every request the worker takes, one name each (its answers reuse the name). */
export type ToWorker =
  | { type: "load"; reqId: number; source: ModelSource; backends?: BackendName[] }
  | { type: "predict"; reqId: number; prompt: string; topK: number; variant?: ModelVariant }
  | { type: "run"; reqId: number; job: RunJob; variant?: ModelVariant }
  /** The attention pattern of one head (blocks.{layer}.attn.hook_pattern) on a prompt. */
  | {
      type: "attention";
      reqId: number;
      prompt: string;
      layer: number;
      head: number;
      variant?: ModelVariant;
    }
  /**
   * Replaces the worker's edit stack: edits without learned values are learned (lib/edit
   * learnStack; progress per edit and step), then the stack is applied to every later "edited"
   * request. Answer: `setEdits` (the complete stack) or `error` (the previous stack stays).
   * The latest wins; a new model load empties the stack.
   */
  | { type: "setEdits"; reqId: number; edits: Edit[] }
  /** CounterFact scores of the ROME edit at `index` of the current stack (cancellable). */
  | { type: "evalEdit"; reqId: number; index: number }
  /** Probe accuracy of every head (layer × head) separating two prompt sets (head steering). */
  | { type: "probeHeads"; reqId: number; positive: PromptSet; negative: PromptSet }
  /**
   * The effect of α (lib/edit/steer.ts alphaCurve): a steering recipe is learned on the model
   * with the current stack, then scored with each α on top of the stack.
   */
  | { type: "alphaCurve"; reqId: number; edit: Edit; alphas: number[]; eval: EditEval }
  /** The semantic-consistency recipe on the unedited model (lib/edit/consistency-run.ts). */
  | { type: "consistency"; reqId: number; request: ConsistencyRequest }
  /**
   * The ABSC recipe on the unedited model (workers/absc-job.ts, lib/edit/absc-request.ts): each
   * method's row as soon as it is trained and scored (`absc`), or the review facts (`abscFacts`).
   */
  | { type: "absc"; reqId: number; request: AbscRequest }
  /** Token ids and texts of some texts (e.g. to check a counterfactual's length). */
  | { type: "tokenize"; reqId: number; texts: string[] }
  /** Batch / sequential editing measured per batch (./batch-jobs.ts); `batchMethods` lists methods. */
  | { type: "batchEdit"; reqId: number; run: BatchRunSpec }
  | { type: "batchMethods"; reqId: number }
  /**
   * Text generated after a prompt (lib/edit/generate.ts), greedy or sampled, by the original or
   * the edited model. Latest wins per variant (the client's lane key is "generate:<variant>");
   * progress per token; answer `generate`.
   */
  | {
      type: "generate";
      reqId: number;
      prompt: string;
      settings: GenerateSettings;
      /** Default "edited". */
      variant?: GenerateVariant;
    }
  /**
   * Every head's attention pattern on a prompt (answer `headPatterns`), then the per-head scores
   * of lib/interp/head-scores.ts (answer `headScores`), on the loaded model without edits (as
   * `causeway heads`); progress per phase; a cancel is acknowledged with `done {cancelled}`.
   */
  | { type: "heads"; reqId: number; prompt: string; subject?: [number, number] }
  /** Logit lens, direct logit attribution, attribution patching (./lens-jobs.ts). */
  | ReadoutRequest
  | { type: "cancel"; reqId: number };

/** The request types (everything but `cancel`). */
export type RequestType = Exclude<ToWorker["type"], "cancel">;
export type RequestOf<T extends RequestType> = Extract<ToWorker, { type: T }>;

export type GenerateVariant = "original" | "edited";

/** Phases of a model load: the small files, the weights download, then the GPU upload. */
export type LoadPhase = "start" | "config" | "tokenizer" | "weights" | "backend" | "upload";
/** Phases of a sweep: the clean and corrupted runs, the grid, the dataset's facts, the end. */
export type SweepPhase = "clean" | "corrupted" | "sweep" | "dataset" | "done";
/**
 * Phases of learning one edit: "prepare" (before the first optimisation step: prompts, the
 * fixed pass), ROME's "statistics" (C over its corpus, `done` of `total` texts) and "templates"
 * (the context templates, tokens sampled) when not cached yet, "learn" (step `done` of `total`),
 * "apply" (after the last step: ROME's update and covariance, applying the stack).
 */
export type LearnPhase = "prepare" | "statistics" | "templates" | "learn" | "apply";
export type EvalPhase =
  | "case"
  | "original"
  | "edited"
  | "general text (original)"
  | "general text (edited)"
  | "done";

/** Progress of one request: one variant per request type, each with its own fields. */
export type Progress =
  | {
      request: "load";
      phase: LoadPhase;
      done: number;
      total: number;
      /** Bytes downloaded so far and the bytes expected of the files started so far. */
      bytes?: number;
      bytesTotal?: number;
      /** Download speed in bytes per second. */
      bytesPerSec?: number;
      etaMs?: number;
      /** A warning to show beside the bar (e.g. from the memory estimate). */
      note?: string;
    }
  | {
      request: "run";
      phase: SweepPhase;
      /** The trace kind (or patch site, "dataset") being run. */
      kind: SweepKind;
      done: number;
      total: number;
      /** Estimated milliseconds left. */
      etaMs?: number;
    }
  /** The consistency recipe: locating, each (K, α) point of the train sweep, measuring. */
  | ({ request: "consistency" } & ConsistencyProgress)
  /** The ABSC recipe: each method's optimisation step. */
  | ({ request: "absc" } & AbscProgress)
  /** The first prediction after a load compiles the model's kernels: phase "predict" 0/1. */
  | { request: "predict"; phase: "predict"; done: number; total: number }
  | {
      request: "setEdits";
      phase: LearnPhase;
      /** The index in the stack of the edit being learned. */
      index: number;
      done: number;
      total: number;
      loss?: number;
      /** ROME: the new object's probability at this step. */
      pNew?: number;
    }
  | { request: "evalEdit"; phase: EvalPhase; done: number; total: number }
  | BatchProgressMsg
  | { request: "generate"; phase: "generate"; done: number; total: number }
  /** Phase 0: every head's pattern on the prompt; phase 1: the scores (prompt + repeated tokens). */
  | { request: "heads"; phase: HeadsPhase; done: number; total: number }
  | ReadoutProgress;

export type HeadsPhase = "patterns" | "scores";

export type ProgressOf<T extends Progress["request"]> = Extract<Progress, { request: T }>;

/** Codes the worker itself raises (beside lib's LoadError, TraceError, EngineError, …). */
export type WorkerErrorCode =
  | "no_model" // a request before any model loaded (or after a failed load)
  | "no_dataset" // a dataset run on a model without dataset.json
  | "no_backend" // no backend could start
  | "bad_request" // a malformed message
  | "internal" // anything unexpected (a bug): the message says what
  | "cancelled"
  | "worker_failed"; // the client's: the worker died or could not start

/** Every error code an `error` answer may carry. */
export type ErrorCode =
  | WorkerErrorCode
  | LoadErrorCode
  | TraceErrorCode
  | EngineErrorCode
  | ModelErrorCode
  | EditErrorCode
  | QueryErrorCode;

export type FromWorker =
  | ({ type: "progress"; reqId: number } & Progress)
  | ReadoutAnswer
  | { type: "load"; reqId: number; backend: BackendName; adapter?: string; model: ModelInfo }
  | {
      type: "predict";
      reqId: number;
      /** The prediction of the requested variant. */
      prediction: Prediction;
      /** variant "edited" with a stack that changes something: the original model's prediction. */
      original?: Prediction;
      ms: number;
    }
  /** The worker's edit stack after setEdits, every enabled edit learned. */
  | { type: "setEdits"; reqId: number; edits: Edit[] }
  | { type: "evalEdit"; reqId: number; result: EditEvalResult }
  | {
      type: "probeHeads";
      reqId: number;
      accuracy: number[][];
      nPositive: number;
      nNegative: number;
    }
  | { type: "alphaCurve"; reqId: number; points: AlphaPoint[] }
  | { type: "consistency"; reqId: number; run: ConsistencyRun }
  | { type: "absc"; reqId: number; row: AbscRow }
  | ({ type: "abscFacts"; reqId: number } & AbscFacts)
  | { type: "batchEdit"; reqId: number; result: BatchRunResult }
  | { type: "batchMethods"; reqId: number; methods: string[] }
  | { type: "baseline"; reqId: number; kind: SweepKind; baseline: BaselineInfo }
  | {
      type: "rows";
      reqId: number;
      /** Trace kind ("hidden" | "mlp" | "attn") or patch site ("head_out", …). */
      kind: SweepKind;
      /** Row indices (token positions; layers for head_out). */
      rows: number[];
      /** rows.length × width values, row-major (transferred). */
      values: Float32Array;
      width: number;
    }
  | { type: "dataset"; reqId: number; result: DatasetResult }
  /** A path run's receiver set read the sender's corrupted output jointly (lib/interp/path-patch.ts). */
  | { type: "pathJoint"; reqId: number; receivers: HeadRef[]; joint: number }
  | {
      type: "attention";
      reqId: number;
      layer: number;
      head: number;
      tokens: string[];
      /** [query][key] row-major, T × T (transferred). */
      pattern: Float32Array;
    }
  | { type: "tokenize"; reqId: number; items: { ids: number[]; tokens: string[] }[] }
  | {
      type: "generate";
      reqId: number;
      variant: GenerateVariant;
      result: GenerateResult;
      ms: number;
    }
  /** Every head's pattern on the heads request's prompt ([L, H, T, T], transferred). */
  | ({ type: "headPatterns"; reqId: number } & AllHeadPatterns)
  | { type: "headScores"; reqId: number; result: HeadScoresResult }
  | {
      type: "done";
      reqId: number;
      ms: number;
      /**
       * predict: tensors resident in the worker. run: tensors alive after the run (or its
       * cancellation) minus before it (0 when nothing leaked).
       */
      tensorsLeft: number;
      evaluations?: number;
      cancelled?: boolean;
      stages?: Record<string, StageSummary>;
    }
  | {
      type: "error";
      reqId: number;
      code: ErrorCode;
      message: string;
      /**
       * Loads that failed before the swap: the model the worker still holds (a failed or
       * cancelled download never frees it; its edit stack stays too), null when it holds none.
       */
      kept?: KeptModel | null;
    };

/** The model a failed load left in the worker: what its `load` answer said, and its source. */
export interface KeptModel {
  source: ModelSource;
  backend: BackendName;
  adapter?: string;
  model: ModelInfo;
}

export type AnswerOf<T extends FromWorker["type"]> = Extract<FromWorker, { type: T }>;

/**
 * True for a `progress` answer, typed as request T's variant. The client routes answers by the
 * lane of the request they answer, so a progress message on lane T is T's (tests that build
 * messages by hand may leave `request` out).
 */
export function isProgressOf<T extends Progress["request"]>(
  msg: FromWorker,
  _request: T,
): msg is { type: "progress"; reqId: number } & ProgressOf<T> {
  return msg.type === "progress";
}
