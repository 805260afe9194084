/** lib/viz/scales.ts: ROME's colour maps, the shared domain, the diverging scale. */
import { interpolateGreens, interpolatePurples, interpolateRdBu, interpolateReds } from "d3";
import { describe, expect, it } from "vitest";
import {
  divergingScale,
  finiteMax,
  niceCeil,
  symmetricDomain,
  TRACE_SCHEMES,
  textOn,
  traceDomain,
  traceScale,
} from "../lib/viz/scales";

describe("trace colour scales", () => {
  it("use ROME's maps: hidden Purples, MLP Greens, attention Reds", () => {
    expect(TRACE_SCHEMES.hidden.name).toBe("Purples");
    expect(TRACE_SCHEMES.mlp.name).toBe("Greens");
    expect(TRACE_SCHEMES.attn.name).toBe("Reds");
    expect(traceScale("hidden", 0.2, 0.9).color(0.9)).toBe(interpolatePurples(1));
    expect(traceScale("mlp", 0.2, 0.9).color(0.9)).toBe(interpolateGreens(1));
    expect(traceScale("attn", 0.2, 0.9).color(0.9)).toBe(interpolateReds(1));
  });

  it("start at low_score: low is the lightest colour, values below it clamp there", () => {
    const s = traceScale("hidden", 0.4, 0.9);
    expect(s.domain).toEqual([0.4, 0.9]);
    expect(s.color(0.4)).toBe(interpolatePurples(0));
    expect(s.color(0.1)).toBe(interpolatePurples(0));
    expect(s.t(0.65)).toBeCloseTo(0.5, 12);
  });

  it("unfilled cells (NaN) have no colour", () => {
    expect(traceScale("mlp", 0, 1).color(Number.NaN)).toBeNull();
  });

  it("the top is max(high_score, largest value), ignoring unfilled cells", () => {
    expect(traceDomain(0.3, 0.8, [0.5, Number.NaN, 0.7])).toEqual([0.3, 0.8]);
    expect(traceDomain(0.3, 0.8, [0.5, Number.NaN, 0.95])).toEqual([0.3, 0.95]);
    expect(finiteMax([Number.NaN])).toBe(Number.NEGATIVE_INFINITY);
    const [lo, hi] = traceDomain(0.5, 0.5);
    expect(hi).toBeGreaterThan(lo); // never an empty domain
  });
});

describe("diverging scale", () => {
  it("is centred at 0 (RdBu midpoint), blue for positive, red for negative", () => {
    const s = divergingScale([-1, 1]);
    expect(s.color(0)).toBe(interpolateRdBu(0.5));
    expect(s.color(1)).toBe(interpolateRdBu(1));
    expect(s.color(-1)).toBe(interpolateRdBu(0));
  });

  it("a symmetric nice domain covers the largest |value|, at least the floor", () => {
    expect(symmetricDomain([0.3, -0.72, Number.NaN])).toEqual([-1, 1]);
    expect(symmetricDomain([0.03, -0.01])).toEqual([-0.1, 0.1]);
    expect(symmetricDomain([0.18, -0.01])).toEqual([-0.2, 0.2]);
    expect(symmetricDomain([1.7])).toEqual([-2, 2]);
  });

  it("niceCeil rounds up to 1, 2, 2.5 or 5 × 10^k", () => {
    expect(niceCeil(0.72)).toBe(1);
    expect(niceCeil(0.21)).toBe(0.25);
    expect(niceCeil(3)).toBe(5);
    expect(niceCeil(10)).toBe(10);
    expect(niceCeil(0)).toBe(1);
  });
});

describe("text colour", () => {
  it("is black on light cells and white on dark ones", () => {
    expect(textOn(interpolatePurples(0))).toBe("#000");
    expect(textOn(interpolatePurples(1))).toBe("#fff");
    expect(textOn("#ffffff")).toBe("#000");
  });
});
