/**
 * A NumberField is never narrower than the widest value its setting allows
 * (components/number-field-width.ts): the trace's samples field showed "200" of at most 1000 as
 * "20(" at 52 px. Widths are counted in characters of the input's monospace font.
 */
import { describe, expect, it } from "vitest";
import { fitWidth, widestChars } from "../components/number-field-width";
import { EDIT_PARAMS, GENERATE_PARAMS, TRACE_PARAMS } from "../lib/params/table";

describe("the widest value of a setting", () => {
  it("a whole number: the digits of its max (samples ≤ 1000: 4; a uint32 seed: 10)", () => {
    expect(widestChars(TRACE_PARAMS.samples, 1)).toBe(4);
    expect(widestChars(TRACE_PARAMS.seed, 1)).toBe(10);
    expect(widestChars(GENERATE_PARAMS.maxNew, 1)).toBe(4);
  });

  it("a fraction: the max's whole digits, the point and the step's decimals", () => {
    expect(widestChars(TRACE_PARAMS.noise, 0.5)).toBe("1000.5".length);
    expect(widestChars(EDIT_PARAMS.loreftLr, 0.001)).toBe(
      String(Math.trunc(EDIT_PARAMS.loreftLr.max)).length + 4,
    );
  });

  it("a negative bound counts its minus sign", () => {
    const p = { ...TRACE_PARAMS.noise, min: -1000, max: 10 };
    expect(widestChars(p, 1)).toBe("-1000".length);
  });

  it("as CSS: characters plus padding, border and spin buttons", () => {
    expect(fitWidth(TRACE_PARAMS.samples, 1)).toBe("calc(4ch + 34px)");
  });
});
