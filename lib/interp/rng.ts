/**
 * A seeded Gaussian generator whose exact stream is reproducible everywhere: in Node, in every
 * browser, and in the numpy reference (scripts/reference/trace_rng.py implements the same).
 *
 *   seed (uint32) ─ splitmix32 ×4 ─▶ xoshiro128** state ─▶ uint32 stream
 *   uniform u ∈ [0, 1): 53 bits from two draws,  u = ((a >>> 5) · 2^26 + (b >>> 6)) / 2^53
 *   Box–Muller on (u1, u2): r = √(−2 ln(1 − u1)),  z0 = r cos(2π u2),  z1 = r sin(2π u2)
 *
 * Only 32-bit integer arithmetic (Math.imul, >>>) and IEEE float64 math is used, so the integer
 * stream is bit-identical on every engine; the Gaussians agree to the last bit wherever the
 * platform's log/cos/sin do (V8 in Node and Chromium share one implementation; elsewhere a 1-ulp
 * difference in float64 almost never survives the cast to float32).
 */

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const TWO_POW_26 = 67108864;
const TWO_POW_53 = 9007199254740992;

export class GaussianRng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  /** `seed` is any integer; it is reduced to uint32. */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
    const st = { s: seed >>> 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
  }

  /** Next uint32 of xoshiro128** (Blackman & Vigna). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform float64 in [0, 1) with 53 random bits. */
  nextUniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * TWO_POW_26 + lo) / TWO_POW_53;
  }

  /** Standard normal (float64), Box–Muller, both values of each pair used in order. */
  nextNormal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const u1 = this.nextUniform();
    const u2 = this.nextUniform();
    const r = Math.sqrt(-2 * Math.log(1 - u1)); // 1 − u1 ∈ (0, 1]
    const th = 2 * Math.PI * u2;
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** `count` standard normals × `scale`, rounded to float32: the first `count` of seed's stream. */
export function gaussianArray(seed: number, count: number, scale = 1): Float32Array {
  const rng = new GaussianRng(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = scale * rng.nextNormal();
  return out;
}
