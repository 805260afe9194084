/**
 * The read-out lanes (lib/lens-jobs.ts): `lens` (logit lens), `dla` (direct logit attribution)
 * and `attrib` (attribution patching, then exact patching of each asked site with Pearson's r),
 * each a latest-wins Lane (./lane.ts) calling lib/interp — the same functions `causeway lens |
 * dla | attrib` print.
 *
 *   const lanes = readoutLanes({ post, engine, edited, runsIdle, quiet, track });
 *   lanes.lens.submit({ type: "lens", reqId: 3, job: { prompt: "…" } });
 *
 * - One read-out at a time (the three lanes share a queue), never beside a sweep: each waits for
 *   the run lane to be idle and for side requests to settle (progress "queued"), so tensorsLeft
 *   (tensors after minus before) is 0 unless something leaked, and a sweep started meanwhile
 *   waits for it (the work runs through `track`).
 * - A cancel stops an attribution between the estimate and each exact site, or inside an exact
 *   site between passes; every read-out acknowledges a cancel with `done {cancelled: true}`.
 * - variant "edited" (the default) runs on the edited model, as predict and run do.
 */
import type { EditedModel } from "../lib/edit/apply";
import type { Engine } from "../lib/engine";
import { attributionPatching, compareWithPatching } from "../lib/interp/attribution";
import { CancelledError, throwIfCancelled } from "../lib/interp/cancel";
import { directLogitAttribution } from "../lib/interp/dla";
import { logitLens } from "../lib/interp/logit-lens";
import { TraceError } from "../lib/interp/spec";
import { promptIds, singleTokenId } from "../lib/interp/tokens";
import type { ReadoutPhase, ReadoutRequest, ReadoutType } from "../lib/lens-jobs";
import type { ModelVariant } from "../lib/protocol";
import { editedEngine, topIds } from "../lib/queries";
import { now } from "../lib/util/clock";
import { type Job, Lane, type Post, requireEngine } from "./lane";
import { contrastPair } from "./sweeps";

export interface ReadoutHost {
  post: Post;
  engine(): Promise<Engine | null>;
  /** The edited model a request of this variant runs on, or null for the plain model. */
  edited(engine: Engine, variant: ModelVariant | undefined): EditedModel | null;
  /** Resolves when no sweep is in flight or queued. */
  runsIdle(): Promise<void>;
  /** Resolves once no side request holds tensors. */
  quiet(): Promise<void>;
  track<T>(p: Promise<T>): Promise<T>;
  /** Milliseconds between progress messages (default 100). */
  progressIntervalMs?: number;
}

type Msg<T extends ReadoutType> = Extract<ReadoutRequest, { type: T }>;

/** What a read-out's work gets: its engine (edited when asked), signal, answers and progress. */
interface Work<T extends ReadoutType> {
  job: Job<Msg<T>>;
  engine: Engine;
  /** The engine for a prompt: the edited model's view for its length, or the plain one. */
  on(prompt: string): Engine;
  progress(phase: ReadoutPhase, done: number, total: number, extra?: object): void;
  /** Evaluations spent (exact patching), reported with done. */
  evaluations: number;
}

const blank = (s: string | undefined) => s === undefined || s.trim() === "";

/** One queue for the three lanes: read-outs never overlap (tensor counts stay exact). */
class Exclusive {
  private tail: Promise<void> = Promise.resolve();
  run<T>(f: () => Promise<T>): Promise<T> {
    const out = this.tail.then(f);
    this.tail = out.then(
      () => undefined,
      () => undefined,
    );
    return out;
  }
}

function readoutLane<T extends ReadoutType>(
  host: ReadoutHost,
  queue: Exclusive,
  type: T,
  work: (w: Work<T>) => Promise<void>,
): Lane<Msg<T>> {
  return new Lane<Msg<T>>({
    post: host.post,
    answersAfterCancel: true, // a cancel is acknowledged with done {cancelled}
    cancelAnswer: (reqId, started) =>
      started ? null : { type: "done", reqId, ms: 0, tensorsLeft: 0, cancelled: true },
    run: async (job) => {
      const { reqId, post, signal } = job;
      const engine = requireEngine(await host.engine());
      const t0 = now();
      const interval = host.progressIntervalMs ?? 100;
      let last = Number.NEGATIVE_INFINITY;
      // the ETA is of the current phase (an exact site), timed from its first message
      let stage = { key: "", since: t0 };
      const progress = (phase: ReadoutPhase, done: number, total: number, extra = {}) => {
        const t = now();
        const key = `${phase}:${JSON.stringify(extra)}`;
        if (key !== stage.key) stage = { key, since: t };
        else if (done < total && t - last < interval) return;
        last = t;
        const spent = t - stage.since;
        const etaMs = done > 0 && total > done ? (spent / done) * (total - done) : undefined;
        post({
          type: "progress",
          request: type,
          reqId,
          phase,
          done,
          total,
          ...extra,
          ...(etaMs !== undefined ? { etaMs } : {}),
        } as never);
      };
      progress("queued", 0, 1);
      await queue.run(async () => {
        await host.runsIdle();
        await host.quiet();
        const before = engine.tensorsInUse();
        const w: Work<T> = {
          job,
          engine,
          on: (prompt) => {
            const edited = host.edited(engine, job.msg.variant);
            return edited ? editedEngine(engine, edited, prompt) : engine;
          },
          progress,
          evaluations: 0,
        };
        let cancelled = false;
        try {
          throwIfCancelled(signal);
          await host.track(work(w));
        } catch (e) {
          if (!(e instanceof CancelledError || (signal.aborted && !(e instanceof TraceError))))
            throw e;
          cancelled = true;
        }
        await host.quiet();
        post({
          type: "done",
          reqId,
          ms: now() - t0,
          tensorsLeft: engine.tensorsInUse() - before,
          ...(w.evaluations > 0 ? { evaluations: w.evaluations } : {}),
          ...(cancelled ? { cancelled: true } : {}),
        });
      });
    },
  });
}

/** DLA's blank target: the top-1 at the position; blank foil: the top-2 (else the top-1). */
async function dlaTokens(on: Engine, prompt: string, job: Msg<"dla">["job"]) {
  if (!blank(job.target) && !blank(job.foil)) return { target: job.target!, foil: job.foil! };
  const ids = promptIds(on, prompt);
  const pos = job.position ?? ids.length - 1;
  const prefix = ids.slice(0, Math.max(1, Math.min(ids.length, pos + 1)));
  const top = await topIds(on, prefix, 2);
  const target = blank(job.target) ? top[0] : singleTokenId(on, ids, job.target!, "target");
  const foil = blank(job.foil) ? (top[0] !== target ? top[0] : top[1]) : job.foil!;
  return { target, foil };
}

export interface ReadoutLanes {
  lens: Lane<Msg<"lens">>;
  dla: Lane<Msg<"dla">>;
  attrib: Lane<Msg<"attrib">>;
}

export function readoutLanes(host: ReadoutHost): ReadoutLanes {
  const queue = new Exclusive();
  return {
    lens: readoutLane(host, queue, "lens", async ({ job, on, progress }) => {
      const { prompt, target, topK } = job.msg.job;
      progress("forward", 0, 1);
      const spec = { prompt, ...(blank(target) ? {} : { target }), ...(topK ? { topK } : {}) };
      const result = await logitLens(on(prompt), spec);
      throwIfCancelled(job.signal);
      job.post({ type: "lens", reqId: job.reqId, result });
    }),
    dla: readoutLane(host, queue, "dla", async ({ job, on, progress }) => {
      const j = job.msg.job;
      progress("forward", 0, 1);
      const engine = on(j.prompt);
      const tokens = await dlaTokens(engine, j.prompt, j);
      const spec = { prompt: j.prompt, ...tokens, position: j.position };
      const result = await directLogitAttribution(engine, spec);
      throwIfCancelled(job.signal);
      job.post({ type: "dla", reqId: job.reqId, result });
    }),
    attrib: readoutLane(host, queue, "attrib", async (w) => {
      const { job, progress } = w;
      const j = job.msg.job;
      const edited = host.edited(w.engine, job.msg.variant);
      // the patch job's defaults: clean top-1 against corrupted top-1 (or its second)
      const pair = await contrastPair(j, { engine: w.engine, edited });
      const engine = w.on(j.clean);
      const spec = { clean: j.clean, corrupt: j.corrupt, target: pair.target, foil: pair.foil };
      const sites = j.exact ?? [];
      progress("estimate", 0, 1, { sites: sites.length });
      const estimate = await attributionPatching(engine, spec);
      throwIfCancelled(job.signal);
      job.post({ type: "attrib", reqId: job.reqId, part: "estimate", result: estimate });
      for (const [i, site] of sites.entries()) {
        throwIfCancelled(job.signal);
        const where = { site, siteIndex: i, sites: sites.length };
        const [comparison] = await compareWithPatching(engine, spec, estimate, [site], {
          signal: job.signal,
          onProgress: (p) => progress("exact", p.done, p.total, where),
        });
        w.evaluations += comparison.evaluations;
        job.post({ type: "attrib", reqId: job.reqId, part: "exact", comparison });
      }
    }),
  };
}
