/** lib/viz: streaming grids, number and time formats, the once-per-frame throttle. */
import { describe, expect, it } from "vitest";
import {
  fmtDuration,
  fmtEta,
  fmtSigned,
  fmtValue,
  rangeText,
  tokenLabel,
  visibleToken,
} from "../lib/viz/format";
import { argMax, countFilled, emptyGrid, gridToRows, withRows } from "../lib/viz/grid";
import { throttleRAF } from "../lib/viz/raf";

describe("grids", () => {
  it("start unfilled and fill row by row without mutating the old grid", () => {
    const g0 = emptyGrid(3, 2);
    expect(countFilled(g0)).toBe(0);
    const g1 = withRows(g0, 2, [1], Float32Array.of(0.5, 0.25));
    expect(countFilled(g0)).toBe(0);
    expect(countFilled(g1)).toBe(2);
    const g2 = withRows(g1, 2, [0, 2], [1, 2, 3, 4]);
    expect(gridToRows(g2, 2)).toEqual([
      [1, 2],
      [0.5, 0.25],
      [3, 4],
    ]);
    expect(gridToRows(g1, 2)[0]).toEqual([null, null]);
    expect(argMax(g2, 2)).toEqual([2, 1, 4]);
    expect(argMax(g0, 2)).toBeNull();
  });

  it("refuse rows outside the grid and values of the wrong size", () => {
    const g = emptyGrid(2, 2);
    expect(() => withRows(g, 2, [2], [1, 2])).toThrow(/outside/);
    expect(() => withRows(g, 2, [0], [1, 2, 3])).toThrow(/values/);
  });
});

describe("formats", () => {
  it("tokens: whitespace visible, subject tokens starred as in ROME", () => {
    expect(visibleToken(" Paris")).toBe("·Paris");
    expect(visibleToken("")).toBe("∅");
    expect(tokenLabel(" Sten", true)).toBe("·Sten*");
    expect(tokenLabel(" lives", false)).toBe("·lives");
    expect(rangeText([0, 5])).toBe("tokens 0–4");
    expect(rangeText([3, 4])).toBe("token 3");
  });

  it("values and effects", () => {
    expect(fmtValue(0.39489762)).toBe("0.3949");
    expect(fmtValue(0.00001234)).toBe("1.23e-5");
    expect(fmtSigned(0.37)).toBe("+0.3700");
    expect(fmtSigned(-0.0123)).toBe("−0.0123");
  });

  it("durations and ETAs", () => {
    expect(fmtDuration(950)).toBe("1 s");
    expect(fmtDuration(61_000)).toBe("1 min 1 s");
    expect(fmtDuration(3_720_000)).toBe("1 h 2 min");
    expect(fmtEta(12_400)).toBe("about 12 s left");
    expect(fmtEta(100)).toBe("almost done");
    expect(fmtEta(undefined)).toBe("");
  });
});

describe("throttleRAF", () => {
  function fakeFrames() {
    let next = 1;
    const queue = new Map<number, (t: number) => void>();
    return {
      raf: (cb: (t: number) => void) => {
        queue.set(next, cb);
        return next++;
      },
      caf: (id: number) => queue.delete(id),
      frame() {
        const cbs = [...queue.values()];
        queue.clear();
        for (const cb of cbs) cb(0);
      },
      pending: () => queue.size,
    };
  }

  it("collapses calls within a frame into one call with the latest arguments", () => {
    const f = fakeFrames();
    const calls: number[] = [];
    const draw = throttleRAF((n: number) => calls.push(n), f.raf, f.caf);
    draw(1);
    draw(2);
    draw(3);
    expect(calls).toEqual([]);
    expect(f.pending()).toBe(1);
    f.frame();
    expect(calls).toEqual([3]);
    f.frame();
    expect(calls).toEqual([3]);
    draw(4);
    f.frame();
    expect(calls).toEqual([3, 4]);
  });

  it("flush runs a pending call now; cancel drops it", () => {
    const f = fakeFrames();
    const calls: string[] = [];
    const draw = throttleRAF((s: string) => calls.push(s), f.raf, f.caf);
    draw("a");
    draw.flush();
    expect(calls).toEqual(["a"]);
    expect(f.pending()).toBe(0);
    draw("b");
    draw.cancel();
    f.frame();
    expect(calls).toEqual(["a"]);
  });
});
