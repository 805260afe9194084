/**
 * lib/export/edit-curve.ts curveCsv: with the unedited model's scores, a first `unedited,0` row
 * (loss ratio 1) before the methods' rows; without them, the methods' rows only.
 */
import { describe, expect, it } from "vitest";
import type { SuiteScores } from "../lib/edit/eval-cases";
import { type CurveRun, curveCsv } from "../lib/export/edit-curve";

const s: SuiteScores = {
  n_cases: 2,
  efficacy: 0,
  paraphrase: 0.25,
  neighborhood: 1,
  score: 0,
  efficacy_diff: -0.9,
  paraphrase_diff: null,
  neighborhood_diff: 0.99,
  fluency: 5.25,
};
const run: CurveRun = {
  method: "memit",
  n_cases: 2,
  edited: { ...s, efficacy: 1, general_text_ratio: 1.01 },
  curve: [],
};

describe("curveCsv", () => {
  it("puts the unedited model's row first", () => {
    const lines = curveCsv([run], s).trim().split("\n");
    expect(lines[1]).toBe("unedited,0,0,0.25,1,0,-0.9,,0.99,5.25,1");
    expect(lines[2]).toBe("memit,2,1,0.25,1,0,-0.9,,0.99,5.25,1.01");
    expect(lines).toHaveLength(3);
  });

  it("writes only the methods without it", () => {
    const lines = curveCsv([run]).trim().split("\n");
    expect(lines.map((l) => l.split(",")[0])).toEqual(["method", "memit"]);
  });
});
