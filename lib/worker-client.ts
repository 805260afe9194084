/**
 * The UI thread's handle on the model worker: typed requests, reqId bookkeeping, and a clear
 * error when the worker cannot start. Answers to anything but the latest request of each kind
 * (load, predict, run, attention, tokenize) are dropped here, so the store only ever sees
 * current results.
 */
import type { Edit, EditEval, PromptSet } from "./edit/types";
import { type GeneratePort, type GenerateVariant, setGeneratePort } from "./generate-channel";
import type {
  BackendName,
  FromWorker,
  GenerateSettings,
  ModelSource,
  ModelVariant,
  RunJob,
  ToWorker,
} from "./protocol";

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
   * with `ready` as usual. Optional so test ports need not implement it.
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
  dispose(): void;
}

export type RequestKind =
  | "load"
  | "predict"
  | "run"
  | "attention"
  | "tokenize"
  | "edits"
  | "evalEdit"
  | "probe"
  | "curve";

/** Receives the current (never stale) answers, tagged with the kind of request they answer. */
export type Listener = (msg: FromWorker, kind: RequestKind) => void;

/** Error code produced on the UI side when the worker itself dies or cannot start. */
export const WORKER_FAILED = "worker_failed";

export class WorkerClient implements ModelPort, GeneratePort {
  private readonly worker: Worker;
  private nextReqId = 1;
  private readonly latest: Record<RequestKind, number> = {
    load: 0,
    predict: 0,
    run: 0,
    attention: 0,
    tokenize: 0,
    edits: 0,
    evalEdit: 0,
    probe: 0,
    curve: 0,
  };
  private disposed = false;
  /** Generate requests in flight → their callers (lib/generate-channel.ts). */
  private readonly generations = new Map<number, (msg: FromWorker) => void>();

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
    setGeneratePort(this);
  }

  generate(
    prompt: string,
    settings: GenerateSettings,
    variant: GenerateVariant,
    onAnswer: (msg: FromWorker) => void,
  ): number {
    const reqId = this.nextReqId++;
    this.generations.set(reqId, onAnswer);
    this.post({ type: "generate", reqId, prompt, settings, variant });
    return reqId;
  }

  cancelGenerate(reqId: number): void {
    if (this.generations.delete(reqId)) this.post({ type: "cancel", reqId });
  }

  load(source: ModelSource, backends?: BackendName[]): number {
    const reqId = this.nextReqId++;
    this.latest.load = reqId;
    // a new model invalidates anything in flight (the worker stops a running sweep itself)
    this.latest.predict = 0;
    this.latest.run = 0;
    this.latest.attention = 0;
    this.latest.tokenize = 0;
    this.latest.edits = 0;
    this.latest.evalEdit = 0;
    this.latest.probe = 0;
    this.latest.curve = 0;
    this.post({ type: "load", reqId, source, backends });
    return reqId;
  }

  predict(prompt: string, topK: number, variant?: ModelVariant): number {
    const reqId = this.nextReqId++;
    this.latest.predict = reqId;
    this.post({ type: "predict", reqId, prompt, topK, ...(variant ? { variant } : {}) });
    return reqId;
  }

  cancelLoad(): void {
    const reqId = this.latest.load;
    if (reqId !== 0) this.post({ type: "cancel", reqId });
  }

  cancelPredict(): void {
    const reqId = this.latest.predict;
    if (reqId === 0) return;
    this.latest.predict = 0;
    this.post({ type: "cancel", reqId });
  }

  run(job: RunJob, variant?: ModelVariant): number {
    const reqId = this.nextReqId++;
    this.latest.run = reqId;
    this.post({ type: "run", reqId, job, ...(variant ? { variant } : {}) });
    return reqId;
  }

  cancelRun(): void {
    const reqId = this.latest.run;
    if (reqId !== 0) this.post({ type: "cancel", reqId });
  }

  attention(prompt: string, layer: number, head: number, variant?: ModelVariant): number {
    const reqId = this.nextReqId++;
    this.latest.attention = reqId;
    this.post({ type: "attention", reqId, prompt, layer, head, ...(variant ? { variant } : {}) });
    return reqId;
  }

  setEdits(edits: Edit[]): number {
    const reqId = this.nextReqId++;
    this.latest.edits = reqId;
    this.post({ type: "setEdits", reqId, edits });
    return reqId;
  }

  cancelEdits(): void {
    const reqId = this.latest.edits;
    if (reqId === 0) return;
    this.latest.edits = 0;
    this.post({ type: "cancel", reqId });
  }

  evalEdit(index: number): number {
    const reqId = this.nextReqId++;
    this.latest.evalEdit = reqId;
    this.post({ type: "evalEdit", reqId, index });
    return reqId;
  }

  cancelEval(): void {
    const reqId = this.latest.evalEdit;
    if (reqId === 0) return;
    this.latest.evalEdit = 0;
    this.post({ type: "cancel", reqId });
  }

  probeHeads(positive: PromptSet, negative: PromptSet): number {
    const reqId = this.nextReqId++;
    this.latest.probe = reqId;
    this.post({ type: "probeHeads", reqId, positive, negative });
    return reqId;
  }

  alphaCurve(edit: Edit, alphas: number[], ev: EditEval): number {
    const reqId = this.nextReqId++;
    this.latest.curve = reqId;
    this.post({ type: "alphaCurve", reqId, edit, alphas, eval: ev });
    return reqId;
  }

  tokenize(texts: string[]): number {
    const reqId = this.nextReqId++;
    this.latest.tokenize = reqId;
    this.post({ type: "tokenize", reqId, texts });
    return reqId;
  }

  dispose(): void {
    this.disposed = true;
    setGeneratePort(null);
    this.worker.terminate();
  }

  private post(msg: ToWorker): void {
    if (!this.disposed) this.worker.postMessage(msg);
  }

  private receive(msg: FromWorker): void {
    if (this.disposed || msg.reqId === 0) return;
    const gen = this.generations.get(msg.reqId);
    if (gen) {
      if (msg.type === "done" || msg.type === "error") this.generations.delete(msg.reqId);
      gen(msg);
      return;
    }
    const kind = (Object.keys(this.latest) as RequestKind[]).find(
      (k) => this.latest[k] === msg.reqId,
    );
    if (kind) this.listener(msg, kind);
    // anything else answers a request that a newer one replaced: drop it
  }

  /** A dead worker loses its model: report it as a load failure the UI can show. */
  private fail(message: string): void {
    if (this.disposed) return;
    const reqId = this.latest.load || -1;
    const run = this.latest.run;
    this.latest.predict = 0;
    this.latest.run = 0;
    this.latest.attention = 0;
    this.latest.tokenize = 0;
    const pending = (["edits", "evalEdit", "probe", "curve"] as const).filter(
      (k) => this.latest[k] !== 0,
    );
    const ids = pending.map((k) => this.latest[k]);
    for (const k of pending) this.latest[k] = 0;
    this.listener({ type: "error", reqId, code: WORKER_FAILED, message }, "load");
    pending.forEach((k, i) => {
      this.listener({ type: "error", reqId: ids[i], code: WORKER_FAILED, message }, k);
    });
    if (run !== 0)
      this.listener({ type: "error", reqId: run, code: WORKER_FAILED, message }, "run");
    for (const [id, answer] of this.generations) {
      answer({ type: "error", reqId: id, code: WORKER_FAILED, message });
    }
    this.generations.clear();
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
