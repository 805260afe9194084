/**
 * scripts/plot-sequential.mjs: the sequential curves of a `--csv` file as an SVG, one line per
 * method and score, each point where its value puts it (efficacy 1 at the panel's top, 0 at its
 * bottom), empty cells (a curve point's fluency) left out, a score with no values given no panel.
 */
import { describe, expect, it } from "vitest";
import { sequentialSvg } from "../scripts/plot-sequential.mjs";

const CSV = `method,edits,efficacy,paraphrase,neighborhood,score,efficacy_diff,paraphrase_diff,neighborhood_diff,fluency,general_text_ratio
memit,10,1,0.5,0.9,0.7,0.5,0.2,0.3,5.1,1.001
memit,20,0,0.5,0.8,0,0.5,0.2,0.3,,1.004
alphaedit,10,0.5,0.25,1,0.4,0.5,0.2,0.3,,1
`;

describe("plot-sequential", () => {
  it("draws one curve per method and score at the values' heights", () => {
    const svg = sequentialSvg(CSV, "t");
    const curves = [...svg.matchAll(/data-method="([^"]+)" data-score="([^"]+)" d="([^"]+)"/g)];
    expect(curves.map((m) => `${m[1]}/${m[2]}`).sort()).toEqual(
      ["efficacy", "paraphrase", "neighborhood", "score", "general_text_ratio"]
        .flatMap((s) => [`memit/${s}`, `alphaedit/${s}`])
        .concat(["memit/fluency"])
        .sort(),
    );
    // panel height 190 with margins 28 (top) and 34 (bottom): y(1) = 28, y(0) = 156
    const eff = curves.find((m) => m[1] === "memit" && m[2] === "efficacy")![3];
    const ys = [...eff.matchAll(/[ML]([\d.]+),([\d.]+)/g)].map((m) => Number(m[2]));
    expect(ys).toEqual([28, 156]);
    const half = curves.find((m) => m[1] === "alphaedit" && m[2] === "efficacy")![3];
    expect(Number(/M[\d.]+,([\d.]+)/.exec(half)![1])).toBeCloseTo(92, 6);
  });

  it("gives fluency no panel when no point has it (--no-fluency)", () => {
    const noFluency = CSV.replace(",5.1,", ",,");
    const svg = sequentialSvg(noFluency, "t");
    expect(svg).not.toMatch(/data-score="fluency"/);
    expect(svg).not.toMatch(/fluency \(n-gram entropy\)/);
    expect(svg).toMatch(/data-score="general_text_ratio"/);
  });

  it("draws the unedited row as a dashed reference, not as a method", () => {
    const svg = sequentialSvg(`${CSV}unedited,0,0,0.25,1,0,-0.9,-0.4,0.99,5.3,1\n`, "t");
    expect(svg).not.toMatch(/data-method="unedited"/);
    const refs = [...svg.matchAll(/class="reference" data-score="([^"]+)"[^>]* y1="([\d.]+)"/g)];
    expect(refs.map((m) => m[1])).toEqual([
      "efficacy",
      "paraphrase",
      "neighborhood",
      "score",
      "fluency",
      "general_text_ratio",
    ]);
    // efficacy 0 at the panel's bottom (156), neighbourhood 1 at its top (28)
    expect(Number(refs[0][2])).toBe(156);
    expect(Number(refs[2][2])).toBe(28);
    expect(svg).toMatch(/stroke-dasharray="4 3"\/><text x="20" y="0" font-size="11">unedited</);
  });

  it("refuses a CSV without a method's rows", () => {
    expect(() => sequentialSvg("method,edits\n")).toThrow(/no rows/);
    expect(() => sequentialSvg(`method,edits,efficacy\nunedited,0,0\n`)).toThrow(/no rows/);
  });
});
