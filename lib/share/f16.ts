/**
 * IEEE 754 half precision (binary16), round to nearest even, without Float16Array (not in
 * Node 20). Used to carry learned edit parameters and trace grids in a link at 2 bytes a number.
 *
 * Tolerance (tested against numpy's float16 in test/share-f16.test.ts): a finite x with
 * |x| ≤ F16_MAX comes back as x̂ with |x̂ − x| ≤ 2⁻¹¹·|x| + 2⁻²⁵ (half an ulp; the second term is
 * half the subnormal spacing). Larger magnitudes are not f16-representable: callers keep those
 * arrays in float32 (lib/share/packed.ts).
 */

export const F16_MAX = 65504;
/** Bound on |x̂ − x| for |x| ≤ F16_MAX. */
export function f16Tolerance(x: number): number {
  return 2 ** -11 * Math.abs(x) + 2 ** -25;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** binary16 bits of x (rounded from float64 via float32; NaN → 0x7e00, overflow → ±Inf). */
export function toF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const man = b & 0x7fffff;
  if (exp === 0xff) return sign | (man ? 0x7e00 : 0x7c00);
  // unbiased exponent
  const e = exp - 127;
  if (e > 15) return sign | 0x7c00;
  if (e >= -14) {
    // normal: 10 mantissa bits, round to nearest even on the 13 dropped
    let h = ((e + 15) << 10) | (man >>> 13);
    const rest = man & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
    return sign | h; // a carry into the exponent is the correct rounding (up to Inf)
  }
  if (e < -25) return sign; // below half the smallest subnormal
  // subnormal: value = m · 2⁻²⁴ with the implicit bit made explicit
  const full = man | 0x800000;
  const shift = -e - 14 + 13; // 14..24 → bits dropped
  let h = full >>> shift;
  const rest = full & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (h & 1) === 1)) h++;
  return sign | h;
}

export function fromF16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 0x1f) return man ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
}

/** x rounded to the nearest binary16. */
export function roundF16(x: number): number {
  return fromF16Bits(toF16Bits(x));
}
