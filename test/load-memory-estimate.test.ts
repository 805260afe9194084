/** lib/load/memory-estimate.ts against numbers worked out by hand for real GPT-2 configs. */
import { describe, expect, it } from "vitest";
import { parseGpt2Config } from "../lib/load/config";
import { checkMemory, estimateMemory, gpt2ParamCount } from "../lib/load/memory-estimate";

const hf = (n_layer: number, n_embd: number, n_head: number) =>
  parseGpt2Config({
    model_type: "gpt2",
    n_layer,
    n_embd,
    n_head,
    n_positions: 1024,
    vocab_size: 50257,
  });
const gpt2 = hf(12, 768, 12);
const medium = hf(24, 1024, 16);
const xl = hf(48, 1600, 25);

describe("parameter count", () => {
  it("matches GPT-2's published sizes", () => {
    // 50257·768 + 1024·768 + 12·(12·768² + 13·768) + 2·768
    expect(gpt2ParamCount(gpt2)).toBe(38_597_376 + 786_432 + 85_054_464 + 1_536); // 124,439,808
    // 50257·1024 + 1024·1024 + 24·(12·1024² + 13·1024) + 2·1024
    expect(gpt2ParamCount(medium)).toBe(354_823_168);
    expect(gpt2ParamCount(xl)).toBe(1_557_611_200);
  });

  it("uses n_inner when set", () => {
    const c = { ...gpt2, dMlp: 1000 };
    // per layer 4d² + 2d·m + 9d + m with d = 768, m = 1000
    const perLayer = 4 * 768 * 768 + 2 * 768 * 1000 + 9 * 768 + 1000;
    expect(gpt2ParamCount(c)).toBe(50257 * 768 + 1024 * 768 + 12 * perLayer + 2 * 768);
  });
});

describe("estimateMemory", () => {
  it("gpt2, T = 32, S = 10", () => {
    const e = estimateMemory(gpt2, 548_105_171, { tokens: 32, samples: 10 });
    expect(e.weightBytes).toBe(497_759_232);
    expect(e.loadPeakBytes).toBe(497_759_232 * 2 + 548_105_171);
    expect(e.largestTensorBytes).toBe(154_389_504); // 4 · 50257 · 768
    // widest = max(3072, 2304, 12·32) = 3072; B = floor(2^24 / (32·3072)) = 170
    expect(e.batchRows).toBe(170);
    // 4 · (170·32·(3072 + 1536) + 170·50257 + 13·10·32·768)
    expect(e.activationBytes).toBe(4 * (25_067_520 + 8_543_690 + 3_194_880));
  });

  it("gpt2-medium, T = 64, S = 3", () => {
    const e = estimateMemory(medium, undefined, { tokens: 64, samples: 3 });
    // widest = max(4096, 3072, 16·64) = 4096; B = floor(16777216 / 262144) = 64
    expect(e.batchRows).toBe(64);
    expect(e.activationBytes).toBe(4 * (64 * 64 * 6144 + 64 * 50257 + 25 * 3 * 64 * 1024));
    // unknown file size: float32 files assumed
    expect(e.loadPeakBytes).toBe(3 * 4 * 354_823_168);
  });
});

describe("checkMemory", () => {
  it("refuses gpt2-xl on wasm, naming the 2 GiB wasm limit", () => {
    const v = checkMemory(estimateMemory(xl), { backend: "wasm" });
    expect(v.level).toBe("refuse");
    expect(v.reasons[0]).toMatch(
      /weights \(5\.80 GiB\).*exceed the 2 GiB tfjs's wasm backend can use/,
    );
  });

  it("accepts gpt2 on wasm and on a WebGPU adapter with the default-raised limits", () => {
    expect(checkMemory(estimateMemory(gpt2), { backend: "wasm" }).level).toBe("ok");
    const v = checkMemory(estimateMemory(gpt2), {
      backend: "webgpu",
      maxBufferSize: 2 ** 31,
      maxStorageBufferBindingSize: 2 ** 31,
    });
    expect(v.level).toBe("ok");
  });

  it("refuses on WebGPU when the embedding does not fit one binding", () => {
    const v = checkMemory(estimateMemory(gpt2), {
      backend: "webgpu",
      maxBufferSize: 256 * 2 ** 20,
      maxStorageBufferBindingSize: 128 * 2 ** 20,
    });
    expect(v.level).toBe("refuse");
    expect(v.reasons).toEqual([
      "the embedding matrix (147 MiB) is larger than this GPU's maxStorageBufferBindingSize (128 MiB)",
    ]);
  });

  it("warns when loading needs more than navigator.deviceMemory", () => {
    const v = checkMemory(estimateMemory(medium), { backend: "webgpu", deviceMemoryGiB: 2 });
    expect(v.level).toBe("warn");
    expect(v.reasons[0]).toMatch(/about 3\.97 GiB at its peak, more than the 2 GiB/);
  });
});
