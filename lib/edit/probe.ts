/**
 * A small L2-regularised logistic-regression probe, as ITI fits one per attention head
 * (sklearn LogisticRegression, C = 1, on a seeded 80/20 split; docs/methods.md §2b).
 *
 * Written here rather than taken from a library: the JS machine-learning packages that offer
 * logistic regression are unmaintained or pull in a second tensor runtime, and the fit we need
 * is a few lines: features standardised on the training split, then Newton's method (IRLS) on
 *   Σᵢ log(1 + exp(−sᵢ (w·xᵢ + b))) + ½‖w‖²      (sᵢ = ±1; b is not penalised)
 * with the (d+1)×(d+1) system solved by Cholesky. It is deterministic given the split, runs in
 * float64 on the host and converges in a handful of steps for head-sized inputs (d = 32…128).
 */
import { GaussianRng } from "../interp/rng";
import { cholesky, choleskySolve } from "./linalg";
import type { HeadRef } from "./types";

export interface LogisticFit {
  /** Weights on standardised features, and the bias. */
  w: Float64Array;
  b: number;
  mean: Float64Array;
  std: Float64Array;
  iterations: number;
}

export interface ProbeScore {
  train_accuracy: number;
  val_accuracy: number;
}

/** Seeded shuffle of 0…n−1 (Fisher–Yates on lib/interp/rng.ts's uniform stream). */
export function shuffled(n: number, seed: number): number[] {
  const rng = new GaussianRng(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.nextUniform() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

/**
 * Train/validation indices: a seeded shuffle, the first ⌈ratio·n⌉ for validation, with at
 * least one example of each split when n ≥ 2.
 */
export function splitIndices(
  n: number,
  valRatio: number,
  seed: number,
): { train: number[]; val: number[] } {
  const idx = shuffled(n, seed);
  const nVal = n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.ceil(valRatio * n)));
  return { val: idx.slice(0, nVal), train: idx.slice(nVal) };
}

export function fitLogistic(
  X: readonly ArrayLike<number>[],
  y: readonly number[],
  opts: { l2?: number; maxIter?: number; tol?: number } = {},
): LogisticFit {
  const l2 = opts.l2 ?? 1;
  const maxIter = opts.maxIter ?? 50;
  const tol = opts.tol ?? 1e-8;
  const n = X.length;
  const d = X[0]?.length ?? 0;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (const x of X) for (let j = 0; j < d; j++) mean[j] += x[j] / n;
  for (const x of X) for (let j = 0; j < d; j++) std[j] += (x[j] - mean[j]) ** 2 / n;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]) || 1;
  const Z = X.map((x) => Float64Array.from({ length: d }, (_, j) => (x[j] - mean[j]) / std[j]));
  const p1 = d + 1; // weights, then bias
  const theta = new Float64Array(p1);
  let it = 0;
  for (; it < maxIter; it++) {
    const g = new Float64Array(p1);
    const H = new Float64Array(p1 * p1);
    for (let i = 0; i < n; i++) {
      const z = Z[i];
      let s = theta[d];
      for (let j = 0; j < d; j++) s += theta[j] * z[j];
      const p = 1 / (1 + Math.exp(-s));
      const r = p - y[i];
      const wgt = Math.max(p * (1 - p), 1e-12);
      for (let j = 0; j < p1; j++) {
        const zj = j < d ? z[j] : 1;
        g[j] += r * zj;
        const row = j * p1;
        for (let k = 0; k <= j; k++) H[row + k] += wgt * zj * (k < d ? z[k] : 1);
      }
    }
    for (let j = 0; j < p1; j++) for (let k = 0; k < j; k++) H[k * p1 + j] = H[j * p1 + k];
    for (let j = 0; j < d; j++) {
      g[j] += l2 * theta[j];
      H[j * p1 + j] += l2;
    }
    H[d * p1 + d] += 1e-9;
    const step = choleskySolve(cholesky(H, p1), p1, g);
    let change = 0;
    for (let j = 0; j < p1; j++) {
      theta[j] -= step[j];
      change = Math.max(change, Math.abs(step[j]));
    }
    if (change < tol) {
      it++;
      break;
    }
  }
  return { w: theta.slice(0, d), b: theta[d], mean, std, iterations: it };
}

export function predictLogistic(fit: LogisticFit, x: ArrayLike<number>): number {
  let s = fit.b;
  for (let j = 0; j < fit.w.length; j++) s += (fit.w[j] * (x[j] - fit.mean[j])) / fit.std[j];
  return s > 0 ? 1 : 0;
}

export function accuracy(
  fit: LogisticFit,
  X: readonly ArrayLike<number>[],
  y: readonly number[],
): number {
  if (X.length === 0) return Number.NaN;
  let ok = 0;
  X.forEach((x, i) => {
    if (predictLogistic(fit, x) === y[i]) ok++;
  });
  return ok / X.length;
}

/** Fits on the training split and scores both splits. */
export function probe(
  X: readonly ArrayLike<number>[],
  y: readonly number[],
  split: { train: number[]; val: number[] },
): ProbeScore & { fit: LogisticFit } {
  const Xt = split.train.map((i) => X[i]);
  const yt = split.train.map((i) => y[i]);
  const fit = fitLogistic(Xt, yt);
  return {
    fit,
    train_accuracy: accuracy(fit, Xt, yt),
    val_accuracy: accuracy(
      fit,
      split.val.map((i) => X[i]),
      split.val.map((i) => y[i]),
    ),
  };
}

/**
 * Heads by decreasing validation accuracy [L][H] (NaN last; ties: training accuracy, then
 * lower layer and head): the order top-K head selection takes.
 */
export function rankHeads(
  val: readonly (readonly number[])[],
  train: readonly (readonly number[])[],
): (HeadRef & { accuracy: number })[] {
  const key = (x: number) => (Number.isNaN(x) ? -1 : x);
  const all = val.flatMap((row, layer) =>
    row.map((accuracy, head) => ({ layer, head, accuracy, train: train[layer][head] })),
  );
  all.sort(
    (a, b) =>
      key(b.accuracy) - key(a.accuracy) ||
      b.train - a.train ||
      a.layer - b.layer ||
      a.head - b.head,
  );
  return all.map(({ layer, head, accuracy }) => ({ layer, head, accuracy }));
}
