/**
 * The one request lifecycle of the worker. Every request type has a Lane (model.worker.ts holds
 * the table); a lane runs one request at a time and the latest wins:
 *
 *   const lane = new Lane<PredictMsg>({ post, run: async (job) => { …; job.post(answer) } });
 *   lane.submit(msg);     // aborts the request in flight; runs msg once that one has stopped
 *   lane.cancel(reqId);   // aborts it; true if this lane knew reqId
 *   lane.abortAll();      // a new model: everything stops silently
 *   await lane.idle();    // nothing in flight or queued
 *
 * - A newer request replaces one still queued (only the newest is worth computing) and aborts
 *   the one running, whose answers are never posted (`job.post` drops them).
 * - A cancelled request stops at its next check of `job.signal` (between passes, tokens or
 *   optimisation steps). With `answersAfterCancel` its own answers still go out (a sweep
 *   acknowledges with `done {cancelled}` and its tensor balance); else `cancelAnswer` (if any)
 *   is posted once it has stopped, or at once when it had not started.
 * - A thrown error becomes one `error` answer (its code, the message's first line), unless the
 *   request was aborted (a cancellation is not an error).
 * No DOM, no worker globals: Node tests drive lanes with a fake `post`.
 */
import { isLearningCancelled } from "../lib/edit/cancel";
import type { Engine } from "../lib/engine";
import { CodedError, errorCode, errorText } from "../lib/errors";
import { CancelledError } from "../lib/interp/cancel";
import type { ErrorCode, FromWorker, WorkerErrorCode } from "../lib/protocol";

export type Post = (msg: FromWorker, transfer?: Transferable[]) => void;

/** An error raised by the worker itself (not lib/), with a code for the UI. */
export class WorkerError extends CodedError<WorkerErrorCode> {
  override readonly name = "WorkerError";
}

/** The `error` answer for any thrown value: coded errors keep their code, others are internal. */
export function errorMessage(reqId: number, e: unknown): FromWorker {
  return { type: "error", reqId, code: errorCode(e) as ErrorCode, message: errorText(e) };
}

/** The engine, or the "no_model" error every model request answers without one. */
export function requireEngine(engine: Engine | null): Engine {
  if (!engine) throw new WorkerError("no_model", "No model is loaded");
  return engine;
}

/** True for the errors a stopped computation throws (sweeps, learning). */
export function isCancellation(e: unknown): boolean {
  return e instanceof CancelledError || isLearningCancelled(e);
}

/** One request on its lane: the message, its abort signal and its answer channel. */
export interface Job<M> {
  readonly msg: M;
  readonly reqId: number;
  /** Aborted by a `cancel` of this request, a newer request on the lane, or abortAll. */
  readonly signal: AbortSignal;
  /** True once `cancel(reqId)` asked it to stop (not a newer request). */
  readonly cancelled: boolean;
  /** True while this request's answers are wanted. */
  live(): boolean;
  /** Posts an answer while the request is live; drops it otherwise. */
  post: Post;
}

export interface LaneOptions<M> {
  post: Post;
  run(job: Job<M>): Promise<void>;
  /** Answers still go out after a `cancel` (the request acknowledges it itself). */
  answersAfterCancel?: boolean;
  /** The answer to a cancelled request: `started` false when it was still queued. */
  cancelAnswer?(reqId: number, started: boolean): FromWorker | null;
}

class JobState<M> implements Job<M> {
  readonly reqId: number;
  readonly abort = new AbortController();
  cancelled = false;
  superseded = false;
  constructor(
    readonly msg: M & { reqId: number },
    private readonly opts: LaneOptions<M>,
  ) {
    this.reqId = msg.reqId;
  }
  get signal(): AbortSignal {
    return this.abort.signal;
  }
  live(): boolean {
    return !this.superseded && (!this.cancelled || this.opts.answersAfterCancel === true);
  }
  post: Post = (m, transfer) => {
    if (this.live()) this.opts.post(m, transfer);
  };
}

export class Lane<M extends { reqId: number }> {
  private pending: JobState<M> | null = null;
  private current: JobState<M> | null = null;
  private busy: Promise<void> | null = null;

  constructor(private readonly opts: LaneOptions<M>) {}

  /** Queues `msg` (replacing a queued one) and stops the request in flight. */
  submit(msg: M): void {
    this.supersede();
    this.pending = new JobState(msg, this.opts);
    this.kick();
  }

  /** Stops request `reqId` if it is this lane's latest; true if the lane knew it. */
  cancel(reqId: number): boolean {
    if (reqId === 0) return false;
    if (this.pending?.reqId === reqId) {
      this.pending = null;
      this.answerCancel(reqId, false);
      return true;
    }
    const job = this.current;
    if (job?.reqId !== reqId || job.superseded) return false;
    job.cancelled = true;
    job.abort.abort();
    return true;
  }

  /** Stops everything silently (a new model is loading). */
  abortAll(): void {
    this.supersede();
  }

  /** Resolves when no request is in flight or queued. */
  async idle(): Promise<void> {
    while (this.busy) await this.busy;
  }

  /** The request in flight's id (0 when none), for hosts that report on it. */
  running(): number {
    return this.current && !this.current.superseded ? this.current.reqId : 0;
  }

  private supersede(): void {
    this.pending = null;
    if (this.current) {
      this.current.superseded = true;
      this.current.abort.abort();
    }
  }

  private answerCancel(reqId: number, started: boolean): void {
    const answer = this.opts.cancelAnswer?.(reqId, started);
    if (answer) this.opts.post(answer);
  }

  /** Starts draining unless a drain is running; one submitted as a drain ends still runs. */
  private kick(): void {
    if (this.busy) return;
    this.busy = this.drain().finally(() => {
      this.busy = null;
      if (this.pending) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const job = this.pending;
      this.pending = null;
      this.current = job;
      try {
        await this.runOne(job);
      } finally {
        this.current = null;
      }
    }
  }

  private async runOne(job: JobState<M>): Promise<void> {
    try {
      await this.opts.run(job);
    } catch (e) {
      if (!job.signal.aborted && !isCancellation(e)) job.post(errorMessage(job.reqId, e));
    }
    if (job.cancelled && !job.superseded && !this.opts.answersAfterCancel) {
      this.answerCancel(job.reqId, true);
    }
  }
}
