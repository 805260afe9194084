/**
 * Reader for the safetensors format: an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}`, then row-major
 * tensor data. Offsets are relative to the first byte after the header.
 *
 * Every tensor comes back as float32 (tfjs has no float16). Each tensor's bytes are copied out of
 * the file before being viewed as numbers: offsets need not be 4-byte aligned, and a view must not
 * pin (or alias) the whole file's buffer. A NaN or ±Inf value (or an F64 beyond float32's range)
 * is refused with the tensor's name, found in the same loop that converts it.
 */
import { LoadError } from "./errors";
import type { HostTensor } from "./types";

/** The same cap the reference Rust implementation uses; a larger header is a corrupt file. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element of the dtypes we convert to float32. */
const SUPPORTED_DTYPES = { F64: 8, F32: 4, F16: 2, BF16: 2 } as const;
export type SupportedDtype = keyof typeof SUPPORTED_DTYPES;

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  /** [begin, end) in bytes, relative to the start of the data section. */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  /** Tensors in header order. */
  tensors: Map<string, SafetensorsEntry>;
  /** The free-form `__metadata__` string map, if present. */
  metadata?: Record<string, string>;
  /** Absolute byte offset of the data section (8 + header length). */
  dataStart: number;
  /** Bytes available after dataStart. */
  dataLength: number;
}

export interface ParseOptions {
  /** Convert only tensors whose name passes; others are validated but never converted. */
  only?: (name: string) => boolean;
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** Parses and validates the header without touching tensor data. */
export function safetensorsHeader(bytes: Uint8Array, file: string): SafetensorsHeader {
  if (bytes.byteLength < 8) {
    throw new LoadError(
      "truncated",
      file,
      `file is ${bytes.byteLength} bytes, too short for a safetensors header length`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo;
  if (headerLen > MAX_HEADER_BYTES || headerLen > bytes.byteLength - 8) {
    throw new LoadError(
      "header_too_large",
      file,
      `safetensors header claims ${headerLen} bytes but the file has ${bytes.byteLength} bytes` +
        ` (limit ${MAX_HEADER_BYTES}); the file is truncated or not safetensors`,
    );
  }
  const dataStart = 8 + headerLen;
  const dataLength = bytes.byteLength - dataStart;

  let raw: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, dataStart));
    raw = JSON.parse(text);
  } catch (e) {
    throw new LoadError("bad_header", file, `safetensors header is not valid JSON (${msg(e)})`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new LoadError("bad_header", file, "safetensors header is not a JSON object");
  }

  const tensors = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> | undefined;
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (value !== null && typeof value === "object") metadata = value as Record<string, string>;
      continue;
    }
    tensors.set(name, parseEntry(name, value, file));
  }

  // Offsets must fit the file and must not overlap (overlap means a corrupt or hostile header).
  const byStart = [...tensors.entries()].sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0]);
  let prevEnd = 0;
  let prevName = "";
  for (const [name, e] of byStart) {
    const [begin, end] = e.dataOffsets;
    if (begin < prevEnd) {
      throw new LoadError(
        "bad_header",
        file,
        `tensor "${name}" data [${begin}, ${end}) overlaps tensor "${prevName}" (ends at ${prevEnd})`,
      );
    }
    if (end > dataLength) {
      throw new LoadError(
        "truncated",
        file,
        `tensor "${name}" needs data bytes [${begin}, ${end}) but only ${dataLength} bytes follow the header`,
      );
    }
    prevEnd = end;
    prevName = name;
  }
  return { tensors, metadata, dataStart, dataLength };
}

function parseEntry(name: string, value: unknown, file: string): SafetensorsEntry {
  const bad = (what: string) => new LoadError("bad_header", file, `tensor "${name}": ${what}`);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw bad("entry is not an object");
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== "string") throw bad("dtype is missing or not a string");
  if (!Array.isArray(shape) || !shape.every(isNonNegInt)) {
    throw bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !isNonNegInt(offsets[0]) ||
    !isNonNegInt(offsets[1]) ||
    offsets[1] < offsets[0]
  ) {
    throw bad(`data_offsets ${JSON.stringify(offsets)} is not [begin, end] with begin <= end`);
  }
  const size = SUPPORTED_DTYPES[dtype as SupportedDtype];
  // The size check needs the element width; unknown dtypes are reported when converted.
  if (size !== undefined) {
    const n = shape.reduce((a: number, b: number) => a * b, 1);
    if (offsets[1] - offsets[0] !== n * size) {
      throw bad(
        `shape [${shape.join(", ")}] of ${dtype} needs ${n * size} bytes but data_offsets span ${offsets[1] - offsets[0]}`,
      );
    }
  }
  return { dtype, shape: [...shape], dataOffsets: [offsets[0], offsets[1]] };
}

/** Parses a whole safetensors file, converting every (or every selected) tensor to float32. */
export function parseSafetensors(
  bytes: Uint8Array,
  file: string,
  opts: ParseOptions = {},
): Map<string, HostTensor> {
  const header = safetensorsHeader(bytes, file);
  const out = new Map<string, HostTensor>();
  for (const [name, e] of header.tensors) {
    if (opts.only && !opts.only(name)) continue;
    const begin = header.dataStart + e.dataOffsets[0];
    const end = header.dataStart + e.dataOffsets[1];
    out.set(name, { shape: e.shape, data: toFloat32(bytes, begin, end, e.dtype, name, file) });
  }
  return out;
}

function toFloat32(
  bytes: Uint8Array,
  begin: number,
  end: number,
  dtype: string,
  name: string,
  file: string,
): Float32Array {
  if (!(dtype in SUPPORTED_DTYPES)) {
    throw new LoadError(
      "unknown_dtype",
      file,
      `tensor "${name}" has dtype ${dtype}; only F32, F16, BF16 and F64 are supported`,
    );
  }
  // Explicit copy into a fresh, 0-aligned buffer. (Not bytes.slice(): on a Node Buffer that
  // returns a view of the same memory, not a copy.)
  const copy = new Uint8Array(end - begin);
  copy.set(bytes.subarray(begin, end));
  const out = convert(copy, dtype as SupportedDtype);
  const bad = firstNonFinite(out);
  if (bad >= 0) {
    throw new LoadError(
      "non_finite",
      file,
      `tensor "${name}" holds a non-finite value (${out[bad]} at flat index ${bad}${dtype === "F64" ? ", perhaps an F64 beyond float32's range" : ""}); the model would compute NaN`,
    );
  }
  return out;
}

function convert(copy: Uint8Array, dtype: SupportedDtype): Float32Array {
  const buf = copy.buffer as ArrayBuffer;
  switch (dtype) {
    case "F32":
      return LITTLE_ENDIAN
        ? new Float32Array(buf)
        : readSlow(copy, 4, (v, i) => v.getFloat32(i, true));
    case "F64":
      return LITTLE_ENDIAN
        ? Float32Array.from(new Float64Array(buf))
        : readSlow(copy, 8, (v, i) => v.getFloat64(i, true));
    case "F16": {
      const table = f16Table();
      const out = new Float32Array(copy.length / 2);
      const v = new DataView(buf);
      for (let i = 0; i < out.length; i++) out[i] = table[v.getUint16(2 * i, true)];
      return out;
    }
    case "BF16": {
      // bfloat16 is the top half of a float32: shift it back into place.
      const out = new Float32Array(copy.length / 2);
      const bits = new Uint32Array(out.buffer);
      const v = new DataView(buf);
      for (let i = 0; i < out.length; i++) bits[i] = v.getUint16(2 * i, true) << 16;
      return out;
    }
  }
}

/**
 * Index of the first NaN or ±Inf, or -1: float32 bits with an all-ones exponent, read as
 * integers (one tight pass over the converted tensor, no per-element float compare).
 */
function firstNonFinite(values: Float32Array): number {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) {
    if ((bits[i] & 0x7f800000) === 0x7f800000) return i;
  }
  return -1;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function readSlow(
  copy: Uint8Array,
  width: number,
  get: (v: DataView, byteIndex: number) => number,
): Float32Array {
  const v = new DataView(copy.buffer);
  const out = new Float32Array(copy.length / width);
  for (let i = 0; i < out.length; i++) out[i] = get(v, i * width);
  return out;
}

let F16_TABLE: Float32Array | undefined;

/** All 65536 half-precision values as float32, built once (256 KiB) and shared. */
function f16Table(): Float32Array {
  if (F16_TABLE) return F16_TABLE;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = halfToFloat(h);
  F16_TABLE = t;
  return t;
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero / subnormal
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
