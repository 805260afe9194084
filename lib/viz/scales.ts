/**
 * Colour scales of the causal-tracing screen, as ROME draws them (Meng et al. 2022, Fig. 1):
 * hidden states in Purples, MLP outputs in Greens, attention outputs in Reds (d3-scale-chromatic's
 * versions of matplotlib's maps), starting at low_score, the corrupted run's probability.
 *
 * Domain: [low_score, max(high_score, largest value)]. ROME lets the top follow each map's own
 * largest value; here the three maps of one trace share the top (the clean probability, or more
 * if a restoration overshoots it), so the same colour means the same probability in all three
 * and the scale stays put while rows stream in. Values under low_score (negative indirect
 * effect) take the lightest colour.
 *
 * Activation patching uses a diverging scale centred at 0 (RdBu: blue where patching restores
 * the clean behaviour, red where it pushes further towards the corrupted one).
 */
import { interpolateGreens, interpolatePurples, interpolateRdBu, interpolateReds, rgb } from "d3";

export type TraceKindName = "hidden" | "mlp" | "attn";

export interface SchemeInfo {
  /** The matplotlib / d3-scale-chromatic name. */
  name: "Purples" | "Greens" | "Reds";
  interpolate: (t: number) => string;
}

export const TRACE_SCHEMES: Record<TraceKindName, SchemeInfo> = {
  hidden: { name: "Purples", interpolate: interpolatePurples },
  mlp: { name: "Greens", interpolate: interpolateGreens },
  attn: { name: "Reds", interpolate: interpolateReds },
};

export interface SequentialScale {
  domain: [number, number];
  /** CSS colour of a value (clamped to the domain); NaN → null (an unfilled cell). */
  color(v: number): string | null;
  /** Position of v in [0, 1] along the scale (clamped). */
  t(v: number): number;
}

/** Largest finite value of a grid (NaN cells are unfilled); -Infinity when none. */
export function finiteMax(values: ArrayLike<number>): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v) && v > m) m = v;
  }
  return m;
}

/** [low, max(high, largest value)], never empty. */
export function traceDomain(
  low: number,
  high: number,
  values?: ArrayLike<number>,
): [number, number] {
  let hi = Math.max(high, values ? finiteMax(values) : Number.NEGATIVE_INFINITY);
  if (!(hi > low)) hi = low + 1e-6;
  return [low, hi];
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

export function sequentialScale(
  interpolate: (t: number) => string,
  domain: [number, number],
): SequentialScale {
  const [lo, hi] = domain;
  const span = hi - lo;
  const t = (v: number) => clamp01(span > 0 ? (v - lo) / span : 0);
  return {
    domain,
    t,
    color: (v) => (Number.isNaN(v) ? null : interpolate(t(v))),
  };
}

/** The colour scale of one trace kind. */
export function traceScale(
  kind: TraceKindName,
  low: number,
  high: number,
  values?: ArrayLike<number>,
): SequentialScale {
  return sequentialScale(TRACE_SCHEMES[kind].interpolate, traceDomain(low, high, values));
}

/** The smallest "nice" bound ≥ x from 1, 2, 2.5, 5 × 10^k (x > 0). */
export function niceCeil(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const v = m * p;
    if (v >= x * (1 - 1e-12)) return Number(v.toPrecision(12));
  }
  return 10 * p;
}

/**
 * Symmetric domain [-m, m] for a diverging scale: m = the largest |value| rounded up to a nice
 * number, at least `floor` (so a grid of near-zeros is not painted at full strength).
 */
export function symmetricDomain(values: ArrayLike<number>, floor = 0.1): [number, number] {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const v = Math.abs(values[i]);
    if (Number.isFinite(v) && v > m) m = v;
  }
  const b = niceCeil(Math.max(m, floor));
  return [-b, b];
}

/** Diverging RdBu centred at 0: t = 0.5 at 0, blue for positive values, red for negative. */
export function divergingScale(domain: [number, number]): SequentialScale {
  return sequentialScale(interpolateRdBu, domain);
}

/** Black or white, whichever reads better on `background` (WCAG relative luminance). */
export function textOn(background: string): "#000" | "#fff" {
  const c = rgb(background);
  const lin = (u: number) => {
    const s = u / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const L = 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
  return L > 0.4 ? "#000" : "#fff";
}
