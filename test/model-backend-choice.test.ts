/**
 * Backend choice by measurement (lib/model/backend-choice.ts) in Node: software GPU adapters are
 * skipped unmeasured, a lone candidate is used as is, several are timed on the loaded model and
 * the fastest is remembered per device and model shape; an override is used as given. No tensor
 * is left behind by the calibration, and a cancelled one (a newer load) stops, frees its model and
 * remembers nothing. (No timing is asserted: which backend wins is whatever the recorded timings
 * say.)
 */
import "../lib/model/backends-node";
import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type BackendChoice,
  CalibrationCancelled,
  type ChoiceStore,
  choiceKey,
  chooseBackend,
} from "../lib/model/backend-choice";
import { probeWebGpu } from "../lib/model/gpu-probe";
import { loadModelDir, RANDOM_MODEL_DIR } from "../scripts/reference/golden";

function memoryStore(): ChoiceStore & { saved: Map<string, BackendChoice>; puts: number } {
  const saved = new Map<string, BackendChoice>();
  const s = {
    saved,
    puts: 0,
    async get(key: string) {
      return saved.get(key) ?? null;
    },
    async put(c: BackendChoice) {
      s.puts++;
      if (c.how === "measured") saved.set(c.key, c);
    },
  };
  return s;
}

function fakeGpu(info: Record<string, unknown>, isFallbackAdapter = false) {
  vi.stubGlobal("navigator", {
    gpu: { requestAdapter: async () => ({ info, isFallbackAdapter }) },
  });
}

afterEach(async () => {
  vi.unstubAllGlobals();
  await tf.setBackend("wasm");
});

describe("probeWebGpu", () => {
  it("flags SwiftShader and fallback adapters as software, a real GPU not", async () => {
    fakeGpu({ vendor: "google", architecture: "", description: "SwiftShader Device (Subzero)" });
    expect(await probeWebGpu()).toMatchObject({ software: true, name: /swiftshader/i });
    fakeGpu({ vendor: "acme", description: "Generic" }, true);
    expect((await probeWebGpu()).software).toBe(true);
    fakeGpu({ vendor: "nvidia", architecture: "hopper", description: "NVIDIA H100" });
    expect(await probeWebGpu()).toEqual({ name: "nvidia hopper NVIDIA H100", software: false });
    vi.stubGlobal("navigator", {});
    expect((await probeWebGpu()).unavailable).toBe("no WebGPU");
  });
});

describe("chooseBackend", () => {
  it("skips a software WebGPU adapter and cpu: wasm is the only candidate", async () => {
    const { config, weights } = await loadModelDir(RANDOM_MODEL_DIR);
    fakeGpu({ vendor: "google", description: "SwiftShader Device" });
    const store = memoryStore();
    const before = tf.memory().numTensors;
    const r = await chooseBackend(["webgpu", "webgl", "wasm", "cpu"], { config, weights, store });
    expect(r.backend).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(r.choice.how).toBe("only");
    expect(r.choice.timings).toEqual([
      { backend: "webgpu", skipped: "software adapter (google SwiftShader Device)" },
      { backend: "webgl", skipped: "no OffscreenCanvas" },
      { backend: "cpu", skipped: "wasm is faster" },
    ]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("times each candidate on the model, picks the fastest, remembers it per device and shape", async () => {
    const { config, weights } = await loadModelDir(RANDOM_MODEL_DIR);
    const store = memoryStore();
    const before = tf.memory().numTensors;
    const r = await chooseBackend(["wasm", "cpu"], { config, weights, store, measureCpu: true });
    expect(r.choice.how).toBe("measured");
    const ms: Record<string, number | undefined> = Object.fromEntries(
      r.choice.timings.map((t) => [t.backend, t.ms]),
    );
    const wasmMs = ms.wasm ?? Number.NaN;
    const cpuMs = ms.cpu ?? Number.NaN;
    expect(wasmMs).toBeGreaterThan(0);
    expect(cpuMs).toBeGreaterThan(0);
    expect(r.backend).toBe(wasmMs <= cpuMs ? "wasm" : "cpu");
    expect(tf.getBackend()).toBe(r.backend);
    expect(tf.memory().numTensors).toBe(before); // calibration models disposed
    expect(r.choice.key).toBe(choiceKey(config));
    expect(store.saved.get(r.choice.key)?.chosen).toBe(r.backend);

    // the next load on this device and shape uses the measurement without timing again
    const again = await chooseBackend(["wasm", "cpu"], {
      config,
      weights,
      store,
      measureCpu: true,
    });
    expect(again.choice.how).toBe("cached");
    expect(again.backend).toBe(r.backend);
    expect(again.choice.timings).toEqual(r.choice.timings);

    // another shape is another key
    const other = choiceKey({ ...config, nLayer: config.nLayer + 1 });
    expect(other).not.toBe(r.choice.key);
  });

  it("uses a single (overriding) backend as given, and says so when it cannot start", async () => {
    const { config, weights } = await loadModelDir(RANDOM_MODEL_DIR);
    const r = await chooseBackend(["cpu"], { config, weights, store: null });
    expect(r).toMatchObject({ backend: "cpu", choice: { how: "override", chosen: "cpu" } });
    await expect(chooseBackend(["webgpu"], { config, weights, store: null })).rejects.toThrow(
      /tried webgpu/,
    );
  });
});

describe("chooseBackend cancelled (a newer load, a model switch, the user's override)", () => {
  it("stops mid-calibration: rejects, remembers nothing, leaves no tensor; the next choice works", async () => {
    const { config, weights } = await loadModelDir(RANDOM_MODEL_DIR);
    // abort as the first candidate's calibration starts, then as the second's (after a timing)
    for (const abortAt of [0, 1]) {
      const store = memoryStore();
      const controller = new AbortController();
      const started: string[] = [];
      const before = tf.memory().numTensors;
      const choosing = chooseBackend(["wasm", "cpu"], {
        config,
        weights,
        store,
        measureCpu: true,
        signal: controller.signal,
        onCalibrate: (c) => {
          if (started.push(c.backend) - 1 === abortAt) controller.abort();
        },
      });
      await expect(choosing).rejects.toBeInstanceOf(CalibrationCancelled);
      expect(started).toEqual(["wasm", "cpu"].slice(0, abortAt + 1));
      expect(store.puts).toBe(0); // no stale choice
      expect(tf.memory().numTensors).toBe(before); // the calibration model was freed
    }
    const store = memoryStore();
    const r = await chooseBackend(["wasm", "cpu"], { config, weights, store, measureCpu: true });
    expect(r.choice.how).toBe("measured");
    expect(store.saved.get(r.choice.key)?.chosen).toBe(r.backend);
  });
});
