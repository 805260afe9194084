/**
 * The benchmark's measuring core, shared by the Node run (scripts/bench/node.ts, wasm) and the
 * browser page (app/bench/, webgpu): one sweep (a causal trace of one kind, or the head sweep)
 * run with both strategies in the same process, measured the same way everywhere.
 *
 *   const row = await benchSweep(host, prompt, "hidden", { samples: 10 });
 *   row.fast.ms / row.naive.ms   // wall time ratio; row.maxAbsDiff: fast vs naive, ≤ 1e-5
 *
 * What is measured, per strategy:
 * - ms: wall time of runTrace / runPatch, from the call to its result (all rows read back);
 * - evaluations: the sweep's own count (lib/interp/sweep.ts), the total it planned;
 * - firstRowMs: from the call to the first onRow;
 * - peakBytes: the high-water mark of tf.memory().numBytes (every tensor alive, weights
 *   included), taken after every kernel, not only between passes (see installPeakTracker);
 *   peakAboveStart subtracts what was alive before the call (the weights);
 * - gpuPeakBytes (webgpu): the high-water mark of numBytesInGPU (GPU buffers in use, which
 *   includes buffers freed by tfjs but still awaiting their queue's completion).
 *
 * A strategy can be measured on its first `maxRows` rows only (rows are token positions, or
 * layers for the head sweep): the sweep is cancelled after them and its wall time extrapolated
 * as baseline + (rows / rowsDone) × (time of the rows done). That is exact in expectation for the
 * naive strategy, whose every cell is one full forward of the same shape; the benchmark uses it
 * only there, for GPT-2-small-sized models, and marks such numbers as extrapolated.
 */
import * as tf from "@tensorflow/tfjs";
import { CancelledError } from "../../lib/interp/cancel";
import { runPatch } from "../../lib/interp/patch";
import type { Strategy, TraceKind } from "../../lib/interp/spec";
import type { Progress } from "../../lib/interp/sweep";
import type { TraceHost } from "../../lib/interp/tokens";
import { runTrace } from "../../lib/interp/trace";
import type { Gpt2Model } from "../../lib/model/gpt2";
import type { PromptLabel } from "./prompts";

/** fast must reproduce naive within this (issue 3, item 3). */
export const DIFF_TOLERANCE = 1e-5;

export type SweepName = TraceKind | "heads";
export const SWEEPS: readonly SweepName[] = ["hidden", "mlp", "attn", "heads"];

/** What runs on one prompt: which sweeps, and naive on its first rows only (absent: in full). */
export interface PromptPlan {
  label: PromptLabel;
  sweeps: SweepName[];
  naiveRows?: number;
}

/** A prompt to benchmark on, as token ids. */
export interface BenchPrompt {
  /** "short" (~10 tokens) or "long" (~30 tokens). */
  label: string;
  ids: number[];
  /** Token texts (for the report), when the model has a tokenizer. */
  tokens?: string[];
  /** Subject token range [b, e), end-exclusive: what noise corrupts. */
  subject: [number, number];
  /** Head sweep: the counterfactual prompt (same length), its target and foil token ids. */
  corruptIds: number[];
  target: number;
  foil: number;
}

export interface StrategyMeasure {
  strategy: Strategy;
  /** Wall time of the whole sweep (extrapolated when `extrapolated`). */
  ms: number;
  /** Wall time actually spent (= ms unless extrapolated). */
  msMeasured: number;
  /** From the call to the end of the clean and corrupted runs (before any cell). */
  baselineMs: number;
  evaluations: number;
  firstRowMs: number;
  peakBytes: number;
  peakAboveStart: number;
  gpuPeakBytes?: number;
  rowsDone: number;
  rowsTotal: number;
  extrapolated: boolean;
  /** Clean and corrupted scores (trace: high/low probability; heads: clean/corrupt logit diff). */
  high: number;
  low: number;
}

export interface BenchRow {
  backend: string;
  model: string;
  prompt: string;
  tokens: number;
  sweep: SweepName;
  /** Noise samples per cell (1 for the head sweep: counterfactual prompt). */
  samples: number;
  cells: number;
  fast: StrategyMeasure;
  naive: StrategyMeasure;
  /** fast / naive. */
  timeRatio: number;
  evalRatio: number;
  /** Max |fast − naive| over every score both computed, baselines included. */
  maxAbsDiff: number;
  /** Rows (positions, or layers) compared. */
  comparedRows: number;
  /** Where the largest difference is: "high" | "low" | "row r, column c", and both values. */
  worst?: { at: string; fast: number; naive: number };
}

export interface SweepOptions {
  samples: number;
  /** Measure naive on its first rows only and extrapolate (GPT-2-small sizes). */
  naiveRows?: number;
  log?: (line: string) => void;
}

function now(): number {
  return performance.now();
}

interface TrackedEngine {
  state: { numBytes: number };
  runKernelFunc: (params: unknown) => unknown;
}

interface PeakTracker {
  reset(): void;
  peak(): number;
  gpuPeak(): number | undefined;
}

let tracker: PeakTracker | null = null;

/** WebGPU's bytes of buffers in use (numBytesInGPU), read from the backend directly (cheap). */
function gpuBytes(): number | undefined {
  const m = (tf.backend() as { memory?: () => { numBytesInGPU?: number } }).memory?.();
  return m?.numBytesInGPU;
}

/**
 * Tracks the high-water mark of the engine's tensor bytes after every kernel: wraps the tfjs
 * engine's runKernelFunc (every op goes through it), which costs one comparison per kernel.
 * tf.memory() sampled between passes would miss the intermediates a pass frees at its end.
 */
export function installPeakTracker(): PeakTracker {
  if (tracker) return tracker;
  const engine = tf.engine() as unknown as TrackedEngine;
  const original = engine.runKernelFunc;
  let peak = 0;
  let gpuPeak: number | undefined;
  const sampleGpu = tf.getBackend() === "webgpu";
  engine.runKernelFunc = function (this: TrackedEngine, params: unknown) {
    const out = original.call(this, params);
    if (this.state.numBytes > peak) peak = this.state.numBytes;
    if (sampleGpu) {
      const g = gpuBytes();
      if (g !== undefined && (gpuPeak === undefined || g > gpuPeak)) gpuPeak = g;
    }
    return out;
  };
  tracker = {
    reset() {
      peak = tf.memory().numBytes;
      gpuPeak = sampleGpu ? gpuBytes() : undefined;
    },
    peak: () => Math.max(peak, tf.memory().numBytes),
    gpuPeak: () => gpuPeak,
  };
  return tracker;
}

interface RawRun {
  measure: StrategyMeasure;
  rows: Map<number, Float32Array>;
}

/** Runs one sweep with one strategy, optionally stopping after `maxRows` rows. */
export async function measureSweep(
  host: TraceHost,
  prompt: BenchPrompt,
  sweep: SweepName,
  strategy: Strategy,
  samples: number,
  maxRows?: number,
): Promise<RawRun> {
  const peak = installPeakTracker();
  const { nLayer: L } = host.model.config;
  const rowsTotal = sweep === "heads" ? L : prompt.ids.length;
  const rows = new Map<number, Float32Array>();
  const signal = { cancelled: false };
  let firstRow = Number.NaN;
  let lastRow = Number.NaN;
  let baselineAt = Number.NaN;
  let evaluations = 0;
  let high = Number.NaN;
  let low = Number.NaN;
  const onRow = ({ index, values }: { index: number; values: Float32Array }) => {
    const t = now();
    if (Number.isNaN(firstRow)) firstRow = t;
    lastRow = t;
    rows.set(index, values);
    if (maxRows !== undefined && rows.size >= maxRows) signal.cancelled = true;
  };
  const onProgress = (p: Progress) => {
    evaluations = Math.max(evaluations, p.total);
  };
  const before = tf.memory().numBytes;
  peak.reset();
  const started = now();
  let complete = true;
  try {
    if (sweep === "heads") {
      const r = await runPatch(
        host,
        {
          clean: prompt.ids,
          corrupt: prompt.corruptIds,
          target: prompt.target,
          foil: prompt.foil,
          site: "head_out",
          strategy,
        },
        {
          signal,
          onRow,
          onProgress,
          onBaseline: (b) => {
            baselineAt = now();
            high = b.clean_logit_diff;
            low = b.corrupt_logit_diff;
          },
        },
      );
      evaluations = r.evaluations;
    } else {
      const r = await runTrace(
        host,
        { prompt: prompt.ids, subject: prompt.subject, kind: sweep, samples, strategy },
        {
          signal,
          onRow,
          onProgress,
          onBaseline: (b) => {
            baselineAt = now();
            high = b.high;
            low = b.low;
          },
        },
      );
      evaluations = r.evaluations;
    }
  } catch (e) {
    if (!(e instanceof CancelledError)) throw e;
    complete = false;
  }
  const ended = complete ? now() : lastRow;
  const msMeasured = ended - started;
  const baselineMs = baselineAt - started;
  const ms = complete
    ? msMeasured
    : baselineMs + ((ended - baselineAt) * rowsTotal) / Math.max(1, rows.size);
  const peakBytes = peak.peak();
  const gpuPeakBytes = peak.gpuPeak();
  const left = tf.memory().numBytes - before;
  if (left !== 0) throw new Error(`${strategy} ${sweep} left ${left} bytes of tensors behind`);
  return {
    measure: {
      strategy,
      ms,
      msMeasured,
      baselineMs,
      evaluations,
      firstRowMs: firstRow - started,
      peakBytes,
      peakAboveStart: peakBytes - before,
      ...(gpuPeakBytes !== undefined ? { gpuPeakBytes } : {}),
      rowsDone: rows.size,
      rowsTotal,
      extrapolated: !complete,
      high,
      low,
    },
    rows,
  };
}

/** Number of cells of a sweep on this model and prompt. */
export function cellCount(model: Gpt2Model, prompt: BenchPrompt, sweep: SweepName): number {
  const { nLayer: L, nHead: H } = model.config;
  return sweep === "heads" ? L * H : prompt.ids.length * L;
}

/** Fast, then naive, on the same sweep; compares their scores. */
export async function benchSweep(
  host: TraceHost,
  backend: string,
  modelName: string,
  prompt: BenchPrompt,
  sweep: SweepName,
  opts: SweepOptions,
): Promise<BenchRow> {
  const samples = sweep === "heads" ? 1 : opts.samples;
  const fast = await measureSweep(host, prompt, sweep, "fast", samples);
  const naive = await measureSweep(host, prompt, sweep, "naive", samples, opts.naiveRows);
  let maxAbsDiff = 0;
  let worst: BenchRow["worst"];
  const see = (at: string, f: number, n: number) => {
    const d = Math.abs(f - n);
    if (d <= maxAbsDiff) return;
    maxAbsDiff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
    worst = { at, fast: f, naive: n };
  };
  see("high", fast.measure.high, naive.measure.high);
  see("low", fast.measure.low, naive.measure.low);
  let compared = 0;
  for (const [index, nv] of naive.rows) {
    const fv = fast.rows.get(index);
    if (!fv || fv.length !== nv.length) {
      see(`row ${index} (missing)`, Number.NaN, 0);
      continue;
    }
    compared++;
    for (let i = 0; i < nv.length; i++) see(`row ${index}, column ${i}`, fv[i], nv[i]);
  }
  const row: BenchRow = {
    backend,
    model: modelName,
    prompt: prompt.label,
    tokens: prompt.ids.length,
    sweep,
    samples,
    cells: cellCount(host.model, prompt, sweep),
    fast: fast.measure,
    naive: naive.measure,
    timeRatio: fast.measure.ms / naive.measure.ms,
    evalRatio: fast.measure.evaluations / naive.measure.evaluations,
    maxAbsDiff,
    comparedRows: compared,
    ...(worst && maxAbsDiff > 0 ? { worst } : {}),
  };
  opts.log?.(formatRowLine(row));
  return row;
}

/** One line per benchmark row, for progress output. */
export function formatRowLine(r: BenchRow): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  return (
    `${r.backend} ${r.model} ${r.prompt}(${r.tokens}) ${r.sweep.padEnd(6)} N=${r.samples}: ` +
    `fast ${s(r.fast.ms)} / naive ${s(r.naive.ms)}${r.naive.extrapolated ? ` (extrapolated from ${r.naive.rowsDone}/${r.naive.rowsTotal} rows)` : ""} = ${r.timeRatio.toFixed(3)}; ` +
    `evals ${r.fast.evaluations} / ${r.naive.evaluations} = ${r.evalRatio.toFixed(3)}; ` +
    `max |fast − naive| ${r.maxAbsDiff.toExponential(1)}` +
    (r.worst && r.maxAbsDiff > DIFF_TOLERANCE
      ? ` MISMATCH at ${r.worst.at}: fast ${r.worst.fast} naive ${r.worst.naive}`
      : "")
  );
}

/** The `k` most likely next tokens after `ids`, most likely first. */
export async function topTokens(model: Gpt2Model, ids: number[], k: number): Promise<number[]> {
  const top = tf.tidy(() => {
    const { logits } = model.forward({ inputIds: [ids], logitPositions: "last" });
    return tf.topk(logits.reshape([-1]), k, true).indices;
  });
  try {
    return Array.from(await top.data());
  } finally {
    top.dispose();
  }
}

/**
 * A warm-up before any timing on a model and backend. "light" (wasm: start-up and XNNPACK's
 * packed weights, which any pass sets up): both strategies on a hidden trace, stopped after their
 * first row. "full" (webgpu: shader compilation, buffer pools; tfjs-webgpu keys its shaders on
 * ranks and broadcast patterns, not sizes, so one pass of each kind compiles them): a fast hidden
 * trace stopped after two rows, a whole fast head sweep, and naive on the first row of both.
 */
export async function warmUp(
  host: TraceHost,
  prompt: BenchPrompt,
  samples: number,
  depth: "light" | "full",
): Promise<number> {
  const t = now();
  await measureSweep(host, prompt, "hidden", "fast", samples, depth === "light" ? 1 : 2);
  await measureSweep(host, prompt, "hidden", "naive", samples, 1);
  if (depth === "full") {
    await measureSweep(host, prompt, "heads", "fast", 1);
    await measureSweep(host, prompt, "heads", "naive", 1, 1);
  }
  return now() - t;
}
