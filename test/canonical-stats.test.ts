/**
 * The canonical evaluation's spread and grid choice (lib/edit/canonical-stats.ts,
 * canonical-grid.ts) on constructed cases with known answers: the standard error of a known
 * sample, the bootstrap interval of paired differences (degenerate when every difference is the
 * same, around the mean otherwise), and a grid extended past a winning edge but not past an
 * interior winner.
 */
import { describe, expect, it } from "vitest";
import { chooseSetting, gridKey } from "../lib/edit/canonical-grid";
import type { MethodSetting } from "../lib/edit/canonical-methods";
import { pairedDiff, spread } from "../lib/edit/canonical-stats";

describe("spread over facts", () => {
  it("mean and per-fact standard error of a known sample", () => {
    // [0, 1, 1, 0]: mean 0.5, sample sd √(1/3), se √(1/3)/2
    const s = spread([0, 1, 1, 0]);
    expect(s.mean).toBe(0.5);
    expect(s.se).toBeCloseTo(Math.sqrt(1 / 3) / 2, 12);
    expect(spread([0.25]).se).toBe(0);
    expect(() => spread([])).toThrow(/no values/);
  });

  it("paired bootstrap: a constant difference has a zero-width interval", () => {
    const d = pairedDiff([1, 0.5, 0.75], [0.5, 0, 0.25]);
    expect(d.mean).toBeCloseTo(0.5, 12);
    expect(d.se).toBeCloseTo(0, 12);
    expect(d.lo).toBeCloseTo(0.5, 12);
    expect(d.hi).toBeCloseTo(0.5, 12);
  });

  it("paired bootstrap: the interval holds the mean, is seeded, and refuses unequal lengths", () => {
    const a = [1, 0, 1, 1, 0, 1, 1, 1, 0, 1];
    const b = [0, 0, 1, 0, 0, 0, 1, 0, 0, 0];
    const d = pairedDiff(a, b, { seed: 3 });
    expect(d.mean).toBeCloseTo(0.5, 12);
    // the differences are 0/1 with mean 0.5: the 95% interval is about 0.5 ± 1.96·0.158
    expect(d.lo).toBeGreaterThan(0.1);
    expect(d.lo).toBeLessThan(0.35);
    expect(d.hi).toBeGreaterThan(0.65);
    expect(d.hi).toBeLessThanOrEqual(0.9);
    expect(pairedDiff(a, b, { seed: 3 })).toEqual(d);
    expect(() => pairedDiff([1], [1, 2])).toThrow(/one length/);
  });
});

describe("grid choice on validation", () => {
  const lora = (lr: number): MethodSetting => ({ method: "lora", lr });
  /** A validation score peaked at `peak` (log scale). */
  const run = (peak: number) => {
    const seen: number[] = [];
    const score = async (s: MethodSetting) => {
      seen.push(s.lr as number);
      return { setting: s, v: -Math.abs(Math.log10(s.lr as number) - Math.log10(peak)) };
    };
    const better = (x: { v: number }, y: { v: number }) => x.v > y.v;
    return { seen, score, better };
  };

  it("an interior winner is chosen without extending", async () => {
    const r = run(0.01);
    const c = await chooseSetting({ grid: [0.003, 0.01, 0.03].map(lora), ...r, maxExtend: 2 });
    expect(c.chosen.lr).toBe(0.01);
    expect(c.at_edge).toBe(false);
    expect(r.seen).toEqual([0.003, 0.01, 0.03]);
  });

  it("a winning edge extends the grid geometrically until the winner is interior", async () => {
    const r = run(0.25);
    const c = await chooseSetting({ grid: [0.01, 0.03, 0.003].map(lora), ...r, maxExtend: 3 });
    // 0.03 wins → 0.09 (0.03²/0.01) wins → 0.27 wins → 0.81 loses: 0.27 is interior
    expect(r.seen.map((x) => Number(x.toPrecision(3)))).toEqual([
      0.003, 0.01, 0.03, 0.09, 0.27, 0.81,
    ]);
    expect(c.chosen.lr).toBeCloseTo(0.27, 12);
    expect(c.at_edge).toBe(false);
    expect(c.results).toHaveLength(6);
  });

  it("the low edge extends downwards; a spent budget is reported as at_edge", async () => {
    const r = run(1e-6);
    const c = await chooseSetting({ grid: [1e-4, 1e-3].map(lora), ...r, maxExtend: 1 });
    expect(r.seen.map((x) => Number(x.toPrecision(3)))).toEqual([1e-4, 1e-3, 1e-5]);
    expect(c.chosen.lr).toBeCloseTo(1e-5, 15);
    expect(c.at_edge).toBe(true);
  });

  it("one setting is no choice; a grid must vary lr or λ", async () => {
    const r = run(1);
    const c = await chooseSetting({ grid: [{ method: "rome" }], ...r, maxExtend: 2 });
    expect(c).toEqual({ results: [], chosen: { method: "rome" }, at_edge: false });
    expect(
      gridKey([
        { method: "lora+forget", lambda: 1 },
        { method: "lora+forget", lambda: 10 },
      ]),
    ).toBe("lambda");
    expect(() => gridKey([{ method: "lora", lr: 1 }, { method: "rome" }])).toThrow(/lr or lambda/);
  });
});
