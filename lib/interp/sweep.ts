/**
 * The machinery shared by every sweep (causal trace, activation patching): a grid of cells, each
 * cell a set of clean activations copied into the corrupted run, run by one of two engines that
 * give the same numbers (lib/interp/naive.ts, lib/interp/fast.ts), streamed row by row.
 *
 * ## Evaluations (the unit of work every result reports)
 *
 * One evaluation = one transformer block computing its output (hook_resid_post) at one token
 * position of one sequence (one batch row: one noise sample of one cell). Embedding and
 * unembedding are not counted. Every block application a strategy performs is counted: the clean
 * run, the corrupted (low_score) run, and every cell. With P positions (prompt + teacher-forced
 * continuation), L layers, N rows per cell (noise samples; 1 for prompt corruption), C cells:
 *
 *   naive = P·L  (clean)  +  N·P·L  (corrupted)  +  C · N·P·L          (one full forward per cell)
 *   fast  = P·L  (clean)  +  N·(P − t0)·L  (corrupted, the prefix before the first corrupted
 *           position t0 reused from the clean run)  +  Σ over cells of
 *             N·(P − t)·(L − f)                 in general,
 *             N + N·(P − t)·(L − f − 1)         with singlePosition, when block f changes
 *                                               position t only,
 *
 * where a cell's t is the first position it patches and f the first block whose output it
 * changes: hidden at layer l: f = l + 1 (block l's output is the clean one, nothing in block l
 * is recomputed); mlp / attn window [lo, hi): f = lo; patching at layer l: f = l. "Block f changes
 * position t only" holds when the cell's patches at block f are attn_out / mlp_out / a head's z
 * at t alone (positions after t read block f's keys and values, which are unchanged), so block f
 * runs on position t alone (an option, off by default: see SweepSetup.singlePosition). Cells that patch only positions before t0 change nothing and cost
 * nothing in `fast` (their value is the corrupted run's).
 *
 * Example (issue's criterion): a hidden trace of T = P = 10 tokens, subject from token 1 (t0 = 1),
 * L = 4, N = 10: naive 16,440, fast 3,100 (0.19). The ratio tends to
 * (L − 1)/(2L) · (T − t0)(T − t0 + 1)/(2T²) for many samples: the two triangles skipped.
 * Wall time saves less than evaluations: every cell still unembeds its N rows (V·D each).
 */
import * as tf from "@tensorflow/tfjs";
import type { Gpt2Model } from "../model/gpt2";
import { type BlockHook, blockHook, type HookName } from "../model/hooks";
import { type CancelSignal, nextTick, throwIfCancelled } from "./cancel";

/**
 * Where a clean activation is copied into the corrupted run: hook_resid_pre, hook_resid_post,
 * hook_attn_out, hook_mlp_out of a layer, or attn.hook_z of one head.
 */
export type CellSite = "resid_pre" | "resid_post" | "attn_out" | "mlp_out" | "z";

export interface CellPatch {
  site: CellSite;
  layer: number;
  /** Absolute token positions (ascending). */
  positions: number[];
  /** For site "z": the head. */
  head?: number;
}

/** One cell of a sweep: every patch applied together in one corrupted run. */
export interface Cell {
  patches: CellPatch[];
}

const SITE_HOOKS: Record<CellSite, BlockHook> = {
  resid_pre: "hook_resid_pre",
  resid_post: "hook_resid_post",
  attn_out: "hook_attn_out",
  mlp_out: "hook_mlp_out",
  z: "attn.hook_z",
};

export function siteHook(p: CellPatch): HookName {
  return blockHook(p.layer, SITE_HOOKS[p.site]);
}

/** Reads the scored logits of R rows into M numbers per row. Runs inside tf.tidy. */
export interface Metric {
  size: number;
  /** logits [R, S, V] at the scored positions → [R, size]. */
  compute(logits: tf.Tensor3D): tf.Tensor2D;
}

/**
 * Probability of a continuation (teacher forced): Π_s p(target[s] | prefix) from logits at S
 * consecutive positions. One target token: its probability at the last position.
 */
export function continuationProbMetric(target: number[], vocabSize: number): Metric {
  return {
    size: 1,
    compute(logits) {
      const [R, S] = logits.shape;
      if (S !== target.length)
        throw new Error(`metric expects ${target.length} positions, got ${S}`);
      const V = logits.shape[2];
      if (V !== vocabSize) throw new Error(`metric expects ${vocabSize} logits, got ${V}`);
      // softmax, not exp(logSoftmax): one XNNPACK kernel on wasm (logSoftmax is six, with an
      // element-by-element Exp: ~8× slower on GPT-2's vocabulary) and closer to float64 here
      const p = tf.softmax(logits.reshape([R * S, V])).reshape([R, S, V]); // [R, S, V]
      // (tf.oneHot with float32 output returns zeros on the wasm backend: gather per position)
      const per = target.map((id, s) =>
        p
          .slice([0, s, 0], [R, 1, V])
          .reshape([R, V])
          .gather(tf.tensor1d([id], "int32"), 1),
      ); // S × [R, 1]
      return per.reduce((a, b) => a.mul(b)) as tf.Tensor2D; // [R, 1]: Π_s p(target[s])
    },
  };
}

/** [logit(target) − logit(foil), p(target)] at one scored position. */
export function logitDiffMetric(target: number, foil: number): Metric {
  return {
    size: 2,
    compute(logits) {
      const [R] = logits.shape;
      const last = logits.reshape([R, logits.shape[2]]); // [R, V] (one scored position)
      const pair = last.gather(tf.tensor1d([target, foil], "int32"), 1); // [R, 2]
      const [lt, lf] = tf.split(pair, 2, 1); // [R, 1] each
      const p = tf.softmax(last, -1).gather(tf.tensor1d([target], "int32"), 1); // [R, 1]
      return tf.concat([lt.sub(lf), p], 1) as tf.Tensor2D; // [R, 2]
    },
  };
}

/** The two runs a sweep interpolates between, and what it scores. */
export interface SweepSetup {
  model: Gpt2Model;
  /** P ids of the clean run (prompt + teacher-forced continuation). */
  cleanIds: number[];
  /** P ids of the corrupted run (= cleanIds under noise corruption). */
  corruptIds: number[];
  /** Rows per cell: noise samples, or 1. */
  rows: number;
  /**
   * Noise added to hook_embed (token embeddings) of every corrupted row at `positions`;
   * values [rows, positions.length, D] row-major.
   */
  noise?: { positions: number[]; values: Float32Array };
  /** Absolute positions whose logits the metric reads (ascending, consecutive). */
  scored: number[];
  /** Sites whose clean activations cells will copy. */
  sites: ReadonlySet<CellSite>;
  /** fast only: most batch rows in one pass (default from a memory budget). */
  maxBatchRows?: number;
  /**
   * fast only: run block f on position t alone where a cell changes only that position there.
   * Default false: it saves evaluations (mlp/attn traces ~25% fewer) but adds a small block call
   * per pass and first block, and measured wall time got no better on wasm and 1.7× worse on
   * WebGPU (SwiftShader), where kernel launches dominate.
   */
  singlePosition?: boolean;
}

/** First position where the corrupted run differs from the clean run. */
export function firstCorrupted(setup: SweepSetup): number {
  let t0 = setup.cleanIds.length;
  for (let i = 0; i < setup.cleanIds.length; i++) {
    if (setup.cleanIds[i] !== setup.corruptIds[i]) {
      t0 = i;
      break;
    }
  }
  if (setup.noise && setup.noise.positions.length > 0) t0 = Math.min(t0, ...setup.noise.positions);
  return t0;
}

/** Cells run together in one pass, and what that pass costs in evaluations. */
export interface PlannedGroup {
  cells: number[];
  cost: number;
}

export interface Baseline {
  /** Metric of the clean run [M]. */
  clean: Float64Array;
  /** Metric of the corrupted run, averaged over rows [M]. */
  corrupt: Float64Array;
}

/** A strategy: the naive reference or the fast path. Owns tensors until dispose(). */
export interface SweepEngine {
  readonly strategy: "fast" | "naive";
  /** Evaluations spent so far. */
  readonly evaluations: number;
  /** The clean run; returns the argmax token at the first scored position. */
  clean(): Promise<{ top1: number }>;
  /** Metric of the clean run and of the corrupted run (after clean()). */
  baseline(metric: Metric): Promise<Baseline>;
  /** Total evaluations clean() + baseline() spend (for progress). */
  baselineCost(): number;
  /** How the cells will be run, in order (after baseline()). */
  plan(cells: Cell[]): PlannedGroup[];
  /** Runs one group: metric per cell averaged over rows, [cells × M]. */
  run(group: PlannedGroup): Promise<Float64Array>;
  dispose(): void;
}

export interface Progress {
  phase: "clean" | "corrupted" | "sweep";
  /** Evaluations done and planned in total; an ETA is (elapsed / done) · (total − done). */
  done: number;
  total: number;
}

export interface GridRow {
  /** Which row: a token position (trace, patching by position) or a layer (head_out). */
  index: number;
  values: Float32Array;
}

export interface GridOptions {
  signal?: CancelSignal;
  onProgress?: (p: Progress) => void;
  onRow?: (row: GridRow) => void;
}

/** What runGrid sweeps: the cells, their planned groups, and how cells make rows and values. */
export interface GridJob extends GridOptions {
  engine: SweepEngine;
  cells: Cell[];
  groups: PlannedGroup[];
  /** rows[r].cells: the cells whose values make row r. */
  rows: { index: number; cells: number[] }[];
  /** Raw metric values per cell. */
  metricSize: number;
  /** A cell's raw metric values → the number shown. */
  value: (cell: number, raw: Float64Array) => number;
  /** Evaluations done before the grid (the baseline) and planned in all (for progress). */
  done0: number;
  total: number;
}

/**
 * Runs every cell, streaming rows: `rows[r]` lists the cells whose values make row r, and
 * `value(cell, raw)` turns a cell's raw metric values into the number shown. Checks for
 * cancellation and yields to the event loop before each pass.
 */
export async function runGrid(opts: GridJob): Promise<Float64Array> {
  const { engine, cells, groups, rows, metricSize, value, done0, total } = opts;
  const out = new Float64Array(cells.length);
  const have = new Uint8Array(cells.length);
  const remaining = rows.map((r) => r.cells.length);
  const rowsOfCell: number[][] = cells.map(() => []);
  rows.forEach((r, ri) => {
    for (const c of r.cells) rowsOfCell[c].push(ri);
  });
  const emitted = new Uint8Array(rows.length);
  const emit = (ri: number) => {
    if (emitted[ri]) return;
    emitted[ri] = 1;
    const r = rows[ri];
    opts.onRow?.({ index: r.index, values: Float32Array.from(r.cells, (c) => out[c]) });
  };
  let done = done0;
  for (const g of groups) {
    if (g.cost > 0) {
      await nextTick();
      throwIfCancelled(opts.signal);
    }
    const raw = await engine.run(g);
    g.cells.forEach((c, i) => {
      out[c] = value(c, raw.subarray(i * metricSize, (i + 1) * metricSize));
      if (!have[c]) {
        have[c] = 1;
        for (const ri of rowsOfCell[c]) if (--remaining[ri] === 0) emit(ri);
      }
    });
    done += g.cost;
    opts.onProgress?.({ phase: "sweep", done, total });
  }
  return out;
}

export function totalPlannedCost(groups: PlannedGroup[]): number {
  return groups.reduce((a, g) => a + g.cost, 0);
}

/** Mean over consecutive blocks of `rows` rows: [C·rows, M] → [C, M], in float64. */
export function meanRows(data: Float32Array | Float64Array, rows: number, M: number): Float64Array {
  const C = data.length / (rows * M);
  const out = new Float64Array(C * M);
  for (let c = 0; c < C; c++) {
    for (let r = 0; r < rows; r++) {
      for (let m = 0; m < M; m++) out[c * M + m] += data[(c * rows + r) * M + m];
    }
    for (let m = 0; m < M; m++) out[c * M + m] /= rows;
  }
  return out;
}
