/** lib/share/f16.ts and packed arrays against numpy's float16 (scripts/reference/share_f16_ref.py). */
import { readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { F16_MAX, f16Tolerance, fromF16Bits, roundF16, toF16Bits } from "../lib/share/f16";
import { pack, unpack } from "../lib/share/packed";
import { ROOT } from "../scripts/reference/golden";

const golden = JSON.parse(
  readFileSync(path.join(ROOT, "test/fixtures/share/f16-golden.json"), "utf8"),
) as { float32: number[]; f16_bits: number[] };

describe("f16", () => {
  it("rounds every golden value to numpy's float16 bits", () => {
    const mismatches = golden.float32
      .map((x, i) => [x, toF16Bits(x), golden.f16_bits[i]] as const)
      .filter(([, got, want]) => got !== want);
    expect(golden.float32.length).toBeGreaterThan(400);
    expect(mismatches).toEqual([]);
  });

  it("decodes numpy's bits back to the same value numpy holds", () => {
    // the decoded golden bits re-encode to themselves (a bijection on finite values)
    for (const bits of golden.f16_bits) {
      const v = fromF16Bits(bits);
      if (Number.isFinite(v)) expect(toF16Bits(v)).toBe(bits);
    }
  });

  it("keeps |x̂ − x| within the stated tolerance for |x| ≤ 65504", () => {
    fc.assert(
      fc.property(fc.float({ min: -F16_MAX, max: F16_MAX, noNaN: true }), (x) => {
        expect(Math.abs(roundF16(x) - x)).toBeLessThanOrEqual(f16Tolerance(x));
      }),
      { numRuns: 5000 },
    );
  });
});

describe("packed arrays", () => {
  it("round-trip within f16 tolerance; integer arrays and scalars exact", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1000, max: 1000, noNaN: true }), {
          minLength: 8,
          maxLength: 64,
        }),
        fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 8, maxLength: 20 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => x + 0),
        (xs, ids, scalar) => {
          const obj = { u: xs, m: [xs.slice(0, 4), xs.slice(4, 8)], ids, scalar };
          const back = unpack(JSON.parse(JSON.stringify(pack(obj)))) as typeof obj;
          expect(back.ids).toEqual(ids);
          expect(back.scalar).toBe(scalar);
          back.u.forEach((v, i) => {
            expect(Math.abs(v - xs[i])).toBeLessThanOrEqual(f16Tolerance(xs[i]));
          });
          expect(back.m.flat().length).toBe(8);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps values beyond f16's range in float32", () => {
    const xs = [1e6, 0.5, 0.25, 3.5, 7.25, 1.5, 2.5, 9.5];
    const packed = pack(xs) as { $f32?: string };
    expect(packed.$f32).toBeTypeOf("string");
    expect(unpack(packed)).toEqual(xs);
  });

  it("refuses a damaged packed array", () => {
    expect(() => unpack({ $f16: "A" })).toThrow(/damaged/);
    expect(() => unpack({ $f16: "AAAAAA", shape: [3, 3] })).toThrow(/shape/);
  });
});
