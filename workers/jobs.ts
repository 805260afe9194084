/**
 * The worker's sweep lane: turns `run` requests (trace, patch, dataset) into lib/interp calls and
 * their callbacks into FromWorker messages. No DOM, no worker globals: the model worker gives it
 * a `post` function, and Node tests give it a fake one (test/worker-jobs.test.ts).
 *
 *   const lane = new RunLane({ post, engine: () => enginePromise, quiet: () => sideJobsSettled() });
 *   lane.submit({ type: "run", reqId: 7, job: { type: "trace", spec, kinds: ["hidden"] } });
 *   lane.cancel(7);          // stops between passes; answers `done` with cancelled: true
 *
 * Rules:
 * - One run at a time; the latest wins. A new run aborts the one in flight, which stops at its
 *   next pass and posts nothing more; the new one starts when it has stopped (never two sweeps
 *   on the GPU at once).
 * - Messages of a run, in order: baseline (per kind), rows (transferred), progress (throttled,
 *   with an ETA), then done (ms, evaluations, tensorsLeft) or error. A cancelled run answers
 *   done with cancelled: true, so the UI always learns the tensor balance.
 * - tensorsLeft = tensors alive after the run minus before it, both counted while no side
 *   request (predict, attention) holds tensors, so it is 0 unless the sweep leaked.
 * - Cancellation: lib/interp checks the AbortSignal before every pass, after yielding a
 *   macrotask (MessageChannel in a worker), so the `cancel` message is received meanwhile even on
 *   backends whose `await tensor.data()` never yields to the event loop (wasm, cpu).
 */
import type { EditedModel } from "../lib/edit/apply";
import type { Engine } from "../lib/engine";
import { CancelledError } from "../lib/interp/cancel";
import { type KnownFact, parseKnownFacts, runTraceDataset } from "../lib/interp/dataset";
import { runPatch } from "../lib/interp/patch";
import { TRACE_KINDS, TraceError, type TraceKind } from "../lib/interp/spec";
import type { Progress } from "../lib/interp/sweep";
import { promptIds, singleTokenId, type TraceHost } from "../lib/interp/tokens";
import { prepareTrace, runPreparedTrace } from "../lib/interp/trace";
import type {
  DatasetJob,
  FromWorker,
  ModelVariant,
  PatchJob,
  StageSummary,
  ToWorker,
  TraceJob,
} from "../lib/protocol";
import { QueryError, topIds } from "./model-queries";

export type Post = (msg: FromWorker, transfer?: Transferable[]) => void;

export interface LaneHost {
  post: Post;
  /** The engine of the latest load; null when none is loaded (or it failed). */
  engine(): Promise<Engine | null>;
  /** Resolves once no side request (predict, attention) holds tensors. */
  quiet(): Promise<void>;
  /**
   * The edited model a run of this variant uses (./edit-lane.ts), or null for the plain model.
   * Dataset runs always use the plain model (their prompts differ in length).
   */
  edited?(engine: Engine, variant: ModelVariant | undefined): EditedModel | null;
  /** Known facts for a dataset job that brings none (the bundled model's dataset.json). */
  facts?(): Promise<KnownFact[]>;
  /** Milliseconds between progress messages (default 100). */
  progressIntervalMs?: number;
  now?(): number;
}

type RunMsg = Extract<ToWorker, { type: "run" }>;

/** `{code, message}` for any thrown value: errors with a string code keep it, others are internal. */
export function errorMessage(reqId: number, e: unknown): FromWorker {
  const code =
    typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string"
      ? (e as { code: string }).code
      : "internal";
  const text = e instanceof Error ? e.message : String(e);
  return { type: "error", reqId, code, message: text.split("\n")[0] || "Unknown error" };
}

/**
 * Combined progress over several stages (trace kinds) run one after another. A stage's total is
 * known once it has planned its cells; until then (and for the stages after it) the last
 * stage's total stands in, so the fraction does not jump back at each new kind.
 */
class StagedProgress {
  private finished = 0;
  private finishedTotal = 0;
  private lastTotal = 0;
  private current: Progress = { phase: "clean", done: 0, total: 0 };
  constructor(private readonly stages: number) {}
  update(p: Progress): { done: number; total: number } {
    this.current = p;
    return this.totals();
  }
  endStage(): void {
    this.finishedTotal += this.current.total;
    this.lastTotal = this.current.total;
    this.finished += 1;
    this.current = { phase: "clean", done: 0, total: 0 };
  }
  totals(): { done: number; total: number } {
    const left = this.stages - this.finished;
    if (left <= 0) return { done: this.finishedTotal, total: this.finishedTotal };
    const planned = this.current.phase === "clean" ? 0 : this.current.total;
    const estimate = Math.max(planned, this.lastTotal, this.current.total);
    return {
      done: this.finishedTotal + this.current.done,
      total: this.finishedTotal + estimate * left,
    };
  }
}

export class RunLane {
  private latest = 0;
  private pending: RunMsg | null = null;
  private current: { reqId: number; abort: AbortController } | null = null;
  private busy: Promise<void> | null = null;
  private readonly now: () => number;

  constructor(private readonly host: LaneHost) {
    this.now =
      host.now ?? (() => (typeof performance !== "undefined" ? performance.now() : Date.now()));
  }

  /** Starts `msg` once the run in flight (if any) has stopped; aborts that run. */
  submit(msg: RunMsg): void {
    this.latest = msg.reqId;
    this.current?.abort.abort();
    this.pending = msg; // replaces a queued run: only the newest is worth computing
    this.kick();
  }

  /** Starts draining unless a drain is running; one submitted as a drain ends still runs. */
  private kick(): void {
    if (this.busy) return;
    this.busy = this.drain().finally(() => {
      this.busy = null;
      if (this.pending) this.kick();
    });
  }

  /** Cancels run `reqId` if it is the latest; true if this lane knew it. */
  cancel(reqId: number): boolean {
    if (reqId === 0 || reqId !== this.latest) return false;
    if (this.current?.reqId === reqId) {
      this.current.abort.abort(); // the run answers done { cancelled } when it stops
    } else if (this.pending?.reqId === reqId) {
      this.pending = null;
      this.host.post({ type: "done", reqId, ms: 0, tensorsLeft: 0, cancelled: true });
    }
    return true;
  }

  /** Aborts everything silently (a new model is loading). */
  abortAll(): void {
    this.latest = 0;
    this.pending = null;
    this.current?.abort.abort();
  }

  /** Resolves when no run is in flight or queued. */
  async idle(): Promise<void> {
    while (this.busy) await this.busy;
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const msg = this.pending;
      this.pending = null;
      const abort = new AbortController();
      this.current = { reqId: msg.reqId, abort };
      try {
        await this.runOne(msg, abort.signal);
      } finally {
        this.current = null;
      }
    }
  }

  private isLatest(reqId: number): boolean {
    return reqId === this.latest;
  }

  private async runOne(msg: RunMsg, signal: AbortSignal): Promise<void> {
    const { reqId, job } = msg;
    let edited: EditedModel | null = null;
    const post: Post = (m, transfer) => {
      if (this.isLatest(reqId)) this.host.post(m, transfer);
    };
    let engine: Engine | null;
    try {
      engine = await this.host.engine();
    } catch {
      engine = null;
    }
    if (!this.isLatest(reqId)) return;
    if (!engine) {
      post({ type: "error", reqId, code: "no_model", message: "No model is loaded" });
      return;
    }
    await this.host.quiet();
    // read after quiet: a stack being learned when the run was asked for is applied by now
    edited = this.host.edited?.(engine, msg.variant) ?? null;
    const before = engine.tensorsInUse();
    const started = this.now();
    const stats = { evaluations: 0, stages: {} as Record<string, StageSummary> };
    const finish = async (cancelled: boolean) => {
      await this.host.quiet();
      const tensorsLeft = engine.tensorsInUse() - before;
      post({
        type: "done",
        reqId,
        ms: this.now() - started,
        tensorsLeft,
        evaluations: stats.evaluations,
        stages: stats.stages,
        ...(cancelled ? { cancelled: true } : {}),
      });
    };
    try {
      if (signal.aborted) throw new CancelledError();
      switch (job.type) {
        case "trace":
          await this.trace(reqId, job, engine, signal, post, stats, started, edited);
          break;
        case "patch":
          await this.patch(reqId, job, engine, signal, post, stats, started, edited);
          break;
        case "dataset":
          await this.dataset(reqId, job, engine, signal, post, stats, started);
          break;
        default:
          throw new QueryError(
            "bad_request",
            `Unknown job type ${String((job as { type?: unknown }).type)}`,
          );
      }
      await finish(false);
    } catch (e) {
      if (e instanceof CancelledError || (signal.aborted && !(e instanceof TraceError))) {
        await finish(true);
      } else {
        post(errorMessage(reqId, e));
      }
    }
  }

  /** Progress poster: throttled, with an ETA from the evaluations done so far. */
  private progress(reqId: number, post: Post, started: number) {
    const interval = this.host.progressIntervalMs ?? 100;
    let last = Number.NEGATIVE_INFINITY;
    return (phase: string, kind: string, done: number, total: number, force = false) => {
      const t = this.now();
      if (!force && done < total && t - last < interval) return;
      last = t;
      const elapsed = t - started;
      const etaMs = done > 0 && total >= done ? (elapsed / done) * (total - done) : undefined;
      post({
        type: "progress",
        reqId,
        phase,
        kind,
        done,
        total,
        ...(etaMs !== undefined ? { etaMs } : {}),
      });
    };
  }

  private async trace(
    reqId: number,
    job: TraceJob,
    engine: Engine,
    signal: AbortSignal,
    post: Post,
    stats: { evaluations: number; stages: Record<string, StageSummary> },
    started: number,
    edited: EditedModel | null = null,
  ): Promise<void> {
    const kinds = checkKinds(job.kinds);
    const staged = new StagedProgress(kinds.length);
    const progress = this.progress(reqId, post, started);
    for (const kind of kinds) {
      const t0 = this.now();
      const prep = await prepareTrace(engine, { ...job.spec, kind });
      // every pass of a trace has the prompt's length plus the target's continuation
      const T = prep.ids.length + (prep.target ? prep.target.length - 1 : 0);
      const r = await runPreparedTrace(on(engine, edited, T), prep, {
        signal,
        onBaseline: (b) =>
          post({
            type: "baseline",
            reqId,
            kind,
            baseline: {
              job: "trace",
              kind,
              ids: b.input_ids,
              tokens: b.input_tokens,
              subject: b.subject_range,
              answer: b.answer,
              high: b.high_score,
              low: b.low_score,
              noiseSigma: b.noise_sigma,
              window: b.window,
              nLayer: b.n_layer,
              samples: prep.opts.samples,
              corruption: prep.opts.corruption.type,
              ...(prep.opts.corruption.type === "prompt"
                ? { corruptTokens: prep.corruptIds.map((id) => engine.tokenText(id)) }
                : {}),
            },
          }),
        onRow: ({ t, values }) =>
          post(
            {
              type: "rows",
              reqId,
              kind,
              rows: [t],
              values,
              width: values.length,
            },
            [values.buffer],
          ),
        onProgress: (p) => {
          const { done, total } = staged.update(p);
          progress(p.phase, kind, done, total, p.phase !== "sweep");
        },
      });
      staged.endStage();
      stats.evaluations += r.evaluations;
      stats.stages[kind] = { evaluations: r.evaluations, ms: this.now() - t0 };
    }
    const { done, total } = staged.totals();
    progress("done", kinds[kinds.length - 1], done, total, true);
  }

  private async patch(
    reqId: number,
    job: PatchJob,
    engine: Engine,
    signal: AbortSignal,
    post: Post,
    stats: { evaluations: number; stages: Record<string, StageSummary> },
    started: number,
    edited: EditedModel | null = null,
  ): Promise<void> {
    const spec = job.spec;
    if (spec === null || typeof spec !== "object") {
      throw new TraceError("bad_spec", "a patch spec must be an object");
    }
    const cleanIds = promptIds(engine, spec.clean, "clean prompt");
    const corruptIds = promptIds(engine, spec.corrupt, "corrupted prompt");
    const host = on(engine, edited, cleanIds.length);
    const blank = (v: unknown) => v === undefined || (typeof v === "string" && v.trim() === "");
    // Defaults: the clean prompt's top-1 and the corrupted prompt's top-1 (else its second).
    const target = blank(spec.target)
      ? (await topIds(host, cleanIds, 1))[0]
      : singleTokenId(engine, cleanIds, spec.target!, "target");
    let foil: number;
    if (blank(spec.foil)) {
      const top = await topIds(host, corruptIds, 2);
      foil = top[0] !== target ? top[0] : top[1];
    } else {
      foil = singleTokenId(engine, cleanIds, spec.foil!, "foil");
    }
    const { nLayer, nHead } = engine.model.config;
    const progress = this.progress(reqId, post, started);
    const site = spec.site;
    const t0 = this.now();
    const r = await runPatch(
      host,
      { ...spec, target, foil },
      {
        signal,
        onBaseline: (b) =>
          post({
            type: "baseline",
            reqId,
            kind: site,
            baseline: {
              job: "patch",
              site,
              metric: spec.metric ?? "logit_diff_normalized",
              cleanIds,
              cleanTokens: cleanIds.map((id) => engine.tokenText(id)),
              corruptTokens: corruptIds.map((id) => engine.tokenText(id)),
              target: { id: target, token: engine.tokenText(target) },
              foil: { id: foil, token: engine.tokenText(foil) },
              cleanLogitDiff: b.clean_logit_diff,
              corruptLogitDiff: b.corrupt_logit_diff,
              cleanProb: b.clean_prob,
              corruptProb: b.corrupt_prob,
              nLayer,
              nHead,
            },
          }),
        onRow: ({ index, values }) =>
          post({ type: "rows", reqId, kind: site, rows: [index], values, width: values.length }, [
            values.buffer,
          ]),
        onProgress: (p) => progress(p.phase, site, p.done, p.total, p.phase !== "sweep"),
      },
    );
    stats.evaluations += r.evaluations;
    stats.stages[site] = { evaluations: r.evaluations, ms: this.now() - t0 };
  }

  private async dataset(
    reqId: number,
    job: DatasetJob,
    engine: Engine,
    signal: AbortSignal,
    post: Post,
    stats: { evaluations: number; stages: Record<string, StageSummary> },
    started: number,
  ): Promise<void> {
    let facts: KnownFact[];
    if (job.facts !== undefined) facts = parseKnownFacts(job.facts, "the dropped file");
    else if (this.host.facts) facts = await this.host.facts();
    else throw new TraceError("bad_spec", "no dataset: this model has no dataset.json");
    const kinds = job.kinds ? checkKinds(job.kinds) : [...TRACE_KINDS];
    const progress = this.progress(reqId, post, started);
    const total = job.limit !== undefined ? Math.min(job.limit, facts.length) : facts.length;
    progress("dataset", "dataset", 0, total, true);
    const r = await runTraceDataset(engine, facts, {
      kinds,
      samples: job.samples,
      noise: job.noise,
      seed: job.seed,
      window: job.window,
      strategy: job.strategy,
      limit: job.limit,
      signal,
      onFact: (done, n) => progress("dataset", "dataset", done, n, done === n),
    });
    stats.evaluations += r.evaluations;
    post({ type: "dataset", reqId, result: r });
  }
}

/** The host a sweep of passes of T positions runs on: the engine, or its edited view. */
function on(engine: Engine, edited: EditedModel | null, T: number): TraceHost {
  return edited ? { model: edited.view(T), tokenizer: engine.tokenizer } : engine;
}

function checkKinds(kinds: unknown): TraceKind[] {
  if (!Array.isArray(kinds) || kinds.length === 0) {
    throw new TraceError("bad_spec", `kinds must list one or more of ${TRACE_KINDS.join(", ")}`);
  }
  const out: TraceKind[] = [];
  for (const k of kinds) {
    if (!TRACE_KINDS.includes(k as TraceKind)) {
      throw new TraceError(
        "bad_spec",
        `kind must be one of ${TRACE_KINDS.join(", ")}, got ${JSON.stringify(k)}`,
      );
    }
    if (!out.includes(k as TraceKind)) out.push(k as TraceKind);
  }
  return out;
}

/** Side requests that hold tensors; runs count tensors only while none is in flight. */
export class SideJobs {
  private readonly inFlight = new Set<Promise<unknown>>();
  track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const drop = () => this.inFlight.delete(p);
    p.then(drop, drop);
    return p;
  }
  async quiet(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}
