/**
 * Causal tracing (lib/interp/trace.ts) on a 4-layer random GPT-2 (test/fixtures/trace/tiny-4l):
 * goldens from the independent numpy reference (scripts/reference/trace_ref.py) given the same
 * noise, fast == naive, the method's invariants (full restore = high_score, zero noise = zero
 * effect, seeds), the evaluation counts, streaming, cancellation and tensor hygiene.
 */
import "../lib/model/backends-node";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../lib/engine";
import { CancelledError } from "../lib/interp/cancel";
import { embeddingStd } from "../lib/interp/embedding-std";
import { FastEngine } from "../lib/interp/fast";
import { NaiveEngine } from "../lib/interp/naive";
import { GaussianRng, gaussianArray } from "../lib/interp/rng";
import {
  defaultWindow,
  TraceError,
  type TraceKind,
  type TraceSpec,
  windowLayers,
} from "../lib/interp/spec";
import { continuationProbMetric, type SweepEngine } from "../lib/interp/sweep";
import { findSubjectRange } from "../lib/interp/tokens";
import { runTrace, type TraceResult } from "../lib/interp/trace";
import { selectBackend } from "../lib/model/backend";
import { loadEngine, loadTraceGoldens, maxDiff, type TraceGolden } from "./interp-helpers";

const GOLDEN_TOL = 1e-4;
const FAST_TOL = 1e-5;
const PROMPT = [12, 201, 77, 45, 160, 33, 98, 250, 5, 141];
const CF = [12, 30, 53, 45, 160, 33, 98, 250, 5, 141];

let engine: Engine;
const goldens = loadTraceGoldens();
const traceCases = goldens.cases.filter((c): c is TraceGolden => c.type === "trace");

beforeAll(async () => {
  await selectBackend(["wasm"]);
  engine = await loadEngine("tiny-4l");
});
afterAll(() => engine?.dispose());

const tensors = () => tf.memory().numTensors;

describe("seeded Gaussian generator", () => {
  it("reproduces the Python reference's stream", () => {
    for (const g of goldens.rng) {
      const got = gaussianArray(g.seed, g.values.length, g.scale);
      expect(Array.from(got)).toEqual(g.values); // float32, bit for bit
    }
  });

  it("is deterministic, seed-dependent and standard normal", () => {
    expect(Array.from(gaussianArray(5, 100))).toEqual(Array.from(gaussianArray(5, 100)));
    expect(Array.from(gaussianArray(5, 100))).not.toEqual(Array.from(gaussianArray(6, 100)));
    const rng = new GaussianRng(3);
    let s = 0;
    let s2 = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const z = rng.nextNormal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.04);
  });
});

describe("trace goldens (numpy reference, same noise)", () => {
  for (const c of traceCases) {
    for (const strategy of ["naive", "fast"] as const) {
      it(`${c.name} (${strategy}) within ${GOLDEN_TOL}`, async () => {
        const before = tensors();
        const r = await runTrace(engine, { ...c.spec, strategy });
        expect(tensors()).toBe(before);
        expect(r.answer.ids).toEqual(c.target);
        if (c.input_ids) expect(r.ids).toEqual(c.input_ids);
        if (c.subject_range) expect(r.subject).toEqual(c.subject_range);
        expect(Math.abs(r.high - c.high_score)).toBeLessThan(GOLDEN_TOL);
        expect(Math.abs(r.low - c.low_score)).toBeLessThan(GOLDEN_TOL);
        if (c.noise_sigma === null) expect(r.noiseSigma).toBeNull();
        else expect(Math.abs(r.noiseSigma! - c.noise_sigma) / c.noise_sigma).toBeLessThan(1e-9);
        const d = maxDiff(r.scores, c.scores);
        if (strategy === "fast") console.log(`${c.name}: max |Δ| vs numpy ${d.toExponential(2)}`);
        expect(d).toBeLessThan(GOLDEN_TOL);
      });
    }
  }
});

describe("fast reproduces naive", () => {
  const specs: [string, TraceSpec][] = [];
  for (const kind of ["hidden", "mlp", "attn"] as TraceKind[]) {
    specs.push([
      `noise ${kind}`,
      { prompt: PROMPT, subject: [2, 5], kind, samples: 3, window: 3, seed: 9 },
    ]);
    specs.push([
      `prompt ${kind}`,
      { prompt: PROMPT, kind, window: 2, corruption: { type: "prompt", prompt: CF } },
    ]);
  }
  specs.push([
    "noise at position 0, 3-token target",
    { prompt: PROMPT, subject: [0, 1], samples: 2, target: [7, 8, 9], kind: "mlp", window: 2 },
  ]);
  for (const [name, spec] of specs) {
    it(`${name}: within ${FAST_TOL}, fewer evaluations`, async () => {
      const naive = await runTrace(engine, { ...spec, strategy: "naive" });
      const fast = await runTrace(engine, { ...spec, strategy: "fast" });
      const single = await runTrace(
        engine,
        { ...spec, strategy: "fast" },
        { singlePosition: true },
      );
      expect(maxDiff(single.scores, naive.scores)).toBeLessThan(FAST_TOL);
      expect(single.evaluations).toBeLessThanOrEqual(fast.evaluations);
      expect(fast.answer).toEqual(naive.answer);
      expect(Math.abs(fast.high - naive.high)).toBeLessThan(FAST_TOL);
      expect(Math.abs(fast.low - naive.low)).toBeLessThan(FAST_TOL);
      expect(maxDiff(fast.scores, naive.scores)).toBeLessThan(FAST_TOL);
      expect(fast.evaluations).toBeLessThan(naive.evaluations);
    });
  }

  it("a tiny batch cap (many passes) gives the same numbers", async () => {
    const spec: TraceSpec = {
      prompt: PROMPT,
      subject: [1, 3],
      kind: "attn",
      samples: 2,
      window: 2,
    };
    const a = await runTrace(engine, spec);
    const b = await runTrace(engine, spec, { maxBatchRows: 2 });
    expect(maxDiff(a.scores, b.scores)).toBeLessThan(FAST_TOL);
    expect(b.evaluations).toBe(a.evaluations);
  });
});

describe("evaluations", () => {
  it("hidden trace, 10 tokens, subject from token 1: fast ≤ 1/3 of naive, both as documented", async () => {
    const spec: TraceSpec = { prompt: PROMPT, subject: [1, 4], kind: "hidden", samples: 10 };
    const naive = await runTrace(engine, { ...spec, strategy: "naive" });
    const fast = await runTrace(engine, { ...spec, strategy: "fast" });
    const [T, L, N, t0] = [10, 4, 10, 1];
    // naive: clean + corrupted + one full forward (N rows) per cell
    expect(naive.evaluations).toBe(T * L + N * T * L + T * L * (N * T * L));
    // fast: clean + corrupted from t0 + Σ_{t ≥ t0} Σ_l N (T − t)(L − 1 − l)
    let cells = 0;
    for (let t = t0; t < T; t++) for (let l = 0; l < L; l++) cells += N * (T - t) * (L - 1 - l);
    expect(fast.evaluations).toBe(T * L + N * (T - t0) * L + cells);
    const ratio = fast.evaluations / naive.evaluations;
    console.log(
      `hidden, T=10, L=4, N=10, subject [1,4): fast/naive = ${fast.evaluations}/${naive.evaluations} = ${ratio.toFixed(3)}`,
    );
    expect(ratio).toBeLessThanOrEqual(1 / 3);
  });

  it("mlp trace: evaluations as documented, with and without singlePosition, same numbers", async () => {
    const spec: TraceSpec = { prompt: PROMPT, subject: [2, 4], kind: "mlp", samples: 3, window: 2 };
    const fast = await runTrace(engine, spec);
    const single = await runTrace(engine, spec, { singlePosition: true });
    expect(maxDiff(single.scores, fast.scores)).toBeLessThan(FAST_TOL);
    const [T, L, N, t0] = [10, 4, 3, 2];
    let cells = 0;
    let cellsSingle = 0;
    for (let t = t0; t < T; t++) {
      for (let l = 0; l < L; l++) {
        const lo = windowLayers(l, 2, L)[0];
        cells += N * (T - t) * (L - lo);
        cellsSingle += t < T - 1 ? N + N * (T - t) * (L - lo - 1) : N * (L - lo);
      }
    }
    expect(fast.evaluations).toBe(T * L + N * (T - t0) * L + cells);
    expect(single.evaluations).toBe(T * L + N * (T - t0) * L + cellsSingle);
  });

  it("subject at token 0 and every kind still under a third for hidden, under naive for windows", async () => {
    for (const kind of ["hidden", "mlp", "attn"] as TraceKind[]) {
      const spec: TraceSpec = { prompt: PROMPT, subject: [0, 2], kind, samples: 2, window: 2 };
      const naive = await runTrace(engine, { ...spec, strategy: "naive" });
      const fast = await runTrace(engine, { ...spec, strategy: "fast" });
      const ratio = fast.evaluations / naive.evaluations;
      console.log(`${kind}, subject [0,2), w=2: fast/naive = ${ratio.toFixed(3)}`);
      if (kind === "hidden") expect(ratio).toBeLessThanOrEqual(1 / 3);
      else expect(ratio).toBeLessThan(0.5);
    }
  });
});

describe("invariants of the method", () => {
  it("restoring the last layer's hidden state at the last token gives high_score", async () => {
    for (const strategy of ["fast", "naive"] as const) {
      const r = await runTrace(engine, { prompt: PROMPT, subject: [1, 4], samples: 3, strategy });
      expect(Math.abs(r.scores[9][3] - r.high)).toBeLessThan(1e-6);
      // and earlier tokens at the last layer cannot reach the last position: low_score
      for (let t = 0; t < 9; t++) expect(Math.abs(r.scores[t][3] - r.low)).toBeLessThan(1e-6);
    }
  });

  it("restoring every position of the residual stream gives the clean metric (both engines)", async () => {
    const model = engine.model;
    const noise = { positions: [1, 2, 3], values: gaussianArray(1, 2 * 3 * 32, 1.5) };
    for (const make of [(s: never) => new FastEngine(s), (s: never) => new NaiveEngine(s)]) {
      const before = tensors();
      const e: SweepEngine = make({
        model,
        cleanIds: PROMPT,
        corruptIds: PROMPT,
        rows: 2,
        noise,
        scored: [9],
        sites: new Set(["resid_pre"]),
      } as never);
      try {
        const { top1 } = await e.clean();
        const base = await e.baseline(continuationProbMetric([top1], model.config.vocabSize));
        const all = {
          patches: [
            { site: "resid_pre" as const, layer: 0, positions: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
          ],
        };
        const mid = {
          patches: [
            { site: "resid_pre" as const, layer: 2, positions: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
          ],
        };
        const groups = e.plan([all, mid]);
        const got: number[] = [];
        for (const g of groups) {
          const raw = await e.run(g);
          g.cells.forEach((c, i) => {
            got[c] = raw[i];
          });
        }
        expect(base.corrupt[0]).not.toBeCloseTo(base.clean[0], 3);
        expect(Math.abs(got[0] - base.clean[0])).toBeLessThan(1e-6);
        expect(Math.abs(got[1] - base.clean[0])).toBeLessThan(1e-6);
      } finally {
        e.dispose();
      }
      expect(tensors()).toBe(before);
    }
  });

  it("noise multiplier 0 gives zero effect everywhere", async () => {
    for (const kind of ["hidden", "attn"] as TraceKind[]) {
      const r = await runTrace(engine, {
        prompt: PROMPT,
        subject: [1, 4],
        kind,
        samples: 2,
        noise: 0,
      });
      expect(r.noiseSigma).toBe(0);
      expect(Math.abs(r.low - r.high)).toBeLessThan(1e-6);
      for (const row of r.scores)
        for (const v of row) expect(Math.abs(v - r.low)).toBeLessThan(1e-6);
    }
  });

  it("cells before the subject equal low_score (nothing to restore there)", async () => {
    const r = await runTrace(engine, {
      prompt: PROMPT,
      subject: [3, 5],
      samples: 2,
      kind: "mlp",
      window: 2,
    });
    for (let t = 0; t < 3; t++)
      for (const v of r.scores[t]) expect(Math.abs(v - r.low)).toBeLessThan(1e-6);
  });

  it("same seed, same grid; another seed, another grid", async () => {
    const spec: TraceSpec = { prompt: PROMPT, subject: [1, 4], samples: 3, seed: 42 };
    const a = await runTrace(engine, spec);
    const b = await runTrace(engine, spec);
    const c = await runTrace(engine, { ...spec, seed: 43 });
    expect(b.scores).toEqual(a.scores);
    expect(b.low).toBe(a.low);
    expect(maxDiff(c.scores, a.scores)).toBeGreaterThan(1e-4);
  });

  it("noise σ is the multiplier times the std of the token embeddings", async () => {
    const std = await embeddingStd(engine.model);
    const r = await runTrace(engine, { prompt: PROMPT, subject: [1, 4], samples: 1, noise: 2.5 });
    expect(r.noiseSigma).toBeCloseTo(2.5 * std, 12);
    const g = traceCases.find((c) => c.name === "tiny-noise-hidden")!;
    expect(Math.abs(std * 3 - g.noise_sigma!)).toBeLessThan(1e-9);
  });
});

describe("spec and results", () => {
  it("resolves the subject from text, reports what ran", async () => {
    const r = await runTrace(engine, { prompt: "Big cats run far", subject: "cats", samples: 2 });
    expect(r.subject).toEqual([4, 8]);
    expect(r.tokens.join("")).toBe("Big cats run far");
    expect(r.scores).toHaveLength(16);
    expect(r.scores[0]).toHaveLength(4);
    expect(r).toMatchObject({
      samples: 2,
      seed: 1,
      kind: "hidden",
      window: defaultWindow(4),
      strategy: "fast",
    });
    expect(r.ms).toBeGreaterThan(0);
  });

  it("finds subjects as ROME does", () => {
    const toks = ["The", " E", "iff", "el", " Tower", " is", " in"];
    expect(findSubjectRange(toks, "Eiffel Tower")).toEqual([1, 5]);
    expect(findSubjectRange(toks, " Eiffel")).toEqual([1, 4]);
    expect(findSubjectRange(toks, "iff")).toEqual([2, 3]);
    expect(findSubjectRange(toks, "ffel To")).toEqual([2, 5]);
    expect(() => findSubjectRange(toks, "Louvre")).toThrow(/not in the prompt/);
  });

  it("window layers follow ROME: [l − ⌊w/2⌋, l + ⌈w/2⌉) clipped", () => {
    expect(windowLayers(5, 10, 48)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(windowLayers(20, 10, 48)).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    expect(windowLayers(3, 3, 4)).toEqual([2, 3]);
    expect(windowLayers(2, 1, 4)).toEqual([2]);
    expect(defaultWindow(48)).toBe(10);
    expect(defaultWindow(12)).toBe(2);
    expect(defaultWindow(2)).toBe(1);
  });

  const bad: [string, TraceSpec, string | RegExp][] = [
    [
      "subject not in the prompt",
      { prompt: "Big cats run far", subject: "dogs" },
      /not in the prompt/,
    ],
    ["empty subject", { prompt: "Big cats run far", subject: " " }, /empty/],
    ["range outside the prompt", { prompt: PROMPT, subject: [8, 12] }, /subject range/],
    ["empty range", { prompt: PROMPT, subject: [3, 3] }, /subject range/],
    ["no subject with noise", { prompt: PROMPT }, /subject is required/],
    [
      "counterfactual of another length",
      { prompt: PROMPT, corruption: { type: "prompt", prompt: PROMPT.slice(1) } },
      /same number of tokens/,
    ],
    [
      "identical counterfactual",
      { prompt: PROMPT, corruption: { type: "prompt", prompt: PROMPT } },
      /same as the prompt/,
    ],
    ["samples 0", { prompt: PROMPT, subject: [1, 2], samples: 0 }, /samples/],
    ["negative noise", { prompt: PROMPT, subject: [1, 2], noise: -1 }, /noise/],
    ["unknown kind", { prompt: PROMPT, subject: [1, 2], kind: "neuron" as TraceKind }, /kind/],
    [
      "target outside the vocabulary",
      { prompt: PROMPT, subject: [1, 2], target: 999 },
      /vocabulary/,
    ],
    ["empty target", { prompt: "Big cats", subject: "cats", target: "" }, /empty/],
    [
      "too long for the context",
      { prompt: Array(30).fill(5), subject: [1, 2], target: [1, 2, 3, 4] },
      /context/,
    ],
  ];
  for (const [name, spec, msg] of bad) {
    it(`rejects: ${name}`, async () => {
      const before = tensors();
      await expect(runTrace(engine, spec)).rejects.toThrow(msg);
      await expect(runTrace(engine, spec)).rejects.toBeInstanceOf(TraceError);
      expect(tensors()).toBe(before);
    });
  }

  it("text prompts need a tokenizer", async () => {
    await expect(
      runTrace({ model: engine.model }, { prompt: "abc", subject: [0, 1] }),
    ).rejects.toThrow(/tokenizer/);
  });
});

describe("streaming, cancellation, tensors", () => {
  it("streams the baseline, then every row once, in order, equal to the result; progress reaches the total", async () => {
    const events: string[] = [];
    const rows: { t: number; values: number[] }[] = [];
    let last = { done: 0, total: 0 };
    const r = await runTrace(
      engine,
      { prompt: PROMPT, subject: [2, 4], samples: 2, kind: "mlp", window: 2 },
      {
        onBaseline: (b) => events.push(`baseline ${b.tokens.length}`),
        onRow: (row) => {
          events.push(`row ${row.t}`);
          rows.push({ t: row.t, values: Array.from(row.values) });
        },
        onProgress: (p) => {
          expect(p.done).toBeGreaterThanOrEqual(last.done);
          last = p;
        },
      },
    );
    expect(events[0]).toBe("baseline 10");
    expect(rows.map((x) => x.t)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const row of rows) {
      expect(row.values).toHaveLength(4);
      for (let l = 0; l < 4; l++) expect(row.values[l]).toBeCloseTo(r.scores[row.t][l], 6);
    }
    expect(last.done).toBe(last.total);
    expect(last.total).toBe(r.evaluations);
  });

  for (const strategy of ["fast", "naive"] as const) {
    it(`cancel between passes (${strategy}): CancelledError, no rows after, no tensors left`, async () => {
      const before = tensors();
      const flag = { cancelled: false };
      let rowsSeen = 0;
      const run = runTrace(
        engine,
        { prompt: PROMPT, subject: [1, 3], samples: 2, strategy },
        {
          signal: flag,
          onRow: (row) => {
            rowsSeen++;
            if (row.t === 3) flag.cancelled = true;
          },
        },
      );
      await expect(run).rejects.toBeInstanceOf(CancelledError);
      expect(rowsSeen).toBeLessThan(10);
      expect(tensors()).toBe(before);
    });
  }

  it("an AbortSignal aborted before the start cancels at once", async () => {
    const before = tensors();
    const ac = new AbortController();
    ac.abort();
    await expect(
      runTrace(engine, { prompt: PROMPT, subject: [1, 3] }, { signal: ac.signal }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(tensors()).toBe(before);
  });

  it("an error thrown by a callback mid-sweep propagates and leaves no tensors", async () => {
    const before = tensors();
    const run = runTrace(
      engine,
      { prompt: PROMPT, subject: [1, 3], samples: 2, kind: "attn", window: 2 },
      {
        onRow: (row) => {
          if (row.t === 4) throw new Error("boom");
        },
      },
    );
    await expect(run).rejects.toThrow("boom");
    expect(tensors()).toBe(before);
  });

  it("every run leaves the tensor count as it was", async () => {
    const before = tensors();
    const results: TraceResult[] = [];
    for (const kind of ["hidden", "mlp", "attn"] as TraceKind[]) {
      for (const strategy of ["fast", "naive"] as const) {
        results.push(
          await runTrace(engine, { prompt: PROMPT, subject: [1, 3], samples: 2, kind, strategy }),
        );
      }
    }
    expect(results).toHaveLength(6);
    expect(tensors()).toBe(before);
  });
});
