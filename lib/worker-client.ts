/**
 * The UI thread's handle on the model worker: typed requests, the one "latest request" table of
 * the app (lib/latest-requests.ts), and a clear error when the worker cannot start or dies.
 * Answers to anything but the latest request of each lane (a request type; generation has one
 * lane per variant) are dropped here, so the store only ever sees current results, tagged with
 * their lane.
 *
 * A dead worker (its own uncaught error, an unreadable message, or a report from one of its
 * wasm pthreads on the failure channel, lib/worker-channel.ts) is terminated: every request still
 * waiting fails once with a "worker_failed" error, later requests fail at once, and `restart()`
 * starts a fresh worker that never starts wasm threads.
 */
import type { BatchRunSpec } from "./batch-jobs";
import type { AbscRequest } from "./edit/absc-request";
import type { ConsistencyRequest } from "./edit/consistency-request";
import type { Edit, EditEval, PromptSet } from "./edit/types";
import { errorText } from "./errors";
import { type Body, type LaneKey, LatestRequests, laneOf } from "./latest-requests";
import type { ReadoutBody, ReadoutType } from "./lens-jobs";
import type {
  BackendName,
  FromWorker,
  GenerateSettings,
  GenerateVariant,
  ModelSource,
  ModelVariant,
  RunJob,
  ToWorker,
} from "./protocol";
import {
  modelWorkerName,
  newChannelName,
  parseThreadReport,
  threadFailure,
} from "./worker-channel";

export { type LaneKey, LatestRequests, laneOf } from "./latest-requests";

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
  /**
   * Replaces a worker that stopped (or any worker) with a fresh one that runs WASM without
   * threads; the model must be loaded again. Optional so test ports need not implement it.
   */
  restart?(): void;
  dispose(): void;
}

/** Receives the current (never stale) answers, tagged with the lane of the request they answer. */
export type Listener = (msg: FromWorker, lane: LaneKey) => void;

/** Error code produced on the UI side when the worker itself dies or cannot start. */
export const WORKER_FAILED = "worker_failed";

/** How a cancel treats the request's later answers. */
type CancelMode = "forget" | "keep";

export class WorkerClient implements ModelPort {
  private worker!: Worker;
  private channel: BroadcastChannel | null = null;
  private readonly latest = new LatestRequests();
  private disposed = false;
  /** Why the worker stopped; null while it runs. */
  private stopped: string | null = null;

  constructor(private readonly listener: Listener) {
    this.start(true);
  }

  /** Starts a worker (threads: whether it may start tfjs-wasm's threaded build). */
  private start(threads: boolean): void {
    const channel = newChannelName();
    let worker: Worker;
    try {
      // Turbopack recognises only this literal form; the worker runs as a classic script.
      worker = new Worker(new URL("../workers/model.worker.ts", import.meta.url), {
        name: modelWorkerName({ channel, threads }),
      });
    } catch (e) {
      throw new Error(`The model worker could not start: ${errorText(e)}`);
    }
    this.worker = worker;
    this.stopped = null;
    worker.onmessage = (ev: MessageEvent<FromWorker>) => {
      if (worker === this.worker) this.receive(ev.data);
    };
    worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      const why = ev.message ? ev.message.replace(/^Uncaught /, "") : "its script did not load";
      this.fail(worker, why);
    };
    worker.onmessageerror = () => this.fail(worker, "it sent an unreadable message");
    if (typeof BroadcastChannel === "function") {
      const ch = new BroadcastChannel(channel);
      ch.onmessage = (ev: MessageEvent) => {
        const report = parseThreadReport(ev.data);
        if (report) this.fail(worker, threadFailure(report));
      };
      this.channel = ch;
    }
  }

  /** Terminates the worker and stops listening to its channel. */
  private stop(): void {
    this.worker.terminate();
    this.channel?.close();
    this.channel = null;
  }

  restart(): void {
    if (this.disposed) return;
    if (this.stopped === null) this.fail(this.worker, "it was restarted");
    this.start(false);
  }

  /** Sends a request as the latest of its lane; returns its reqId. */
  request(body: Body): number {
    // a new model invalidates everything in flight (the worker stops a running sweep itself)
    const reqId = this.latest.issue(laneOf(body));
    if (this.stopped !== null) {
      // answered after the caller has noted its reqId, as a worker's answer would be
      const why = this.stopped;
      queueMicrotask(() => this.failLatest(reqId, why));
    } else {
      this.post({ ...body, reqId } as ToWorker);
    }
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
    this.stop();
  }

  private post(msg: ToWorker): void {
    if (!this.disposed && this.stopped === null) this.worker.postMessage(msg);
  }

  private receive(msg: FromWorker): void {
    if (this.disposed || this.stopped !== null) return;
    const lane = this.latest.laneOf(msg.reqId);
    this.latest.seen(msg);
    // anything else answers a request that a newer one replaced: dropped
    if (lane) this.listener(msg, lane);
  }

  /**
   * `worker` died: it is terminated and loses its model, and every request still waiting for an
   * answer gets one worker_failed error (once, however many reports of the death arrive).
   */
  private fail(worker: Worker, why: string): void {
    if (this.disposed || this.stopped !== null || worker !== this.worker) return;
    const message = `The model worker stopped: ${why}`;
    this.stopped = message;
    this.stop();
    const waiting = this.latest.drain();
    // the model is gone: the load lane hears of it even with no load waiting
    if (!waiting.some(([lane]) => lane === "load")) this.listener(failure(-1, message), "load");
    for (const [lane, reqId] of waiting) this.listener(failure(reqId, message), lane);
  }

  /** A request made after the worker stopped: its error, while it is still the latest. */
  private failLatest(reqId: number, message: string): void {
    const lane = this.latest.laneOf(reqId);
    if (lane === null || this.disposed || this.stopped !== message) return;
    this.latest.seen(failure(reqId, message));
    this.listener(failure(reqId, message), lane);
  }
}

function failure(reqId: number, message: string): FromWorker {
  return { type: "error", reqId, code: WORKER_FAILED, message };
}
