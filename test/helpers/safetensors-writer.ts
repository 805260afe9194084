/**
 * A small safetensors writer for tests: encodes F32/F64/F16/BF16 from numbers, or takes raw bytes
 * for any dtype (to build files with I8/U8/F8 tensors), and can corrupt headers on request.
 */

export interface WriteTensor {
  dtype: string;
  shape: number[];
  /** Values to encode (F32, F64, F16, BF16), or the exact bytes for any dtype. */
  data: ArrayLike<number> | Uint8Array;
  /** Treat `data` as raw bytes even for a float dtype. */
  raw?: boolean;
}

export interface WriteOptions {
  metadata?: Record<string, string>;
  /** Pad the header with spaces to a multiple of 8 bytes, as the Rust writer does. Default false,
   * so tensors usually start at unaligned absolute offsets. */
  alignHeader?: boolean;
  /** Bytes of junk inserted before each tensor's data (offset gaps; shifts alignment). */
  gap?: number;
  /** Rewrites the header object before it is serialised (for corrupt-header tests). */
  mutateHeader?: (header: Record<string, Record<string, unknown>>) => void;
  /** Replace the serialised header JSON entirely. */
  headerText?: string;
  /** Override the header-length field. */
  headerLength?: number | bigint;
}

const te = new TextEncoder();

export function encodeTensor(t: WriteTensor): Uint8Array {
  if (t.raw || t.data instanceof Uint8Array) return Uint8Array.from(t.data as ArrayLike<number>);
  const n = t.data.length;
  switch (t.dtype) {
    case "F32":
      return new Uint8Array(Float32Array.from(t.data).buffer);
    case "F64":
      return new Uint8Array(Float64Array.from(t.data).buffer);
    case "F16": {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = floatToHalf(t.data[i]);
      return new Uint8Array(out.buffer);
    }
    case "BF16": {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = floatToBf16(t.data[i]);
      return new Uint8Array(out.buffer);
    }
    default:
      throw new Error(`writer: give raw bytes for dtype ${t.dtype}`);
  }
}

export function writeSafetensors(
  tensors: Record<string, WriteTensor>,
  opts: WriteOptions = {},
): Uint8Array {
  const header: Record<string, Record<string, unknown>> = {};
  if (opts.metadata) header.__metadata__ = opts.metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (opts.gap) {
      chunks.push(new Uint8Array(opts.gap).fill(0xab));
      offset += opts.gap;
    }
    const bytes = encodeTensor(t);
    header[name] = {
      dtype: t.dtype,
      shape: t.shape,
      data_offsets: [offset, offset + bytes.length],
    };
    chunks.push(bytes);
    offset += bytes.length;
  }
  opts.mutateHeader?.(header);
  let json = opts.headerText ?? JSON.stringify(header);
  if (opts.alignHeader) while ((8 + te.encode(json).length) % 8 !== 0) json += " ";
  const headerBytes = te.encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(opts.headerLength ?? headerBytes.length), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.length;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float -> IEEE half bits, round to nearest even (via float32 first). */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> Inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit bit in, then round.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rem > mid || (rem === mid && half & 1) ? 1 : 0));
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // Rounding may carry into the exponent, which is still the right answer (up to Inf).
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h += 1;
  return sign | h;
}

/** float -> bfloat16 bits, round to nearest even. */
export function floatToBf16(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40; // NaN stays NaN
  const lsb = (x >>> 16) & 1;
  return ((x + 0x7fff + lsb) >>> 16) & 0xffff;
}
