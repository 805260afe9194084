/**
 * The worker's edit stack: `setEdits` learns what is missing (lib/edit/learnStack, progress
 * phase "learn" with the loss of each step) and applies the stack (lib/edit/applyEdits), which
 * every later "edited" predict / run / attention request uses; `evalEdit` measures a ROME edit
 * of it; `probeHeads` scores a linear probe on every head. Like ./jobs.ts it knows nothing of
 * worker globals: the worker (and Node tests) give it `post` and the engine.
 *
 * Rules:
 * - The latest setEdits wins. An older one stops at its next optimisation step (or before its
 *   next edit) and posts nothing more; until a new stack is applied the previous one stays
 *   (also after an error or a cancel).
 * - A `cancel` of the latest setEdits stops it the same way, frees every tensor its learning
 *   made, and answers `error` coded "cancelled" (the previous stack stays applied). A cancel
 *   that arrives after the stack was applied changes nothing (its answer was already posted).
 * - The applied stack never changes under a sweep: learning waits for the sweep in flight, and
 *   a sweep asked for meanwhile waits for learning (both are side jobs of the run lane).
 * - The previous EditedModel is disposed when a new one replaces it and when a model loads
 *   (reset), so the stack holds exactly its own weight deltas.
 */
import { applyEdits, type EditedModel } from "../lib/edit/apply";
import { isLearningCancelled } from "../lib/edit/cancel";
import type { EditDataset } from "../lib/edit/dataset";
import { resolvePromptSet } from "../lib/edit/dataset";
import { probeHeads } from "../lib/edit/heads";
import { learnEdit, learnStack } from "../lib/edit/learn";
import { parseEdit } from "../lib/edit/parse";
import { alphaCurve } from "../lib/edit/steer";
import { type Edit, isEnabled } from "../lib/edit/types";
import type { Engine } from "../lib/engine";
import { CancelledError } from "../lib/interp/cancel";
import type { ModelVariant, ToWorker } from "../lib/protocol";
import { evaluateRomeEdit } from "./edit-eval";
import { errorMessage, type Post, type SideJobs } from "./jobs";

export interface EditLaneHost {
  post: Post;
  engine(): Promise<Engine | null>;
  /** The model's dataset.json (prompt sets, general text for C, CounterFact); may be absent. */
  dataset(): Promise<EditDataset | undefined>;
  /** Resolves when no sweep is in flight or queued. */
  runsIdle(): Promise<void>;
  side: SideJobs;
}

interface Applied {
  engine: Engine;
  edits: Edit[];
  model: EditedModel;
}

type SetEditsMsg = Extract<ToWorker, { type: "setEdits" }>;
type EvalMsg = Extract<ToWorker, { type: "evalEdit" }>;
type ProbeMsg = Extract<ToWorker, { type: "probeHeads" }>;
type CurveMsg = Extract<ToWorker, { type: "alphaCurve" }>;

/** Most α values one curve request may ask for. */
export const MAX_ALPHAS = 25;

class LaneError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

export class EditLane {
  private applied: Applied | null = null;
  private latest = 0;
  /** The setEdits request cancelled last (answered "cancelled" once it has stopped). */
  private cancelledEdits = 0;
  private chain: Promise<void> = Promise.resolve();
  private latestEval = 0;
  private evalBusy: Promise<unknown> = Promise.resolve();
  private latestProbe = 0;
  private latestCurve = 0;
  private curveBusy: Promise<unknown> = Promise.resolve();

  constructor(private readonly host: EditLaneHost) {}

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
    this.latest = msg.reqId;
    this.latestEval = 0; // an evaluation of the old stack is out of date
    this.chain = this.chain.then(() => this.learn(msg));
  }

  evaluate(msg: EvalMsg): void {
    this.latestEval = msg.reqId;
    const run = this.evaluateOne(msg);
    this.evalBusy = run;
  }

  probe(msg: ProbeMsg): void {
    this.latestProbe = msg.reqId;
    void this.probeOne(msg);
  }

  curve(msg: CurveMsg): void {
    this.latestCurve = msg.reqId;
    this.curveBusy = this.curveOne(msg);
  }

  /** Cancels setEdits or evalEdit `reqId` if it is the latest; true if this lane knew it. */
  cancel(reqId: number): boolean {
    if (reqId === 0) return false;
    if (reqId === this.latest) {
      this.latest = 0;
      this.cancelledEdits = reqId;
      return true;
    }
    if (reqId === this.latestEval) {
      this.latestEval = 0;
      return true;
    }
    return false;
  }

  /** A new model is loading: forget the stack and free its weights. */
  reset(): void {
    this.latest = 0;
    this.latestEval = 0;
    this.latestProbe = 0;
    this.latestCurve = 0;
    this.applied?.model.dispose();
    this.applied = null;
  }

  private async learn(msg: SetEditsMsg): Promise<void> {
    const { reqId } = msg;
    const live = () => reqId === this.latest;
    const post: Post = (m, t) => {
      if (live()) this.host.post(m, t);
    };
    // learning checks it before every edit and optimisation step
    const signal = {
      get cancelled() {
        return !live();
      },
    };
    try {
      if (!live()) throw new CancelledError();
      if (!Array.isArray(msg.edits)) {
        throw new LaneError("bad_request", "setEdits needs a list of edits");
      }
      const edits = msg.edits.map((e, i) => parseEdit(e, i));
      const engine = await this.host.engine();
      if (!engine) throw new LaneError("no_model", "No model is loaded");
      await this.host.runsIdle();
      if (!live()) throw new CancelledError();
      const work = (async () => {
        const dataset = edits.some((e) => isEnabled(e)) ? await this.host.dataset() : undefined;
        const t0 = now();
        const { edits: learned } = await learnStack(engine.model, engine.tokenizer, edits, {
          dataset,
          signal,
          onEdit: (index, phase) => {
            if (phase === "start") {
              post({ type: "progress", reqId, phase: "learn", index, done: 0, total: 1 });
            }
          },
          onRomeStep: (index, s) =>
            post({
              type: "progress",
              reqId,
              phase: "learn",
              index,
              done: s.step + 1,
              total: s.steps,
              loss: s.loss,
              pNew: s.p_new,
            }),
          onTrainStep: (index, s) =>
            post({
              type: "progress",
              reqId,
              phase: "learn",
              index,
              done: s.step,
              total: s.total,
              loss: s.loss,
            }),
        });
        if (!live()) throw new CancelledError();
        // an evaluation or α curve reading the old stack finishes (or stops) before it is freed
        await this.evalBusy.catch(() => undefined);
        await this.curveBusy.catch(() => undefined);
        if (!live()) throw new CancelledError();
        const model = applyEdits(engine.model, learned);
        const old = this.applied;
        this.applied = { engine, edits: learned, model };
        old?.model.dispose();
        post({ type: "edits", reqId, edits: learned });
        post({ type: "done", reqId, ms: now() - t0, tensorsLeft: engine.tensorsInUse() });
      })();
      await this.host.side.track(work);
    } catch (e) {
      if (reqId === this.cancelledEdits) {
        // a cancel (not a newer stack) stopped it: acknowledged once it has stopped
        this.cancelledEdits = 0;
        this.host.post({
          type: "error",
          reqId,
          code: "cancelled",
          message: "Learning was cancelled; the previous stack stays applied",
        });
      } else if (!(e instanceof CancelledError) && !isLearningCancelled(e)) {
        post(errorMessage(reqId, e));
      }
    }
  }

  private async evaluateOne(msg: EvalMsg): Promise<void> {
    const { reqId } = msg;
    const live = () => reqId === this.latestEval;
    const post: Post = (m, t) => {
      if (live()) this.host.post(m, t);
    };
    try {
      const engine = await this.host.engine();
      if (!engine) throw new LaneError("no_model", "No model is loaded");
      const a = this.applied;
      const edit = a?.engine === engine ? a.edits[msg.index] : undefined;
      if (!a || !edit) {
        throw new LaneError("bad_request", `The applied stack has no edit ${msg.index + 1}`);
      }
      if (edit.kind !== "rome") {
        throw new LaneError("bad_request", "Only ROME edits have CounterFact measures");
      }
      if (!isEnabled(edit)) throw new LaneError("bad_request", "This edit is switched off");
      const t0 = now();
      const dataset = await this.host.dataset();
      const result = await this.host.side.track(
        evaluateRomeEdit(engine, a.model, edit, msg.index, {
          dataset,
          cancelled: () => !live(),
          onProgress: (phase, done, total) => post({ type: "progress", reqId, phase, done, total }),
        }),
      );
      post({ type: "editEval", reqId, result });
      post({ type: "done", reqId, ms: now() - t0, tensorsLeft: engine.tensorsInUse() });
    } catch (e) {
      if (!(e instanceof CancelledError)) post(errorMessage(reqId, e));
    }
  }

  private async probeOne(msg: ProbeMsg): Promise<void> {
    const { reqId } = msg;
    const post: Post = (m, t) => {
      if (reqId === this.latestProbe) this.host.post(m, t);
    };
    try {
      const engine = await this.host.engine();
      if (!engine) throw new LaneError("no_model", "No model is loaded");
      const dataset = await this.host.dataset();
      const pos = resolvePromptSet(msg.positive, dataset);
      const neg = resolvePromptSet(msg.negative, dataset);
      const r = await this.host.side.track(probeHeads(engine.model, engine.tokenizer, pos, neg));
      post({
        type: "probe",
        reqId,
        accuracy: r.accuracy,
        nPositive: r.n_positive,
        nNegative: r.n_negative,
      });
    } catch (e) {
      post(errorMessage(reqId, e));
    }
  }

  private async curveOne(msg: CurveMsg): Promise<void> {
    const { reqId } = msg;
    const post: Post = (m, t) => {
      if (reqId === this.latestCurve) this.host.post(m, t);
    };
    try {
      const engine = await this.host.engine();
      if (!engine) throw new LaneError("no_model", "No model is loaded");
      const alphas = msg.alphas;
      if (
        !Array.isArray(alphas) ||
        alphas.length === 0 ||
        alphas.length > MAX_ALPHAS ||
        !alphas.every((a) => typeof a === "number" && Number.isFinite(a))
      ) {
        throw new LaneError("bad_request", `alphas must be 1 to ${MAX_ALPHAS} finite numbers`);
      }
      const edit = parseEdit(msg.edit);
      if (edit.kind !== "head_steer" && edit.kind !== "resid_steer") {
        throw new LaneError("bad_request", "An α curve needs a steering edit (head or residual)");
      }
      const dataset = await this.host.dataset();
      // on top of the applied stack, as the edit would be added (setEdits waits for this
      // request before it frees that stack)
      const a = this.applied?.engine === engine ? this.applied : null;
      const model = a && !a.model.isIdentity ? a.model : engine.model;
      const points = await this.host.side.track(
        (async () => {
          const learned = await learnEdit(model, engine.tokenizer, edit, { dataset });
          return alphaCurve(
            model,
            engine.tokenizer,
            learned as typeof edit,
            alphas,
            msg.eval,
            dataset,
          );
        })(),
      );
      post({ type: "alphaCurve", reqId, points });
    } catch (e) {
      post(errorMessage(reqId, e));
    }
  }
}
