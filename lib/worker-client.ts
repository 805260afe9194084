/**
 * The UI thread's handle on the model worker: typed requests, the one "latest request" table of
 * the app, and a clear error when the worker cannot start. Answers to anything but the latest
 * request of each lane (a request type; generation has one lane per variant) are dropped here,
 * so the store only ever sees current results, tagged with their lane.
 */
import type { BatchRunSpec } from "./batch-jobs";
import type { AbscRequest } from "./edit/absc-request";
import type { ConsistencyRequest } from "./edit/consistency-request";
import type { Edit, EditEval, PromptSet } from "./edit/types";
import { errorText } from "./errors";
import type { ReadoutBody, ReadoutType } from "./lens-jobs";
import type {
  BackendName,
  FromWorker,
  GenerateSettings,
  GenerateVariant,
  ModelSource,
  ModelVariant,
  RequestType,
  RunJob,
  ToWorker,
} from "./protocol";

/**
 * A lane of requests where the latest wins: a request type, except that generation keeps one
 * lane per variant (the original and the edited model generate side by side).
 */
export type LaneKey = Exclude<RequestType, "generate"> | `generate:${GenerateVariant}`;

type Request = Exclude<ToWorker, { type: "cancel" }>;
/** A request before the client gives it its reqId. */
type Body = Request extends infer R ? (R extends Request ? Omit<R, "reqId"> : never) : never;

/** The lane a request belongs to. */
export function laneOf(msg: Body | Request): LaneKey {
  return msg.type === "generate" ? `generate:${msg.variant ?? "edited"}` : msg.type;
}

/**
 * The app's one "latest request" table: the reqId of the latest request of each lane. A load
 * makes every other request stale (a new model); a forgotten lane's answers are dropped.
 */
export class LatestRequests {
  private readonly latest = new Map<LaneKey, number>();
  private next = 1;

  /** A new reqId, now the latest of `lane`. */
  issue(lane: LaneKey): number {
    const reqId = this.next++;
    if (lane === "load") this.latest.clear();
    this.latest.set(lane, reqId);
    return reqId;
  }

  /** The latest reqId of `lane` (0: none). */
  current(lane: LaneKey): number {
    return this.latest.get(lane) ?? 0;
  }

  /** Drops `lane`'s latest request (its later answers are stale); returns its reqId (0: none). */
  forget(lane: LaneKey): number {
    const reqId = this.current(lane);
    this.latest.delete(lane);
    return reqId;
  }

  /** The lane whose latest request `reqId` is, or null when the answer is stale. */
  laneOf(reqId: number): LaneKey | null {
    if (reqId === 0) return null;
    for (const [lane, id] of this.latest) if (id === reqId) return lane;
    return null;
  }

  /** Every lane's latest request, forgetting them all (the worker died). */
  drain(): [LaneKey, number][] {
    const all = [...this.latest];
    this.latest.clear();
    return all;
  }
}

/** What the store needs from a model runtime; the worker client is one, tests can fake one. */
export interface ModelPort {
  load(source: ModelSource, backends?: BackendName[]): number;
  /** variant: default "edited" (the answer then also carries the original's prediction). */
  predict(prompt: string, topK: number, variant?: ModelVariant): number;
  /** Forgets the latest prediction request (its answer will be dropped) and tells the worker. */
  cancelPredict(): void;
  /**
   * Asks the worker to stop the model download in flight; it answers the load with an error
   * coded "cancelled" (the previous model stays loaded) or, when the download had finished,
   * with `load` as usual. Optional so test ports need not implement it.
   */
  cancelLoad?(): void;
  /** Starts a sweep; the latest run wins (the worker stops the one before). */
  run(job: RunJob, variant?: ModelVariant): number;
  /**
   * Asks the worker to stop the latest run between passes. Its answers still arrive: the
   * worker acknowledges with `done` { cancelled: true, tensorsLeft }.
   */
  cancelRun(): void;
  /** One head's attention pattern on a prompt. */
  attention(prompt: string, layer: number, head: number, variant?: ModelVariant): number;
  tokenize(texts: string[]): number;
  /**
   * Every head's pattern on a prompt, then the per-head scores (subject: a token range [b, e)).
   * Optional so test ports need not implement it.
   */
  heads?(prompt: string, subject?: [number, number]): number;
  /** Stops the latest heads request between its phases; it acknowledges with done {cancelled}. */
  cancelHeads?(): void;
  /** Replaces the worker's edit stack (learning what is missing); the latest wins. */
  setEdits(edits: Edit[]): number;
  /**
   * Stops the latest setEdits at its next optimisation step (its answer, an error coded
   * "cancelled", is dropped; the worker keeps its previous stack).
   */
  cancelEdits(): void;
  /** CounterFact measures of the ROME edit at `index` of the worker's stack. */
  evalEdit(index: number): number;
  cancelEval(): void;
  /** Probe accuracy per layer × head for two prompt sets. */
  probeHeads(positive: PromptSet, negative: PromptSet): number;
  /** Learns a steering recipe on the edited model and scores it for each α. */
  alphaCurve(edit: Edit, alphas: number[], ev: EditEval): number;
  /** The semantic-consistency recipe on the unedited model. Optional so test ports need not implement it. */
  consistency?(request: ConsistencyRequest): number;
  /** The ABSC recipe on the unedited model (or its review facts). Optional for test ports. */
  absc?(request: AbscRequest): number;
  /** Stops the ABSC run at its next step; its later answers are dropped. */
  cancelAbsc?(): void;
  /**
   * A logit lens, DLA or attribution patching request (lib/lens-jobs.ts); the latest of each
   * type wins. Optional so test ports need not implement it.
   */
  readout?(body: ReadoutBody): number;
  /** Stops the latest read-out of `type`; it acknowledges with done {cancelled}. */
  cancelReadout?(type: ReadoutType): void;
  /** A batch / sequential editing run (lib/batch-jobs.ts). Optional for test ports. */
  batchEdit?(run: BatchRunSpec): number;
  /** Stops the batch run at its next step; its later answers are dropped. */
  cancelBatch?(): void;
  /** Asks which editing methods the worker has. */
  batchMethods?(): number;
  /** Text after a prompt from one variant; the latest per variant wins. */
  generate(prompt: string, settings: GenerateSettings, variant: GenerateVariant): number;
  /** Stops that variant's generation between tokens; its answers are dropped. */
  cancelGenerate(variant: GenerateVariant): void;
  dispose(): void;
}

/** Receives the current (never stale) answers, tagged with the lane of the request they answer. */
export type Listener = (msg: FromWorker, lane: LaneKey) => void;

/** Error code produced on the UI side when the worker itself dies or cannot start. */
export const WORKER_FAILED = "worker_failed";

/** How a cancel treats the request's later answers. */
type CancelMode = "forget" | "keep";

export class WorkerClient implements ModelPort {
  private readonly worker: Worker;
  private readonly latest = new LatestRequests();
  private disposed = false;

  constructor(private readonly listener: Listener) {
    try {
      // Turbopack recognises only this literal form; the worker runs as a classic script.
      this.worker = new Worker(new URL("../workers/model.worker.ts", import.meta.url));
    } catch (e) {
      throw new Error(`The model worker could not start: ${errorText(e)}`);
    }
    this.worker.onmessage = (ev: MessageEvent<FromWorker>) => this.receive(ev.data);
    this.worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.fail(
        ev.message
          ? `The model worker crashed: ${ev.message}`
          : "The model worker failed to start (its script did not load)",
      );
    };
    this.worker.onmessageerror = () => this.fail("The model worker sent an unreadable message");
  }

  /** Sends a request as the latest of its lane; returns its reqId. */
  request(body: Body): number {
    // a new model invalidates everything in flight (the worker stops a running sweep itself)
    const reqId = this.latest.issue(laneOf(body));
    this.post({ ...body, reqId } as ToWorker);
    return reqId;
  }

  /**
   * Asks the worker to stop the latest request of `lane`. "forget" drops its later answers at
   * once; "keep" lets them through (a sweep acknowledges with done { cancelled }).
   */
  cancel(lane: LaneKey, mode: CancelMode = "forget"): void {
    const reqId = mode === "forget" ? this.latest.forget(lane) : this.latest.current(lane);
    if (reqId !== 0) this.post({ type: "cancel", reqId });
  }

  load(source: ModelSource, backends?: BackendName[]): number {
    return this.request({ type: "load", source, ...(backends ? { backends } : {}) });
  }
  cancelLoad(): void {
    this.cancel("load", "keep");
  }
  predict(prompt: string, topK: number, variant?: ModelVariant): number {
    return this.request({ type: "predict", prompt, topK, ...(variant ? { variant } : {}) });
  }
  cancelPredict(): void {
    this.cancel("predict");
  }
  run(job: RunJob, variant?: ModelVariant): number {
    return this.request({ type: "run", job, ...(variant ? { variant } : {}) });
  }
  cancelRun(): void {
    this.cancel("run", "keep");
  }
  attention(prompt: string, layer: number, head: number, variant?: ModelVariant): number {
    return this.request({
      type: "attention",
      prompt,
      layer,
      head,
      ...(variant ? { variant } : {}),
    });
  }
  tokenize(texts: string[]): number {
    return this.request({ type: "tokenize", texts });
  }
  heads(prompt: string, subject?: [number, number]): number {
    return this.request({ type: "heads", prompt, ...(subject ? { subject } : {}) });
  }
  cancelHeads(): void {
    this.cancel("heads", "keep");
  }
  setEdits(edits: Edit[]): number {
    return this.request({ type: "setEdits", edits });
  }
  cancelEdits(): void {
    this.cancel("setEdits");
  }
  evalEdit(index: number): number {
    return this.request({ type: "evalEdit", index });
  }
  cancelEval(): void {
    this.cancel("evalEdit");
  }
  probeHeads(positive: PromptSet, negative: PromptSet): number {
    return this.request({ type: "probeHeads", positive, negative });
  }
  alphaCurve(edit: Edit, alphas: number[], ev: EditEval): number {
    return this.request({ type: "alphaCurve", edit, alphas, eval: ev });
  }
  consistency(request: ConsistencyRequest): number {
    return this.request({ type: "consistency", request });
  }
  absc(request: AbscRequest): number {
    return this.request({ type: "absc", request });
  }
  cancelAbsc(): void {
    this.cancel("absc");
  }
  readout(body: ReadoutBody): number {
    return this.request(body);
  }
  cancelReadout(type: ReadoutType): void {
    this.cancel(type, "keep");
  }
  batchEdit(run: BatchRunSpec): number {
    return this.request({ type: "batchEdit", run });
  }
  cancelBatch(): void {
    this.cancel("batchEdit");
  }
  batchMethods(): number {
    return this.request({ type: "batchMethods" });
  }
  generate(prompt: string, settings: GenerateSettings, variant: GenerateVariant): number {
    return this.request({ type: "generate", prompt, settings, variant });
  }
  cancelGenerate(variant: GenerateVariant): void {
    this.cancel(`generate:${variant}`);
  }

  dispose(): void {
    this.disposed = true;
    this.worker.terminate();
  }

  private post(msg: ToWorker): void {
    if (!this.disposed) this.worker.postMessage(msg);
  }

  private receive(msg: FromWorker): void {
    if (this.disposed) return;
    const lane = this.latest.laneOf(msg.reqId);
    // anything else answers a request that a newer one replaced: dropped
    if (lane) this.listener(msg, lane);
  }

  /** A dead worker loses its model: every request waiting for an answer gets this error. */
  private fail(message: string): void {
    if (this.disposed) return;
    const waiting = this.latest.drain();
    const error = (reqId: number) =>
      ({ type: "error", reqId, code: WORKER_FAILED, message }) as const;
    if (!waiting.some(([lane]) => lane === "load")) this.listener(error(-1), "load");
    for (const [lane, reqId] of waiting) this.listener(error(reqId), lane);
  }
}
