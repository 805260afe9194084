import { describe, expect, it } from "vitest";
import { LoadError } from "../lib/load/errors";
import { halfToFloat, parseSafetensors, safetensorsHeader } from "../lib/load/safetensors";
import {
  encodeTensor,
  floatToBf16,
  floatToHalf,
  writeSafetensors,
} from "./helpers/safetensors-writer";

const FILE = "weights/model.safetensors";

/** A header as the writer builds it, for mutation. */
type H = Record<string, Record<string, unknown>>;

/** Runs fn, expecting a LoadError with this code whose message names the file. */
function expectLoadError(fn: () => unknown, code: string, ...fragments: string[]): LoadError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(LoadError);
  const err = caught as LoadError;
  expect(err.code).toBe(code);
  expect(err.file).toBe(FILE);
  expect(err.message).toContain(FILE);
  for (const f of fragments) expect(err.message).toContain(f);
  return err;
}

// Exactly representable in every dtype tested: small integers, powers of two, sums of a few.
const EXACT = [0, 1, -1, 0.5, -2, 3.75, 1024, -0.125, 1020, 2 ** -14, 7, 100];
// Exact in F16 but not BF16 (11 significant bits) and vice versa (huge exponent).
const F16_ONLY = [1 + 2 ** -10, 1023.5];
const BF16_ONLY = [2 ** 100, -(2 ** -100)];

describe("parseSafetensors: values", () => {
  it.each([
    ["F32", [...EXACT, 0.1, 1e30, -3.4e38]],
    ["F64", [...EXACT, 0.1]],
    ["F16", [...EXACT, ...F16_ONLY, 65504, 2 ** -24]],
    ["BF16", [...EXACT, ...BF16_ONLY]],
  ])("%s round-trips to float32", (dtype, values) => {
    const bytes = writeSafetensors({ t: { dtype, shape: [values.length], data: values } });
    const t = parseSafetensors(bytes, FILE).get("t")!;
    expect(t.shape).toEqual([values.length]);
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t.data)).toEqual(values.map((v) => Math.fround(v)));
  });

  it("keeps multi-dimensional shapes row-major, and scalars", () => {
    const data = Array.from({ length: 24 }, (_, i) => i - 12);
    const bytes = writeSafetensors({
      a: { dtype: "F32", shape: [2, 3, 4], data },
      s: { dtype: "F16", shape: [], data: [42] },
      z: { dtype: "F32", shape: [0, 5], data: [] },
    });
    const m = parseSafetensors(bytes, FILE);
    expect(m.get("a")!.shape).toEqual([2, 3, 4]);
    expect(Array.from(m.get("a")!.data)).toEqual(data);
    expect(m.get("s")!.shape).toEqual([]);
    expect(Array.from(m.get("s")!.data)).toEqual([42]);
    expect(m.get("z")!.data.length).toBe(0);
  });

  it("decodes F16 and BF16 specials: signed zero, infinities, NaN, subnormals", () => {
    for (const dtype of ["F16", "BF16"]) {
      const t = parseSafetensors(
        writeSafetensors({ t: { dtype, shape: [2], data: [-0, 1] } }),
        FILE,
      ).get("t")!;
      expect(Object.is(t.data[0], -0)).toBe(true);
    }
    // Infinities and NaN decode as such (the loader then refuses them, below).
    expect(halfToFloat(0x7c00)).toBe(Number.POSITIVE_INFINITY);
    expect(halfToFloat(0xfc00)).toBe(Number.NEGATIVE_INFINITY);
    expect(Number.isNaN(halfToFloat(0x7e00))).toBe(true);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x03ff)).toBe(1023 * 2 ** -24);
    expect(halfToFloat(0x7bff)).toBe(65504);
  });

  it.each([
    ["F32", Number.NaN, "NaN"],
    ["F32", Number.NEGATIVE_INFINITY, "-Infinity"],
    ["F16", Number.POSITIVE_INFINITY, "Infinity"],
    ["BF16", Number.NaN, "NaN"],
    ["F64", 1e300, "Infinity"], // finite in F64, beyond float32's range
  ])("a non-finite %s value (%s) is refused, naming the tensor (issue 10.13)", (dtype, v, shown) => {
    const bytes = writeSafetensors({
      "h.0.ok": { dtype, shape: [2], data: [1, 2] },
      "h.1.mlp.c_fc.weight": { dtype, shape: [2, 2], data: [0.5, 1, 2, v] },
    });
    let err: unknown;
    try {
      parseSafetensors(bytes, FILE);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).code).toBe("non_finite");
    expect((err as LoadError).message).toContain(
      `tensor "h.1.mlp.c_fc.weight" holds a non-finite value (${shown} at flat index 3`,
    );
    // A tensor the loader skips is never converted, so it is not checked either.
    expect(parseSafetensors(bytes, FILE, { only: (n) => n === "h.0.ok" }).size).toBe(1);
  });

  it("the writer's F16/BF16 encoders round to nearest even (so the value tests mean something)", () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(floatToHalf(70000)).toBe(0x7c00);
    expect(floatToBf16(1)).toBe(0x3f80);
    expect(floatToBf16(-2)).toBe(0xc000);
    // Values not representable come back rounded, not equal: the reader is not a no-op.
    const t = parseSafetensors(
      writeSafetensors({ t: { dtype: "F16", shape: [1], data: [0.1] } }),
      FILE,
    );
    expect(t.get("t")!.data[0]).not.toBe(Math.fround(0.1));
    expect(t.get("t")!.data[0]).toBeCloseTo(0.1, 3);
  });

  it("reads tensors at unaligned offsets (odd-length F16 before F32, odd header, gaps)", () => {
    const f32 = [1.5, -2.25, 3, 4096];
    const bytes = writeSafetensors(
      {
        h: { dtype: "F16", shape: [3], data: [1, 2, 3] }, // 6 bytes: next tensor at offset 6 (+gap)
        f: { dtype: "F32", shape: [2, 2], data: f32 },
        d: { dtype: "F64", shape: [1], data: [-7.5] },
        b: { dtype: "BF16", shape: [1], data: [0.5] },
      },
      { gap: 3 },
    );
    const header = safetensorsHeader(bytes, FILE);
    const abs = header.dataStart + header.tensors.get("f")!.dataOffsets[0];
    expect(abs % 4).not.toBe(0);
    const m = parseSafetensors(bytes, FILE);
    expect(Array.from(m.get("h")!.data)).toEqual([1, 2, 3]);
    expect(Array.from(m.get("f")!.data)).toEqual(f32);
    expect(Array.from(m.get("d")!.data)).toEqual([-7.5]);
    expect(Array.from(m.get("b")!.data)).toEqual([0.5]);
  });

  it("copies: results do not alias the file, even from a Node Buffer at an odd byteOffset", () => {
    const file = writeSafetensors({ f: { dtype: "F32", shape: [2], data: [1, 2] } });
    const padded = Buffer.alloc(file.length + 1);
    padded.set(file, 1);
    const view = padded.subarray(1); // a Buffer whose byteOffset is odd
    const t = parseSafetensors(view, FILE).get("f")!;
    expect(Array.from(t.data)).toEqual([1, 2]);
    expect(t.data.buffer.byteLength).toBe(8);
    padded.fill(0);
    expect(Array.from(t.data)).toEqual([1, 2]);
  });

  it("ignores __metadata__ and exposes it from safetensorsHeader", () => {
    const bytes = writeSafetensors(
      { w: { dtype: "F32", shape: [1], data: [3] } },
      { metadata: { format: "pt" }, alignHeader: true },
    );
    expect([...parseSafetensors(bytes, FILE).keys()]).toEqual(["w"]);
    const h = safetensorsHeader(bytes, FILE);
    expect(h.metadata).toEqual({ format: "pt" });
    expect(h.dataStart % 8).toBe(0);
    expect(h.tensors.get("w")).toEqual({ dtype: "F32", shape: [1], dataOffsets: [0, 4] });
  });

  it("converts only the selected tensors with `only`, without rejecting others' dtypes", () => {
    const bytes = writeSafetensors({
      keep: { dtype: "F32", shape: [1], data: [1] },
      mask: { dtype: "U8", shape: [2], data: new Uint8Array([1, 0]) },
    });
    const m = parseSafetensors(bytes, FILE, { only: (n) => n === "keep" });
    expect([...m.keys()]).toEqual(["keep"]);
  });
});

describe("parseSafetensors: errors name the file", () => {
  const good = () => writeSafetensors({ w: { dtype: "F32", shape: [2, 2], data: [1, 2, 3, 4] } });

  it("truncated: shorter than the 8-byte length", () => {
    expectLoadError(() => parseSafetensors(new Uint8Array(5), FILE), "truncated", "5 bytes");
  });

  it("truncated: data shorter than the offsets", () => {
    const bytes = good();
    expectLoadError(
      () => parseSafetensors(bytes.subarray(0, bytes.length - 3), FILE),
      "truncated",
      '"w"',
    );
  });

  it("header_too_large: header length beyond the file size", () => {
    const bytes = good();
    new DataView(bytes.buffer).setUint32(0, bytes.length, true);
    expectLoadError(() => parseSafetensors(bytes, FILE), "header_too_large");
  });

  it("header_too_large: header length over 100 MB (and a u64 with high bits set)", () => {
    const big = writeSafetensors({}, { headerLength: 200_000_000 });
    expectLoadError(() => safetensorsHeader(big, FILE), "header_too_large", "200000000");
    const huge = writeSafetensors({}, { headerLength: 2n ** 40n });
    expectLoadError(() => safetensorsHeader(huge, FILE), "header_too_large");
  });

  it("bad_header: invalid JSON, non-object, invalid UTF-8", () => {
    expectLoadError(
      () => parseSafetensors(writeSafetensors({}, { headerText: '{"w": {' }), FILE),
      "bad_header",
      "JSON",
    );
    expectLoadError(
      () => parseSafetensors(writeSafetensors({}, { headerText: "[1,2]" }), FILE),
      "bad_header",
    );
    const bytes = writeSafetensors({}, { headerText: "{}" });
    bytes[9] = 0xff; // "{\xff"
    expectLoadError(() => parseSafetensors(bytes, FILE), "bad_header");
  });

  it.each([
    [
      "offsets that disagree with the shape",
      (h: H) => {
        h.w.shape = [2, 3];
      },
      "needs 24 bytes",
    ],
    [
      "end before begin",
      (h: H) => {
        h.w.data_offsets = [8, 4];
      },
      "data_offsets",
    ],
    [
      "a negative offset",
      (h: H) => {
        h.w.data_offsets = [-4, 12];
      },
      "data_offsets",
    ],
    [
      "a fractional dimension",
      (h: H) => {
        h.w.shape = [2, 1.5];
      },
      "shape",
    ],
    [
      "a missing shape",
      (h: H) => {
        delete h.w.shape;
      },
      "shape",
    ],
    [
      "a missing dtype",
      (h: H) => {
        delete h.w.dtype;
      },
      "dtype",
    ],
    [
      "an entry that is not an object",
      (h: H) => {
        (h as Record<string, unknown>).w = 3;
      },
      "not an object",
    ],
  ])("bad_header: %s", (_label, mutate, fragment) => {
    const bytes = writeSafetensors(
      { w: { dtype: "F32", shape: [2, 2], data: [1, 2, 3, 4] } },
      { mutateHeader: mutate },
    );
    expectLoadError(() => parseSafetensors(bytes, FILE), "bad_header", '"w"', fragment);
  });

  it("bad_header: overlapping tensors", () => {
    const bytes = writeSafetensors(
      {
        a: { dtype: "F32", shape: [2], data: [1, 2] },
        b: { dtype: "F32", shape: [2], data: [3, 4] },
      },
      {
        mutateHeader: (h: H) => {
          h.b.data_offsets = [4, 12];
        },
      },
    );
    expectLoadError(() => parseSafetensors(bytes, FILE), "bad_header", "overlaps");
  });

  it.each([
    ["I8", 1],
    ["U8", 1],
    ["F8_E4M3", 1],
    ["I64", 8],
    ["BOOL", 1],
  ])("unknown_dtype: %s names the tensor and dtype", (dtype, width) => {
    const bytes = writeSafetensors({
      ok: { dtype: "F32", shape: [1], data: [1] },
      "h.0.attn.weird": { dtype, shape: [2], data: new Uint8Array(2 * width) },
    });
    expectLoadError(() => parseSafetensors(bytes, FILE), "unknown_dtype", "h.0.attn.weird", dtype);
  });

  it("encodeTensor refuses to guess bytes for non-float dtypes", () => {
    expect(() => encodeTensor({ dtype: "I8", shape: [1], data: [1] })).toThrow();
  });
});
