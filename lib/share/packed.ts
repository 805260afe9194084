/**
 * Numbers arrays inside a JSON value, packed for a link: an array of ≥ PACK_MIN numbers that are
 * not all integers becomes {"$f16": base64url of little-endian binary16} (or "$f32" when a value
 * is too large for f16); a rectangular array of such arrays becomes one packed block with a
 * "shape". Integer arrays (token ids, positions) stay exact JSON; scalars stay exact.
 *
 * unpack(pack(x)) equals x except that every packed number is rounded to f16 (tolerance in
 * ./f16.ts) or f32.
 */
import { fromBase64url, toBase64url } from "./base64url";
import { ShareError } from "./errors";
import { F16_MAX, fromF16Bits, toF16Bits } from "./f16";

export const PACK_MIN = 8;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isNumArray = (x: unknown): x is number[] =>
  Array.isArray(x) && x.length > 0 && x.every((v) => typeof v === "number");

function packable(flat: number[]): boolean {
  return flat.length >= PACK_MIN && flat.every(Number.isFinite) && !flat.every(Number.isInteger);
}

function packFlat(flat: number[]): { $f16?: string; $f32?: string } {
  if (flat.every((v) => Math.abs(v) <= F16_MAX)) {
    const bits = new Uint16Array(flat.length);
    for (let i = 0; i < flat.length; i++) bits[i] = toF16Bits(flat[i]);
    return { $f16: toBase64url(littleEndian(bits)) };
  }
  return { $f32: toBase64url(littleEndian(Float32Array.from(flat))) };
}

function littleEndian(a: Uint16Array | Float32Array): Uint8Array {
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a instanceof Uint16Array) dv.setUint16(i * 2, a[i], true);
    else dv.setFloat32(i * 4, a[i], true);
  }
  return out;
}

export function pack(x: unknown): Json {
  if (isNumArray(x) && packable(x)) return packFlat(x);
  if (
    Array.isArray(x) &&
    x.length > 0 &&
    x.every((r) => isNumArray(r) && r.length === (x[0] as number[]).length)
  ) {
    const flat = (x as number[][]).flat();
    if (packable(flat)) return { ...packFlat(flat), shape: [x.length, (x[0] as number[]).length] };
  }
  if (Array.isArray(x)) return x.map(pack);
  if (x !== null && typeof x === "object") {
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(x)) if (v !== undefined) out[k] = pack(v);
    return out;
  }
  return x as Json;
}

function bad(msg: string): never {
  throw new ShareError("bad_field", msg);
}

function unpackBlock(o: Record<string, unknown>, where: string): number[] | number[][] {
  const isF16 = "$f16" in o;
  const text = isF16 ? o.$f16 : o.$f32;
  const size = isF16 ? 2 : 4;
  const bytes = typeof text === "string" ? fromBase64url(text) : null;
  if (!bytes || bytes.length % size !== 0) bad(`${where}: a packed array is damaged`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length / size;
  const flat: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    flat[i] = isF16 ? fromF16Bits(dv.getUint16(i * 2, true)) : dv.getFloat32(i * 4, true);
  }
  if (!flat.every(Number.isFinite)) bad(`${where}: a packed array holds a non-finite number`);
  const keys = Object.keys(o).filter((k) => k !== "$f16" && k !== "$f32");
  if (keys.length === 0) return flat;
  const shape = o.shape;
  if (
    keys.length !== 1 ||
    keys[0] !== "shape" ||
    !Array.isArray(shape) ||
    shape.length !== 2 ||
    !shape.every((d) => Number.isInteger(d) && d > 0) ||
    shape[0] * shape[1] !== n
  ) {
    bad(`${where}: a packed array has a bad shape`);
  }
  const [r, c] = shape as [number, number];
  return Array.from({ length: r }, (_, i) => flat.slice(i * c, (i + 1) * c));
}

export function unpack(x: unknown, where = "value"): unknown {
  if (Array.isArray(x)) return x.map((v) => unpack(v, where));
  if (x !== null && typeof x === "object") {
    const o = x as Record<string, unknown>;
    if ("$f16" in o || "$f32" in o) return unpackBlock(o, where);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = unpack(v, where);
    return out;
  }
  return x;
}
