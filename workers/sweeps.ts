/**
 * The three sweeps of a `run` request (trace, patch, dataset): lib/interp calls whose callbacks
 * become `baseline`, `rows`, `progress` and `dataset` answers. The run lane (./jobs.ts) gives
 * each one a SweepRun: the request, its engine, its abort signal and its answer channel.
 */
import type { EditedModel } from "../lib/edit/apply";
import type { Engine } from "../lib/engine";
import { type KnownFact, parseKnownFacts, runTraceDataset } from "../lib/interp/dataset";
import { type PatchOptions, runPatch } from "../lib/interp/patch";
import { TRACE_DEFAULTS, TRACE_KINDS, TraceError, type TraceKind } from "../lib/interp/spec";
import type { Progress } from "../lib/interp/sweep";
import { promptIds, singleTokenId, type TraceHost } from "../lib/interp/tokens";
import { prepareTrace, runPreparedTrace } from "../lib/interp/trace";
import type {
  BaselineInfo,
  ContrastBaseline,
  DatasetJob,
  PatchBaselineInfo,
  PatchJob,
  PathBaselineInfo,
  PathJob,
  StageSummary,
  SweepKind,
  SweepPhase,
  TraceBaselineInfo,
  TraceJob,
} from "../lib/protocol";
import { topIds } from "../lib/queries";
import type { Post } from "./lane";

/** Posts a run's progress: throttled unless forced, with an ETA from the work done so far. */
export type SweepProgress = (
  phase: SweepPhase,
  kind: SweepKind,
  done: number,
  total: number,
  force?: boolean,
) => void;

export interface SweepRun {
  reqId: number;
  engine: Engine;
  /** The edited model a trace or patch runs on (null: the plain model). */
  edited: EditedModel | null;
  signal: AbortSignal;
  post: Post;
  progress: SweepProgress;
  /** Evaluations spent and the cost of each stage, summed into `done`. */
  stats: { evaluations: number; stages: Record<string, StageSummary> };
  now(): number;
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

/** The host a sweep of passes of T positions runs on: the engine, or its edited view. */
function on(engine: Engine, edited: EditedModel | null, T: number): TraceHost {
  return edited ? { model: edited.view(T), tokenizer: engine.tokenizer } : engine;
}

export function checkKinds(kinds: unknown): TraceKind[] {
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

/** A causal trace of one prompt, kind after kind. */
export async function runTraceJob(job: TraceJob, r: SweepRun): Promise<void> {
  const { engine, reqId, post } = r;
  const kinds = checkKinds(job.kinds);
  const staged = new StagedProgress(kinds.length);
  // said at once: tokenizing and the clean run come before the trace's first own progress
  r.progress("clean", kinds[0], 0, 0, true);
  for (const kind of kinds) {
    const t0 = r.now();
    const prep = await prepareTrace(engine, { ...job.spec, kind });
    // every pass of a trace has the prompt's length plus the target's continuation
    const T = prep.ids.length + (prep.target ? prep.target.length - 1 : 0);
    const res = await runPreparedTrace(on(engine, r.edited, T), prep, {
      signal: r.signal,
      onBaseline: (b) => {
        const baseline: TraceBaselineInfo = {
          job: "trace",
          ...b,
          samples: prep.opts.samples,
          corruption: prep.opts.corruption.type,
          ...(prep.opts.corruption.type === "prompt"
            ? { corruptTokens: prep.corruptIds.map((id) => engine.tokenText(id)) }
            : {}),
        };
        post({ type: "baseline", reqId, kind, baseline });
      },
      onRow: ({ t, values }) =>
        post({ type: "rows", reqId, kind, rows: [t], values, width: values.length }, [
          values.buffer,
        ]),
      onProgress: (p) => {
        const { done, total } = staged.update(p);
        r.progress(p.phase, kind, done, total, p.phase !== "sweep");
      },
    });
    staged.endStage();
    r.stats.evaluations += res.evaluations;
    r.stats.stages[kind] = { evaluations: res.evaluations, ms: r.now() - t0 };
  }
  const { done, total } = staged.totals();
  r.progress("done", kinds[kinds.length - 1], done, total, true);
}

const blank = (v: unknown) => v === undefined || (typeof v === "string" && v.trim() === "");

/**
 * A clean / corrupted pair's ids, the host it runs on, and its target and foil: by default the
 * clean prompt's top-1 and the corrupted prompt's top-1 (else its second).
 */
export async function contrastPair(
  spec: Pick<PatchJob["spec"], "clean" | "corrupt" | "target" | "foil">,
  r: Pick<SweepRun, "engine" | "edited">,
): Promise<{
  cleanIds: number[];
  corruptIds: number[];
  host: TraceHost;
  target: number;
  foil: number;
}> {
  const { engine } = r;
  const cleanIds = promptIds(engine, spec.clean, "clean prompt");
  const corruptIds = promptIds(engine, spec.corrupt, "corrupted prompt");
  const host = on(engine, r.edited, cleanIds.length);
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
  return { cleanIds, corruptIds, host, target, foil };
}

/** The lib's callbacks a contrast job wires to answers (runPatch and runPathPatch take them). */
export interface ContrastCallbacks<B> {
  signal: AbortSignal;
  onBaseline(b: B): void;
  onRow(row: { index: number; values: Float32Array }): void;
  onProgress(p: { phase?: SweepPhase; done: number; total: number }): void;
}

/**
 * One job runner for the sweeps on a clean / corrupted pair (patch, path): the spec checked, the
 * pair and its target and foil (contrastPair), then `run` with callbacks that post the baseline
 * (the pair's fields plus the job's own), its rows and progress, and the stage's cost.
 */
export async function runContrastJob<
  S extends PatchJob["spec"] | PathJob["spec"],
  B extends { clean_logit_diff: number; corrupt_logit_diff: number },
  R extends { evaluations: number },
>(
  r: SweepRun,
  job: {
    spec: S;
    /** Names the spec in the "must be an object" error. */
    what: string;
    kind: SweepKind;
    /** The job's own baseline fields (job, site or sender, …) beside the pair's. */
    baseline(
      b: B,
    ):
      | Omit<PatchBaselineInfo, keyof ContrastBaseline>
      | Omit<PathBaselineInfo, keyof ContrastBaseline>;
    /** The lib call on the pair's host, with target and foil as ids. */
    run(
      host: TraceHost,
      spec: S & { target: number; foil: number },
      callbacks: ContrastCallbacks<B>,
    ): Promise<R>;
  },
): Promise<R> {
  const { engine, reqId, post } = r;
  const { spec, kind } = job;
  if (spec === null || typeof spec !== "object") {
    throw new TraceError("bad_spec", `${job.what} must be an object`);
  }
  r.progress("clean", kind, 0, 0, true);
  const { cleanIds, corruptIds, host, target, foil } = await contrastPair(spec, r);
  const { nLayer, nHead } = engine.model.config;
  const token = (id: number) => ({ id, token: engine.tokenText(id) });
  const t0 = r.now();
  const res = await job.run(
    host,
    { ...spec, target, foil },
    {
      signal: r.signal,
      onBaseline: (b) => {
        const pair: ContrastBaseline = {
          cleanIds,
          corruptIds,
          cleanTokens: cleanIds.map((id) => engine.tokenText(id)),
          corruptTokens: corruptIds.map((id) => engine.tokenText(id)),
          target: token(target),
          foil: token(foil),
          cleanLogitDiff: b.clean_logit_diff,
          corruptLogitDiff: b.corrupt_logit_diff,
          nLayer,
          nHead,
        };
        post({
          type: "baseline",
          reqId,
          kind,
          baseline: { ...pair, ...job.baseline(b) } as BaselineInfo,
        });
      },
      onRow: ({ index, values }) =>
        post({ type: "rows", reqId, kind, rows: [index], values, width: values.length }, [
          values.buffer,
        ]),
      // the lib's phases where it has them ("sweep" throttled); else forced at the end only
      onProgress: (p) =>
        r.progress(
          p.phase ?? "sweep",
          kind,
          p.done,
          p.total,
          p.phase ? p.phase !== "sweep" : p.done === p.total,
        ),
    },
  );
  r.stats.evaluations += res.evaluations;
  r.stats.stages[kind] = { evaluations: res.evaluations, ms: r.now() - t0 };
  return res;
}

/** Activation patching; the target and foil default to the prompts' top tokens. */
export async function runPatchJob(job: PatchJob, r: SweepRun): Promise<void> {
  const spec = job.spec;
  await runContrastJob(r, {
    spec,
    what: "a patch spec",
    kind: spec?.site,
    baseline: (b: Parameters<NonNullable<PatchOptions["onBaseline"]>>[0]) => ({
      job: "patch",
      site: spec.site,
      metric: spec.metric ?? "logit_diff_normalized",
      strategy: spec.strategy ?? TRACE_DEFAULTS.strategy,
      cleanProb: b.clean_prob,
      corruptProb: b.corrupt_prob,
    }),
    run: (host, s, callbacks) => runPatch(host, s, callbacks),
  });
}

/** Causal traces averaged over known facts (the job's own, or the model's dataset.json). */
export async function runDatasetJob(
  job: DatasetJob,
  r: SweepRun,
  facts?: () => Promise<KnownFact[]>,
): Promise<void> {
  let list: KnownFact[];
  if (job.facts !== undefined) list = parseKnownFacts(job.facts, "the dropped file");
  else if (facts) list = await facts();
  else throw new TraceError("bad_spec", "no dataset: this model has no dataset.json");
  const kinds = job.kinds ? checkKinds(job.kinds) : [...TRACE_KINDS];
  const total = job.limit !== undefined ? Math.min(job.limit, list.length) : list.length;
  r.progress("dataset", "dataset", 0, total, true);
  const res = await runTraceDataset(r.engine, list, {
    kinds,
    samples: job.samples,
    noise: job.noise,
    seed: job.seed,
    window: job.window,
    strategy: job.strategy,
    limit: job.limit,
    answerAmong: job.answerAmong,
    signal: r.signal,
    onFact: (done, n) => r.progress("dataset", "dataset", done, n, done === n),
  });
  r.stats.evaluations += res.evaluations;
  r.post({ type: "dataset", reqId: r.reqId, result: res });
}
