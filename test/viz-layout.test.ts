/** lib/viz: heatmap geometry, hit testing, axis ticks, token-range selection. */
import { describe, expect, it } from "vitest";
import { cellAt, heatmapLayout, monoWidth } from "../lib/viz/layout";
import { inRange, rangeToText, spanBetween } from "../lib/viz/selection";
import { indexTicks, rangeTicks, tickLabel } from "../lib/viz/ticks";

describe("heatmapLayout", () => {
  it("fits the cells in the width left by the labels, within the cell-width bounds", () => {
    const l = heatmapLayout({ rows: 10, cols: 6, labelWidth: 80, maxWidth: 330, cellH: 20 });
    expect(l.plot.x).toBe(90);
    expect(l.cellW).toBe(Math.floor((330 - 90 - 8) / 6));
    expect(l.plot.w).toBe(l.cellW * 6);
    expect(l.plot.h).toBe(200);
    expect(l.width).toBeLessThanOrEqual(330);
    expect(l.height).toBe(10 + 200 + 40);
  });

  it("clamps the cell width for very few or very many layers", () => {
    expect(heatmapLayout({ rows: 2, cols: 2, labelWidth: 10, maxWidth: 2000 }).cellW).toBe(40);
    expect(heatmapLayout({ rows: 2, cols: 48, labelWidth: 10, maxWidth: 200 }).cellW).toBe(6);
  });

  it("cellAt maps figure coordinates to (row, col) and is null outside the plot", () => {
    const l = heatmapLayout({ rows: 3, cols: 4, labelWidth: 40, maxWidth: 250, cellH: 10 });
    const { x, y } = l.plot;
    expect(cellAt(l, x, y)).toEqual({ row: 0, col: 0 });
    expect(cellAt(l, x + l.cellW * 3 + 1, y + 25)).toEqual({ row: 2, col: 3 });
    expect(cellAt(l, x - 1, y)).toBeNull();
    expect(cellAt(l, x, y + 30)).toBeNull();
    expect(cellAt(l, x + l.plot.w, y)).toBeNull();
  });

  it("monoWidth grows with the number of characters", () => {
    expect(monoWidth("abcd", 10)).toBe(24);
    expect(monoWidth("·Parrow*", 12)).toBeCloseTo(8 * 7.2, 9);
  });
});

describe("ticks", () => {
  it("label every index when cells are wide enough, else every 2, 5, 10 … and the last", () => {
    expect(indexTicks(6, 30)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(indexTicks(12, 8)).toEqual([0, 2, 4, 6, 8, 11]);
    expect(indexTicks(48, 6)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 47]);
    expect(indexTicks(0, 10)).toEqual([]);
    expect(indexTicks(1, 2)).toEqual([0]);
  });

  it("range ticks stay inside the range and labels are short", () => {
    const t = rangeTicks(0.3949, 0.9894, 4);
    expect(t.every((v) => v >= 0.3949 && v <= 0.9894)).toBe(true);
    expect(t.length).toBeGreaterThanOrEqual(2);
    expect(tickLabel(0.6)).toBe("0.6");
    expect(tickLabel(0.39489)).toBe("0.395");
    expect(tickLabel(0)).toBe("0");
    expect(tickLabel(-0.25)).toBe("-0.25");
    expect(tickLabel(2.5e-5)).toBe("2.5e-5");
  });
});

describe("token-range selection", () => {
  it("a drag in either direction gives the same end-exclusive range", () => {
    expect(spanBetween(1, 4)).toEqual([1, 5]);
    expect(spanBetween(4, 1)).toEqual([1, 5]);
    expect(spanBetween(2, 2)).toEqual([2, 3]);
  });

  it("inRange and rangeToText", () => {
    expect(inRange([1, 3], 1)).toBe(true);
    expect(inRange([1, 3], 3)).toBe(false);
    expect(inRange(null, 0)).toBe(false);
    expect(rangeToText(["R", "al", "krok", " Sten", "nos", " lives"], [0, 5])).toBe(
      "Ralkrok Stennos",
    );
  });
});
