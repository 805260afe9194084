/**
 * The worker's sweep lane: `run` requests (trace, patch, dataset) on the one request lifecycle
 * (./lane.ts), turned into lib/interp calls by ./sweeps.ts. No DOM, no worker globals: the model
 * worker gives it a `post` function, and Node tests give it a fake one (test/worker-jobs.test.ts).
 *
 *   const lane = new RunLane({ post, engine: () => enginePromise, quiet: () => sideJobsSettled() });
 *   lane.submit({ type: "run", reqId: 7, job: { type: "trace", spec, kinds: ["hidden"] } });
 *   lane.cancel(7);          // stops between passes; answers `done` with cancelled: true
 *
 * Rules:
 * - One run at a time; the latest wins. A new run aborts the one in flight, which stops at its
 *   next pass and posts nothing more; the new one starts when it has stopped (never two sweeps
 *   on the GPU at once).
 * - Messages of a run, in order: progress, baseline (per kind), rows (transferred), progress
 *   (throttled, with an ETA), then done (ms, evaluations, tensorsLeft) or error. A cancelled run
 *   answers done with cancelled: true, so the UI always learns the tensor balance.
 * - tensorsLeft = tensors alive after the run minus before it, both counted while no side
 *   request (predict, attention) holds tensors, so it is 0 unless the sweep leaked.
 * - Cancellation: lib/interp checks the AbortSignal before every pass, after yielding a
 *   macrotask (MessageChannel in a worker), so the `cancel` message is received meanwhile even on
 *   backends whose `await tensor.data()` never yields to the event loop (wasm, cpu).
 */
import type { EditedModel } from "../lib/edit/apply";
import type { Engine } from "../lib/engine";
import { CancelledError } from "../lib/interp/cancel";
import type { KnownFact } from "../lib/interp/dataset";
import { TraceError } from "../lib/interp/spec";
import type { ModelVariant, RequestOf } from "../lib/protocol";
import { now as clock } from "../lib/util/clock";
import { errorMessage, type Job, Lane, type Post, requireEngine, WorkerError } from "./lane";
import { runPathJob } from "./path-job";
import {
  runDatasetJob,
  runPatchJob,
  runTraceJob,
  type SweepProgress,
  type SweepRun,
} from "./sweeps";

export { errorMessage, type Post } from "./lane";

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

type RunMsg = RequestOf<"run">;

export class RunLane {
  private readonly lane: Lane<RunMsg>;
  private readonly now: () => number;

  constructor(private readonly host: LaneHost) {
    this.now = host.now ?? clock;
    this.lane = new Lane<RunMsg>({
      post: host.post,
      run: (job) => this.runOne(job),
      answersAfterCancel: true, // a cancelled run answers done { cancelled, tensorsLeft }
      cancelAnswer: (reqId, started) =>
        started ? null : { type: "done", reqId, ms: 0, tensorsLeft: 0, cancelled: true },
    });
  }

  /** Starts `msg` once the run in flight (if any) has stopped; aborts that run. */
  submit(msg: RunMsg): void {
    this.lane.submit(msg);
  }

  /** Cancels run `reqId` if it is the latest; true if this lane knew it. */
  cancel(reqId: number): boolean {
    return this.lane.cancel(reqId);
  }

  /** Aborts everything silently (a new model is loading). */
  abortAll(): void {
    this.lane.abortAll();
  }

  /** Resolves when no run is in flight or queued. */
  idle(): Promise<void> {
    return this.lane.idle();
  }

  private async runOne(job: Job<RunMsg>): Promise<void> {
    const { reqId, msg, signal, post } = job;
    const engine = requireEngine(await this.host.engine().catch(() => null));
    if (!job.live()) return;
    await this.host.quiet();
    // read after quiet: a stack being learned when the run was asked for is applied by now
    const edited =
      msg.job?.type === "dataset" ? null : (this.host.edited?.(engine, msg.variant) ?? null);
    const before = engine.tensorsInUse();
    const started = this.now();
    const run: SweepRun = {
      reqId,
      engine,
      edited,
      signal,
      post,
      progress: this.progress(reqId, post, started),
      stats: { evaluations: 0, stages: {} },
      now: this.now,
    };
    const finish = async (cancelled: boolean) => {
      await this.host.quiet();
      post({
        type: "done",
        reqId,
        ms: this.now() - started,
        tensorsLeft: engine.tensorsInUse() - before,
        evaluations: run.stats.evaluations,
        stages: run.stats.stages,
        ...(cancelled ? { cancelled: true } : {}),
      });
    };
    try {
      if (signal.aborted) throw new CancelledError();
      await this.sweep(msg, run);
      await finish(false);
    } catch (e) {
      if (e instanceof CancelledError || (signal.aborted && !(e instanceof TraceError))) {
        await finish(true);
      } else {
        post(errorMessage(reqId, e));
      }
    }
  }

  private sweep(msg: RunMsg, run: SweepRun): Promise<void> {
    const job = msg.job;
    switch (job?.type) {
      case "trace":
        return runTraceJob(job, run);
      case "patch":
        return runPatchJob(job, run);
      case "dataset":
        return runDatasetJob(job, run, this.host.facts);
      case "path":
        return runPathJob(job, run);
      default:
        throw new WorkerError(
          "bad_request",
          `Unknown job type ${String((job as { type?: unknown } | undefined)?.type)}`,
        );
    }
  }

  /** Progress poster: throttled, with an ETA from the evaluations done so far. */
  private progress(reqId: number, post: Post, started: number): SweepProgress {
    const interval = this.host.progressIntervalMs ?? 100;
    let last = Number.NEGATIVE_INFINITY;
    return (phase, kind, done, total, force = false) => {
      const t = this.now();
      if (!force && done < total && t - last < interval) return;
      last = t;
      const elapsed = t - started;
      const etaMs = done > 0 && total >= done ? (elapsed / done) * (total - done) : undefined;
      post({
        type: "progress",
        request: "run",
        reqId,
        phase,
        kind,
        done,
        total,
        ...(etaMs !== undefined ? { etaMs } : {}),
      });
    };
  }
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
