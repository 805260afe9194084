/** lib/viz/curves.ts: the dataset chart's extent and drawable groups. */
import { describe, expect, it } from "vitest";
import { curvesExtent, drawable, GROUP_COLOR, GROUP_LABEL } from "../lib/viz/curves";

const curve = (group: string, n: number, mean: number[], pad = 0.01) => ({
  group,
  n,
  mean,
  lo: mean.map((v) => v - pad),
  hi: mean.map((v) => v + pad),
});

describe("dataset curves", () => {
  it("the extent covers every band and always 0", () => {
    expect(curvesExtent([curve("last", 3, [0.1, 0.3])])).toEqual([0, 0.31]);
    const e = curvesExtent([curve("a", 3, [-0.2, 0.1]), curve("b", 2, [0.05, 0.5])])!;
    expect(e[0]).toBeCloseTo(-0.21, 12);
    expect(e[1]).toBeCloseTo(0.51, 12);
  });

  it("empty groups (NaN curves) are not drawn and do not stretch the extent", () => {
    const empty = curve("middle_subject", 0, [Number.NaN, Number.NaN]);
    expect(drawable([empty, curve("last", 1, [0.2, 0.1])]).map((c) => c.group)).toEqual(["last"]);
    expect(curvesExtent([empty])).toBeNull();
  });

  it("every ROME token group has a label and a colour", () => {
    for (const g of [
      "first_subject",
      "middle_subject",
      "last_subject",
      "first_after",
      "further",
      "last",
    ]) {
      expect(GROUP_LABEL[g]).toBeTruthy();
      expect(GROUP_COLOR[g]).toMatch(/^#/);
    }
  });
});
