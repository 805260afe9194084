/** Axis ticks for the heatmaps, the head grid and the colour bars. */
import { ticks as d3ticks } from "d3";

/**
 * Which of 0 … n−1 to label on an axis of n cells each `cellPx` wide: every one if they fit
 * (`minGapPx` apart), else every k-th with k from 1, 2, 5, 10, 20, … and always the last.
 */
export function indexTicks(n: number, cellPx: number, minGapPx = 14): number[] {
  if (n <= 0) return [];
  let k = 1;
  for (let i = 0; cellPx * k < minGapPx && k < n; i++)
    k = [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3);
  const out: number[] = [];
  for (let i = 0; i < n; i += k) out.push(i);
  if (out[out.length - 1] !== n - 1) {
    // the last index is always labelled; drop the tick before it if they would collide
    if (out.length > 1 && (n - 1 - out[out.length - 1]) * cellPx < minGapPx) out.pop();
    out.push(n - 1);
  }
  return out;
}

/** About `count` round ticks inside [lo, hi] (d3.ticks). */
export function rangeTicks(lo: number, hi: number, count = 4): number[] {
  if (!(hi > lo)) return [lo];
  return d3ticks(lo, hi, count).filter((v) => v >= lo - 1e-12 && v <= hi + 1e-12);
}

/** Tick label for a probability or score: up to 3 significant digits, no trailing zeros. */
export function tickLabel(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e4) return String(Number(v.toPrecision(3)));
  return v.toExponential(1);
}
