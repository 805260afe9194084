/**
 * The worker's edit stack on the one request lifecycle (./lane.ts), one lane per request:
 * `setEdits` learns what is missing (lib/edit/learnStack, progress per edit and step) and applies
 * the stack (lib/edit/applyEdits), which every later "edited" predict / run / attention request
 * uses; `evalEdit` measures a ROME edit of it (lib/edit/evaluate.ts); `probeHeads` scores a
 * linear probe on every head; `alphaCurve` scores a steering recipe for each α; `batchEdit`
 * learns and measures batches of rewrites on top of the stack (./batch-job.ts). Like ./jobs.ts
 * it knows nothing of worker globals: the worker (and Node tests) give it `post` and the engine.
 *
 * Rules:
 * - The latest setEdits wins. An older one stops at its next optimisation step (or before its
 *   next edit) and posts nothing more; until a new stack is applied the previous one stays
 *   (also after an error or a cancel).
 * - A `cancel` of the latest setEdits stops it the same way, frees every tensor its learning
 *   made, and answers `error` coded "cancelled" (the previous stack stays applied). A cancel
 *   that arrives after the stack was applied changes nothing (its answer was already posted).
 * - A new stack makes an evaluation of the old one out of date: it stops, answering nothing.
 * - A batch run starts from the applied stack's weights and holds them: a new stack is applied
 *   (and the old one freed) only once the run has ended; the store then pushes the run's edits.
 * - The applied stack never changes under a sweep: learning waits for the sweep in flight, and
 *   a sweep asked for meanwhile waits for learning (both are side jobs of the run lane).
 * - The previous EditedModel is disposed when a new one replaces it and when a model loads
 *   (reset), so the stack holds exactly its own weight deltas.
 */
import { applyEdits, type EditedModel } from "../lib/edit/apply";
import type { MomentStore } from "../lib/edit/cov-cache";
import { cachedMoment, modelStatsId } from "../lib/edit/cov-cache";
import type { EditDataset } from "../lib/edit/dataset";
import { resolvePromptSet } from "../lib/edit/dataset";
import { evaluateRomeEdit } from "../lib/edit/evaluate";
import { probeHeads } from "../lib/edit/heads";
import { learnEdit, learnStack } from "../lib/edit/learn";
import { parseEdit } from "../lib/edit/parse";
import { romeMomentNeed, romeParams } from "../lib/edit/rome";
import { alphaCurve } from "../lib/edit/steer";
import { type Edit, isEnabled } from "../lib/edit/types";
import type { Engine } from "../lib/engine";
import { CancelledError } from "../lib/interp/cancel";
import type { LearnPhase, ModelVariant, RequestOf } from "../lib/protocol";
import { now } from "../lib/util/clock";
import { availableMethods, runBatchJob } from "./batch-job";
import type { SideJobs } from "./jobs";
import { type Job, Lane, type Post, requireEngine, WorkerError } from "./lane";

export interface EditLaneHost {
  post: Post;
  engine(): Promise<Engine | null>;
  /** The model's dataset.json (prompt sets, general text for C, CounterFact); may be absent. */
  dataset(): Promise<EditDataset | undefined>;
  /** Resolves when no sweep is in flight or queued. */
  runsIdle(): Promise<void>;
  side: SideJobs;
  /** Browser storage of C statistics (IndexedDB in the worker); absent: memory only. */
  statsStore?(): MomentStore | null;
}

interface Applied {
  engine: Engine;
  edits: Edit[];
  model: EditedModel;
}

type SetEditsMsg = RequestOf<"setEdits">;
type EvalMsg = RequestOf<"evalEdit">;
type ProbeMsg = RequestOf<"probeHeads">;
type CurveMsg = RequestOf<"alphaCurve">;
type BatchMsg = RequestOf<"batchEdit">;
type MethodsMsg = RequestOf<"batchMethods">;

/** Most α values one curve request may ask for. */
export const MAX_ALPHAS = 25;

const romeSteps = (e: Extract<Edit, { kind: "rome" }>) => romeParams(e.params).steps;

export class EditLane {
  private applied: Applied | null = null;
  /** The C cache's id of each loaded model (a fingerprint of its weights, computed once). */
  private readonly statsIds = new WeakMap<Engine, Promise<string>>();
  /** The lanes of the edit requests, by request type (the worker's table uses them). */
  readonly lanes: {
    setEdits: Lane<SetEditsMsg>;
    evalEdit: Lane<EvalMsg>;
    probeHeads: Lane<ProbeMsg>;
    alphaCurve: Lane<CurveMsg>;
    batchEdit: Lane<BatchMsg>;
    batchMethods: Lane<MethodsMsg>;
  };

  constructor(private readonly host: EditLaneHost) {
    const post = host.post;
    this.lanes = {
      setEdits: new Lane({
        post,
        run: (job) => this.learn(job),
        cancelAnswer: (reqId) => ({
          type: "error",
          reqId,
          code: "cancelled",
          message: "Learning was cancelled; the previous stack stays applied",
        }),
      }),
      evalEdit: new Lane({ post, run: (job) => this.evaluateOne(job) }),
      probeHeads: new Lane({ post, run: (job) => this.probeOne(job) }),
      alphaCurve: new Lane({ post, run: (job) => this.curveOne(job) }),
      batchEdit: new Lane({
        post,
        run: (job) => this.batchOne(job),
        cancelAnswer: (reqId) => ({
          type: "error",
          reqId,
          code: "cancelled",
          message: "The batch run was cancelled; the edits learned so far are kept",
        }),
      }),
      batchMethods: new Lane({
        post,
        run: async (job) =>
          job.post({ type: "batchMethods", reqId: job.reqId, methods: availableMethods() }),
      }),
    };
  }

  /** The edited model for a request on `engine`, or null when it should run on the plain one. */
  edited(engine: Engine, variant: ModelVariant | undefined): EditedModel | null {
    if (variant === "original") return null;
    const a = this.applied;
    return a && a.engine === engine && !a.model.isIdentity ? a.model : null;
  }

  /** The applied stack's model when it changes something (generation), else null. */
  appliedModel(): EditedModel | null {
    const a = this.applied;
    return a && !a.model.isIdentity ? a.model : null;
  }

  /** The stack applied now (complete edits). */
  stack(): Edit[] {
    return this.applied ? [...this.applied.edits] : [];
  }

  submit(msg: SetEditsMsg): void {
    this.lanes.evalEdit.abortAll(); // an evaluation of the old stack is out of date
    this.lanes.setEdits.submit(msg);
  }

  evaluate(msg: EvalMsg): void {
    this.lanes.evalEdit.submit(msg);
  }

  probe(msg: ProbeMsg): void {
    this.lanes.probeHeads.submit(msg);
  }

  curve(msg: CurveMsg): void {
    this.lanes.alphaCurve.submit(msg);
  }

  /** Cancels setEdits, evalEdit or batchEdit `reqId` if it is the latest; true if known. */
  cancel(reqId: number): boolean {
    return (
      this.lanes.setEdits.cancel(reqId) ||
      this.lanes.evalEdit.cancel(reqId) ||
      this.lanes.batchEdit.cancel(reqId)
    );
  }

  /** A new model is loading: forget the stack and free its weights. */
  reset(): void {
    for (const lane of Object.values(this.lanes)) lane.abortAll();
    this.applied?.model.dispose();
    this.applied = null;
  }

  private async learn(job: Job<SetEditsMsg>): Promise<void> {
    const { reqId, msg, post } = job;
    // learning checks it before every edit and optimisation step
    const signal = {
      get cancelled() {
        return job.signal.aborted;
      },
    };
    if (!Array.isArray(msg.edits)) {
      throw new WorkerError("bad_request", "setEdits needs a list of edits");
    }
    const edits = msg.edits.map((e, i) => parseEdit(e, i));
    const engine = requireEngine(await this.host.engine());
    await this.host.runsIdle();
    if (job.signal.aborted) throw new CancelledError();
    const progress = (
      phase: LearnPhase,
      index: number,
      done: number,
      total: number,
      step?: { loss: number; pNew?: number },
    ) => post({ type: "progress", request: "setEdits", reqId, phase, index, done, total, ...step });
    const work = async () => {
      const dataset = edits.some((e) => isEnabled(e)) ? await this.host.dataset() : undefined;
      const t0 = now();
      // ROME's C from browser storage when it holds it (else computed here and stored)
      for (const [index, e] of edits.entries()) {
        const need =
          e.kind === "rome" && isEnabled(e)
            ? romeMomentNeed(e, engine.model.config, dataset)
            : null;
        const store = this.host.statsStore?.() ?? null;
        if (!need || !store) continue;
        await cachedMoment({
          model: engine.model,
          tok: engine.tokenizer,
          ...need,
          modelId: await this.statsIdOf(engine),
          store,
          watch: { signal, onProgress: (d, n) => progress("statistics", index, d, n) },
        });
      }
      const { edits: learned } = await learnStack(engine.model, engine.tokenizer, edits, {
        dataset,
        signal,
        // before the first step: ROME's prompts and fixed pass, LoRA's and LoReFT's examples
        onEdit: (index, phase, e) =>
          phase === "start" && progress("prepare", index, 0, e.kind === "rome" ? romeSteps(e) : 1),
        onRomePrepare: (index, what, done, total) => progress(what, index, done, total),
        onRomeStep: (index, s) => {
          progress("learn", index, s.step + 1, s.steps, { loss: s.loss, pNew: s.p_new });
          // after the last step ROME still solves for its update (covariance of keys)
          const e = edits[index];
          const early = e?.kind === "rome" && s.loss < romeParams(e.params).early_stop;
          if (s.step + 1 === s.steps || early) progress("apply", index, s.step + 1, s.steps);
        },
        onTrainStep: (index, s) => {
          progress("learn", index, s.step, s.total, { loss: s.loss });
          if (s.step === s.total) progress("apply", index, s.step, s.total);
        },
      });
      if (job.signal.aborted) throw new CancelledError();
      // an evaluation or α curve reading the old stack finishes (or stops) before it is freed
      await this.lanes.evalEdit.idle();
      await this.lanes.alphaCurve.idle();
      await this.lanes.batchEdit.idle();
      if (job.signal.aborted) throw new CancelledError();
      const model = applyEdits(engine.model, learned);
      const old = this.applied;
      this.applied = { engine, edits: learned, model };
      old?.model.dispose();
      post({ type: "setEdits", reqId, edits: learned });
      post({ type: "done", reqId, ms: now() - t0, tensorsLeft: engine.tensorsInUse() });
    };
    await this.host.side.track(work());
  }

  private async batchOne(job: Job<BatchMsg>): Promise<void> {
    const engine = requireEngine(await this.host.engine());
    await this.host.runsIdle();
    if (job.signal.aborted) throw new CancelledError();
    const a = this.applied?.engine === engine ? this.applied : null;
    if (a && a.model.plan.maps.length > 0) {
      throw new WorkerError(
        "bad_request",
        "A batch run starts from the stack's weight edits: switch off its steering, LoReFT and other intervention edits first",
      );
    }
    const dataset = await this.host.dataset();
    const modelId = () => this.statsIdOf(engine);
    await this.host.side.track(
      runBatchJob(job, {
        engine,
        start: a && !a.model.isIdentity ? a.model.weights : engine.model,
        dataset,
        modelId,
        store: this.host.statsStore?.() ?? null,
      }),
    );
  }

  /** The model's id in the browser's store of C (modelStatsId), computed once per engine. */
  private statsIdOf(engine: Engine): Promise<string> {
    let id = this.statsIds.get(engine);
    if (!id) {
      id = modelStatsId(engine.model, engine.info.name);
      this.statsIds.set(engine, id);
    }
    return id;
  }

  private async evaluateOne(job: Job<EvalMsg>): Promise<void> {
    const { reqId, msg, post } = job;
    const engine = requireEngine(await this.host.engine());
    const a = this.applied;
    const edit = a?.engine === engine ? a.edits[msg.index] : undefined;
    if (!a || !edit) {
      throw new WorkerError("bad_request", `The applied stack has no edit ${msg.index + 1}`);
    }
    if (edit.kind !== "rome") {
      throw new WorkerError("bad_request", "Only ROME edits have CounterFact measures");
    }
    if (!isEnabled(edit)) throw new WorkerError("bad_request", "This edit is switched off");
    const t0 = now();
    post({ type: "progress", request: "evalEdit", reqId, phase: "case", done: 0, total: 1 });
    const dataset = await this.host.dataset();
    const result = await this.host.side.track(
      evaluateRomeEdit(engine, a.model, edit, msg.index, {
        dataset,
        cancelled: () => job.signal.aborted,
        onProgress: (phase, done, total) =>
          post({ type: "progress", request: "evalEdit", reqId, phase, done, total }),
      }),
    );
    post({ type: "evalEdit", reqId, result });
    post({ type: "done", reqId, ms: now() - t0, tensorsLeft: engine.tensorsInUse() });
  }

  private async probeOne(job: Job<ProbeMsg>): Promise<void> {
    const { reqId, msg, post } = job;
    const engine = requireEngine(await this.host.engine());
    const dataset = await this.host.dataset();
    const pos = resolvePromptSet(msg.positive, dataset);
    const neg = resolvePromptSet(msg.negative, dataset);
    const r = await this.host.side.track(probeHeads(engine.model, engine.tokenizer, pos, neg));
    post({
      type: "probeHeads",
      reqId,
      accuracy: r.accuracy,
      nPositive: r.n_positive,
      nNegative: r.n_negative,
    });
  }

  private async curveOne(job: Job<CurveMsg>): Promise<void> {
    const { reqId, msg, post } = job;
    const engine = requireEngine(await this.host.engine());
    const alphas = msg.alphas;
    if (
      !Array.isArray(alphas) ||
      alphas.length === 0 ||
      alphas.length > MAX_ALPHAS ||
      !alphas.every((a) => typeof a === "number" && Number.isFinite(a))
    ) {
      throw new WorkerError("bad_request", `alphas must be 1 to ${MAX_ALPHAS} finite numbers`);
    }
    const edit = parseEdit(msg.edit);
    if (edit.kind !== "head_steer" && edit.kind !== "resid_steer") {
      throw new WorkerError("bad_request", "An α curve needs a steering edit (head or residual)");
    }
    const dataset = await this.host.dataset();
    // on top of the applied stack, as the edit would be added (setEdits waits for this
    // request before it frees that stack)
    const a = this.applied?.engine === engine ? this.applied : null;
    const model = a && !a.model.isIdentity ? a.model : engine.model;
    const points = await this.host.side.track(
      (async () => {
        const learned = await learnEdit(model, engine.tokenizer, edit, { dataset });
        return alphaCurve({
          model,
          tok: engine.tokenizer,
          edit: learned as typeof edit,
          alphas,
          ev: msg.eval,
          dataset,
        });
      })(),
    );
    post({ type: "alphaCurve", reqId, points });
  }
}
