/**
 * tfjs-wasm's threaded build (lib/model/wasm-threads.ts) in Node, switched on as
 * CAUSEWAY_WASM_THREADS does: it runs on 2 threads and matches the numpy goldens; its build is
 * not swapped while a tensor lives on it; the backend choice times it against one thread for
 * models wide enough; and a threaded start that fails (a pthread's error, or
 * no answer) falls back to one thread with a note. The failures are fakes: a real pthread error
 * in Node ends the process (emscripten rethrows it).
 */
import * as tf from "@tensorflow/tfjs";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SelectedBackend } from "../lib/model/backend";
import { chooseBackend } from "../lib/model/backend-choice";
import { Gpt2Model } from "../lib/model/gpt2";
import {
  pthreadFailed,
  registerWasm,
  type StartDeps,
  startWasm,
  threadsBroken,
  wasmThreadsAvailable,
} from "../lib/model/wasm-threads";
import { GPT2_SMALL, randomGpt2Weights } from "../scripts/bench/random-gpt2";
import {
  compareCase,
  loadGolden,
  loadModelDir,
  RANDOM_MODEL_DIR,
} from "../scripts/reference/golden";

beforeAll(async () => {
  process.env.CAUSEWAY_WASM_THREADS = "2"; // read when backends-node is first imported
  await import("../lib/model/backends-node");
  delete process.env.CAUSEWAY_WASM_THREADS;
});

afterAll(() => {
  registerWasm(1); // frees the threaded build and its pthreads
});

describe("the threaded build in Node", () => {
  it("runs on 2 threads with the goldens' numbers, and keeps its build while tensors live", async () => {
    expect(wasmThreadsAvailable()).toBe(2);
    expect(await startWasm(2)).toEqual({ backend: "wasm", threads: 2 });
    expect(tf.getBackend()).toBe("wasm");
    expect(getThreadsCount()).toBe(2);

    const { config, weights } = await loadModelDir(RANDOM_MODEL_DIR);
    const golden = await loadGolden("random-gpt2-f16");
    const m = Gpt2Model.fromWeights(config, weights);
    try {
      for (const name of ["p1", "batch2"]) {
        const diffs = await compareCase(m, golden, golden.case(name));
        for (const [k, v] of diffs) expect(v, `${name} ${k}`).toBeLessThanOrEqual(1e-4);
      }
      expect(registerWasm(1)).toBe(2); // the model's weights live on it: no switch
    } finally {
      m.dispose();
    }
    expect(registerWasm(1)).toBe(1);
    expect(await startWasm(1)).toEqual({ backend: "wasm", threads: 1 });
    expect(getThreadsCount()).toBe(1);
  });
});

describe("chooseBackend with threads", () => {
  it("times wasm on 2 threads and on one for a wide model; a narrow one is not tried", async () => {
    const narrow = await loadModelDir(RANDOM_MODEL_DIR); // width 32
    const r = await chooseBackend(["wasm", "cpu"], { ...narrow, store: null });
    expect(r.choice.how).toBe("only");
    expect(r.choice.timings).toContainEqual({
      backend: "wasm",
      threads: 2,
      skipped: "model too narrow for threads (width 32 < 256)",
    });

    const shape = { ...GPT2_SMALL, nLayer: 1, nHead: 4, dModel: 256, dMlp: 512, nCtx: 16 };
    const wide = randomGpt2Weights({ ...shape, vocabSize: 64 }, 1);
    const before = tf.memory().numTensors;
    const w = await chooseBackend(["wasm", "cpu"], { ...wide, store: null });
    expect(w.choice.how).toBe("measured");
    const timed = w.choice.timings.filter((t) => t.backend === "wasm");
    expect(timed.map((t) => t.threads ?? 1)).toEqual([2, 1]);
    const [two, one] = timed.map((t) => t.ms ?? Number.NaN);
    expect(two).toBeGreaterThan(0);
    expect(one).toBeGreaterThan(0);
    expect(w.threads).toBe(two < one ? 2 : 1);
    expect(w.choice.threads).toBe(two < one ? 2 : undefined);
    expect(getThreadsCount()).toBe(w.threads);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("startWasm when the threaded build fails", () => {
  /** A fake 'wasm': the threaded start hangs (a dead pthread never answers) or rejects. */
  function fakes(threaded: "hang" | "reject", patienceMs = 600_000) {
    let now = 1;
    const registered: number[] = [];
    const deps: StartDeps = {
      register: (n) => {
        registered.push(n);
        now = n;
        return n;
      },
      select: (): Promise<SelectedBackend> =>
        now === 1
          ? Promise.resolve({ backend: "wasm" })
          : threaded === "hang"
            ? new Promise(() => {})
            : Promise.reject(new Error("bad memory")),
      patienceMs,
    };
    return { deps, registered };
  }

  it("falls back to one thread with a note: on no answer, on an error", async () => {
    const late = fakes("hang", 1);
    expect(await startWasm(4, late.deps)).toEqual({
      backend: "wasm",
      threads: 1,
      note: "4 threads failed (no answer in 0.001 s); running on one",
    });
    expect(late.registered).toEqual([4, 1]);

    const rejected = fakes("reject");
    expect((await startWasm(4, rejected.deps)).note).toBe(
      "4 threads failed (bad memory); running on one",
    );
  });

  it("falls back on a pthread's error report, and stays single-threaded afterwards", async () => {
    const { deps, registered } = fakes("hang");
    const starting = startWasm(4, deps);
    pthreadFailed("n is not defined"); // what the worker's error listener reports
    expect(await starting).toEqual({
      backend: "wasm",
      threads: 1,
      note: "4 threads failed (n is not defined); running on one",
    });
    expect(registered).toEqual([4, 1]);
    expect(threadsBroken()).not.toBeNull();
    expect(wasmThreadsAvailable()).toBe(1);
    expect(registerWasm(2)).toBe(1);
  });
});
