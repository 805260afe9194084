/**
 * The UI thread's handle on the model worker: typed requests, reqId bookkeeping, and a clear
 * error when the worker cannot start. Answers to anything but the latest request of each kind
 * (load, predict) are dropped here, so the store only ever sees current results.
 */
import type { BackendName, FromWorker, ModelSource, ToWorker } from "./protocol";

/** What the store needs from a model runtime; the worker client is one, tests can fake one. */
export interface ModelPort {
  load(source: ModelSource, backends?: BackendName[]): number;
  predict(prompt: string, topK: number): number;
  /** Forgets the latest prediction request (its answer will be dropped) and tells the worker. */
  cancelPredict(): void;
  dispose(): void;
}

export type RequestKind = "load" | "predict";

/** Receives the current (never stale) answers, tagged with the kind of request they answer. */
export type Listener = (msg: FromWorker, kind: RequestKind) => void;

/** Error code produced on the UI side when the worker itself dies or cannot start. */
export const WORKER_FAILED = "worker_failed";

export class WorkerClient implements ModelPort {
  private readonly worker: Worker;
  private nextReqId = 1;
  private readonly latest: Record<RequestKind, number> = { load: 0, predict: 0 };
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

  load(source: ModelSource, backends?: BackendName[]): number {
    const reqId = this.nextReqId++;
    this.latest.load = reqId;
    this.latest.predict = 0; // a new model invalidates any prediction in flight
    this.post({ type: "load", reqId, source, backends });
    return reqId;
  }

  predict(prompt: string, topK: number): number {
    const reqId = this.nextReqId++;
    this.latest.predict = reqId;
    this.post({ type: "predict", reqId, prompt, topK });
    return reqId;
  }

  cancelPredict(): void {
    const reqId = this.latest.predict;
    if (reqId === 0) return;
    this.latest.predict = 0;
    this.post({ type: "cancel", reqId });
  }

  dispose(): void {
    this.disposed = true;
    this.worker.terminate();
  }

  private post(msg: ToWorker): void {
    if (!this.disposed) this.worker.postMessage(msg);
  }

  private receive(msg: FromWorker): void {
    if (this.disposed || msg.reqId === 0) return;
    if (msg.reqId === this.latest.load) this.listener(msg, "load");
    else if (msg.reqId === this.latest.predict) this.listener(msg, "predict");
    // anything else answers a request that a newer one replaced: drop it
  }

  /** A dead worker loses its model: report it as a load failure the UI can show. */
  private fail(message: string): void {
    if (this.disposed) return;
    const reqId = this.latest.load || -1;
    this.latest.predict = 0;
    this.listener({ type: "error", reqId, code: WORKER_FAILED, message }, "load");
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
