/**
 * The spread of the canonical evaluation's means over facts (docs/recipes.md "Canonical
 * examples"): with 20 test facts a difference of 0.1 in a success rate may be noise, so every
 * mean is reported with its per-fact standard error, and two methods are compared fact by fact
 * (they edit the same facts) with a seeded percentile bootstrap of the mean paired difference.
 *
 *   se        sample standard deviation / √n (0 for one fact)
 *   bootstrap `draws` resamples of the n facts with replacement (xoshiro128** stream of
 *             lib/interp/rng.ts, seeded); the 2.5% and 97.5% quantiles of the resampled means
 */
import { deviation, mean, quantile } from "d3";
import { GaussianRng } from "../interp/rng";

export interface Spread {
  mean: number;
  /** Per-fact standard error of the mean. */
  se: number;
  n: number;
}

/** A mean paired difference a − b with its 95% bootstrap interval. */
export interface PairedDiff extends Spread {
  lo: number;
  hi: number;
}

/** Mean and per-fact standard error. */
export function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) throw new Error("spread of no values");
  const sd = xs.length > 1 ? (deviation(xs) ?? 0) : 0;
  return { mean: mean(xs) ?? Number.NaN, se: sd / Math.sqrt(xs.length), n: xs.length };
}

/** Mean of a − b over paired facts, its standard error and 95% percentile bootstrap interval. */
export function pairedDiff(
  a: readonly number[],
  b: readonly number[],
  o: { draws?: number; seed?: number } = {},
): PairedDiff {
  if (a.length !== b.length || a.length === 0)
    throw new Error(`paired values of one length needed, got ${a.length} and ${b.length}`);
  const d = a.map((x, i) => x - b[i]);
  const rng = new GaussianRng(o.seed ?? 0);
  const draws = o.draws ?? 2000;
  const means = new Float64Array(draws);
  for (let k = 0; k < draws; k++) {
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[Math.floor(rng.nextUniform() * d.length)];
    means[k] = s / d.length;
  }
  means.sort();
  return { ...spread(d), lo: quantile(means, 0.025) ?? 0, hi: quantile(means, 0.975) ?? 0 };
}
