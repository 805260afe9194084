/**
 * ROME's causal trace (docs/methods.md §0): corrupt the subject, restore one clean state at a time,
 * and score how much of the clean answer comes back.
 *
 *   const r = await runTrace(engine, { prompt, subject: "Eiffel Tower", kind: "hidden" }, {
 *     onBaseline: (b) => draw(b.tokens, b.low, b.high),
 *     onRow: ({ t, values }) => fillRow(t, values),     // values[l], l = 0 … L−1
 *     signal,                                           // AbortSignal or { cancelled }
 *   });
 *   r.scores[t][l]   // P(target) with state (t, l) restored, averaged over noise samples
 *
 * Cell (t, l), for a prompt of T tokens and L layers, restores in the corrupted run:
 *   hidden: the output of block l at token t (hook_resid_post)
 *   mlp:    the MLP outputs at token t of layers windowLayers(l, w) = [l − ⌊w/2⌋, l + ⌈w/2⌉)
 *   attn:   the attention outputs likewise
 * Metric: the probability of the target at the last position, averaged over the noise samples;
 * a multi-token target is scored as the probability of the whole continuation (the product of
 * its tokens' probabilities, teacher forced). high: the clean run; low: the corrupted run with
 * nothing restored. The indirect effect of a cell is scores[t][l] − low. Field names are the
 * store's; ROME's (high_score, …) only at export (lib/export/rome-fields.ts).
 *
 * Noise: N(0, ν²) with ν = noise × std(wte) (reported as noiseSigma), added to the token
 * embeddings (hook_embed) of the subject's tokens; sample s, subject token i, dimension d takes
 * value (s · nSubject + i) · D + d of gaussianArray(seed, …, ν) (lib/interp/rng.ts). The same
 * noise is used in every cell, so cells differ only by what they restore.
 *
 * Evaluations: see lib/interp/sweep.ts. No tensors are left behind, also on cancel or error.
 */

import type { Gpt2Model } from "../model/gpt2";
import { now } from "../util/clock";
import type { CancelSignal } from "./cancel";
import { throwIfCancelled } from "./cancel";
import { embeddingStd } from "./embedding-std";
import { FastEngine } from "./fast";
import { NaiveEngine } from "./naive";
import { gaussianArray } from "./rng";
import {
  type ResolvedTraceOptions,
  resolveTraceOptions,
  type Strategy,
  TraceError,
  type TraceKind,
  type TraceSpec,
  windowLayers,
} from "./spec";
import {
  type Cell,
  type CellSite,
  continuationProbMetric,
  firstCorrupted,
  type Progress,
  runGrid,
  type SweepEngine,
  type SweepSetup,
  totalPlannedCost,
} from "./sweep";
import {
  decodeIds,
  promptIds,
  subjectRange,
  type TraceHost,
  targetIds,
  tokenTexts,
} from "./tokens";

export interface TraceRow {
  /** Token position. */
  t: number;
  /** The same as t (the row index of the grid, as in GridRow). */
  index: number;
  /** scores[t][l] for every layer l. */
  values: Float32Array;
  /** The trace kind the row belongs to. */
  kind?: TraceKind;
}

/** What is known once the clean and corrupted runs are done, before any cell. */
export interface TraceBaseline {
  ids: number[];
  tokens: string[];
  /** [b, e), end-exclusive. */
  subject: [number, number];
  answer: TraceAnswer;
  /** P(target) in the clean run. */
  high: number;
  /** P(target) in the corrupted run with nothing restored. */
  low: number;
  /** Absolute σ of the noise (null for a counterfactual prompt). */
  noiseSigma: number | null;
  kind: TraceKind;
  window: number;
  nLayer: number;
}

export interface TraceAnswer {
  /** First token of the target. */
  id: number;
  /** The target's text (all its tokens). */
  token: string;
  ids: number[];
  tokens: string[];
}

export interface TraceResult extends TraceBaseline {
  samples: number;
  seed: number;
  corruption: "noise" | "prompt";
  /** The counterfactual prompt's ids (prompt corruption). */
  corruptIds?: number[];
  corruptTokens?: string[];
  /** First position whose state differs between the clean and corrupted runs. */
  firstCorrupted: number;
  metric: "prob";
  /** [T][L]: P(target) with (t, l) restored, averaged over samples. */
  scores: number[][];
  evaluations: number;
  strategy: Strategy;
  ms: number;
  /** Set by runTraceKinds: the clean and corrupted runs were shared with the other kinds. */
  sharedBaseline?: boolean;
}

export interface TraceOptions {
  onBaseline?: (b: TraceBaseline) => void;
  onRow?: (row: TraceRow) => void;
  onProgress?: (p: Progress) => void;
  signal?: CancelSignal;
  /** fast strategy: most batch rows per pass (default from a 64 MiB activation budget). */
  maxBatchRows?: number;
  /** fast strategy: see SweepSetup.singlePosition (default false). */
  singlePosition?: boolean;
}

/** Everything a trace runs on, resolved from the spec (token ids, subject, target, noise). */
export interface PreparedTrace {
  opts: ResolvedTraceOptions;
  ids: number[];
  corruptIds: number[];
  subject: [number, number];
  target: number[] | null;
  noiseSigma: number | null;
}

/** Resolves the spec against the model and tokenizer; throws TraceError with a clear message. */
export async function prepareTrace(host: TraceHost, spec: TraceSpec): Promise<PreparedTrace> {
  const { model } = host;
  const { nLayer, nCtx } = model.config;
  const opts = resolveTraceOptions(spec, nLayer);
  const ids = promptIds(host, spec.prompt);
  let corruptIds = ids;
  if (opts.corruption.type === "prompt") {
    corruptIds = promptIds(host, opts.corruption.prompt, "counterfactual prompt");
    if (corruptIds.length !== ids.length) {
      throw new TraceError(
        "length_mismatch",
        `the counterfactual prompt has ${corruptIds.length} tokens and the prompt ${ids.length}; they must have the same number of tokens`,
      );
    }
    if (corruptIds.every((id, i) => id === ids[i])) {
      throw new TraceError(
        "identical_prompts",
        "the counterfactual prompt is the same as the prompt",
      );
    }
  }
  let subject: [number, number];
  if (spec.subject !== undefined) subject = subjectRange(host, ids, spec.subject);
  else {
    const diff = ids.map((id, i) => id !== corruptIds[i]);
    subject = [diff.indexOf(true), diff.lastIndexOf(true) + 1];
  }
  const target = spec.target === undefined ? null : targetIds(host, ids, spec.target);
  const P = ids.length + (target ? target.length - 1 : 0);
  if (P > nCtx) {
    throw new TraceError(
      "too_long",
      `the prompt${target && target.length > 1 ? " and target" : ""} need ${P} positions; the model's context is ${nCtx}`,
    );
  }
  const noiseSigma =
    opts.corruption.type === "noise" ? opts.noise * (await embeddingStd(model)) : null;
  return { opts, ids, corruptIds, subject, target, noiseSigma };
}

/** The grid of cells of one kind, cell index t·L + l. */
export function traceCells(kind: TraceKind, T: number, L: number, window: number): Cell[] {
  const cells: Cell[] = [];
  for (let t = 0; t < T; t++) {
    for (let l = 0; l < L; l++) {
      if (kind === "hidden")
        cells.push({ patches: [{ site: "resid_post", layer: l, positions: [t] }] });
      else {
        const site: CellSite = kind === "mlp" ? "mlp_out" : "attn_out";
        cells.push({
          patches: windowLayers(l, window, L).map((j) => ({ site, layer: j, positions: [t] })),
        });
      }
    }
  }
  return cells;
}

export function makeEngine(setup: SweepSetup, strategy: Strategy): SweepEngine {
  return strategy === "fast" ? new FastEngine(setup) : new NaiveEngine(setup);
}

/** Runs a causal trace; see the file header. */
export async function runTrace(
  host: TraceHost,
  spec: TraceSpec,
  options: TraceOptions = {},
): Promise<TraceResult> {
  const started = now();
  const prep = await prepareTrace(host, spec);
  return runPreparedTrace(host, prep, options, started);
}

export async function runPreparedTrace(
  host: TraceHost,
  prep: PreparedTrace,
  options: TraceOptions = {},
  started = now(),
): Promise<TraceResult> {
  const { kind, window } = prep.opts;
  return (await traceKinds(host, prep, [{ kind, window }], options, started))[0];
}

/**
 * Traces of several kinds of one spec (`--kind all`), sharing one clean and one corrupted run:
 * only the cells are computed per kind. Each result counts the shared runs in its `evaluations`
 * and `ms` and says `sharedBaseline: true`; rows come to onRow with their kind.
 */
export async function runTraceKinds(
  host: TraceHost,
  spec: Omit<TraceSpec, "kind">,
  kinds: readonly TraceKind[],
  options: TraceOptions = {},
): Promise<TraceResult[]> {
  const started = now();
  if (kinds.length === 0) throw new TraceError("bad_spec", "no trace kind given");
  const prep = await prepareTrace(host, { ...spec, kind: kinds[0] });
  const L = host.model.config.nLayer;
  const plan = kinds.map((kind) => ({
    kind,
    window: resolveTraceOptions({ ...spec, kind }, L).window,
  }));
  return traceKinds(host, prep, plan, options, started);
}

const SITE: Record<TraceKind, CellSite> = {
  hidden: "resid_post",
  mlp: "mlp_out",
  attn: "attn_out",
};

async function traceKinds(
  host: TraceHost,
  prep: PreparedTrace,
  kinds: readonly { kind: TraceKind; window: number }[],
  options: TraceOptions,
  started: number,
): Promise<TraceResult[]> {
  const model: Gpt2Model = host.model;
  const { nLayer: L, dModel: D, vocabSize: V } = model.config;
  const { opts, ids, corruptIds, subject } = prep;
  const T = ids.length;
  const N = opts.samples;
  throwIfCancelled(options.signal);

  const continuation = prep.target ? prep.target.slice(0, -1) : [];
  const cleanIds = [...ids, ...continuation];
  const scored = Array.from({ length: continuation.length + 1 }, (_, i) => T - 1 + i);
  let noise: SweepSetup["noise"];
  if (opts.corruption.type === "noise") {
    const positions: number[] = [];
    for (let i = subject[0]; i < subject[1]; i++) positions.push(i);
    noise = {
      positions,
      values: gaussianArray(opts.seed, N * positions.length * D, prep.noiseSigma!),
    };
  }
  const setup: SweepSetup = {
    model,
    cleanIds,
    corruptIds: [...corruptIds, ...continuation],
    rows: N,
    noise,
    scored,
    sites: new Set<CellSite>(kinds.map((k) => SITE[k.kind])),
    maxBatchRows: options.maxBatchRows,
    singlePosition: options.singlePosition,
  };
  const engine = makeEngine(setup, opts.strategy);
  try {
    const baseCost = engine.baselineCost();
    options.onProgress?.({ phase: "clean", done: 0, total: baseCost });
    const { top1 } = await engine.clean();
    const target = prep.target ?? [top1];
    const base = await engine.baseline(continuationProbMetric(target, V));
    const baseEvaluations = engine.evaluations;
    const baseMs = now() - started;
    throwIfCancelled(options.signal);
    const planned = kinds.map((k) => {
      const cells = traceCells(k.kind, T, L, k.window);
      return { ...k, cells, groups: engine.plan(cells) };
    });
    const total = baseCost + planned.reduce((n, k) => n + totalPlannedCost(k.groups), 0);
    const rows = Array.from({ length: T }, (_, t) => ({
      index: t,
      cells: Array.from({ length: L }, (_, l) => t * L + l),
    }));
    const results: TraceResult[] = [];
    let done = baseCost;
    for (const { kind, window, cells, groups } of planned) {
      const t0 = now();
      const evals0 = engine.evaluations;
      const baseline: TraceBaseline = {
        ids,
        tokens: tokenTexts(host, ids),
        subject,
        answer: {
          id: target[0],
          token: decodeIds(host, target),
          ids: target,
          tokens: tokenTexts(host, target),
        },
        high: base.clean[0],
        low: base.corrupt[0],
        noiseSigma: prep.noiseSigma,
        kind,
        window,
        nLayer: L,
      };
      options.onBaseline?.(baseline);
      options.onProgress?.({ phase: "corrupted", done, total });
      const values = await runGrid({
        engine,
        cells,
        groups,
        rows,
        metricSize: 1,
        value: (_, raw) => raw[0],
        done0: done,
        total,
        signal: options.signal,
        onProgress: options.onProgress,
        onRow: options.onRow
          ? (r) => options.onRow!({ t: r.index, index: r.index, values: r.values, kind })
          : undefined,
      });
      done += totalPlannedCost(groups);
      const scores = Array.from({ length: T }, (_, t) =>
        Array.from(values.subarray(t * L, (t + 1) * L)),
      );
      results.push({
        ...baseline,
        samples: N,
        seed: opts.seed,
        corruption: opts.corruption.type,
        ...(opts.corruption.type === "prompt"
          ? { corruptIds, corruptTokens: tokenTexts(host, corruptIds) }
          : {}),
        firstCorrupted: firstCorrupted(setup),
        metric: "prob",
        scores,
        evaluations: baseEvaluations + engine.evaluations - evals0,
        strategy: opts.strategy,
        ms: baseMs + now() - t0,
        ...(kinds.length > 1 ? { sharedBaseline: true } : {}),
      });
    }
    return results;
  } finally {
    engine.dispose();
  }
}
