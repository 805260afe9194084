/**
 * The benchmark's pieces (scripts/bench/): the random GPT-2-shaped model (shapes, parameter
 * count, seeding, scales, a non-degenerate softmax), its prompts, one measured sweep with both
 * strategies (agreement, evaluations, extrapolation, no leaks) and the report's table.
 */
import "../lib/model/backends-node";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gpt2Config } from "../lib/load/types";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { benchSweep, measureSweep } from "../scripts/bench/core";
import { randomPrompts } from "../scripts/bench/prompts";
import {
  GPT2_SMALL,
  gpt2ParamCount,
  randomGpt2Weights,
  randomTokenIds,
  WEIGHT_STD,
} from "../scripts/bench/random-gpt2";
import { markdownTable, mismatches, planNote } from "../scripts/bench/report.mjs";

/** GPT-2 small's width ratios at a size a unit test can afford. */
const SMALL: Gpt2Config = {
  ...GPT2_SMALL,
  nLayer: 3,
  nHead: 4,
  dModel: 64,
  dMlp: 256,
  nCtx: 64,
  vocabSize: 500,
};

let model: Gpt2Model;

beforeAll(async () => {
  await selectBackend(["wasm"]);
  model = Gpt2Model.fromWeights(SMALL, randomGpt2Weights(SMALL, 7).weights);
});

afterAll(() => model?.dispose());

describe("random GPT-2-shaped weights", () => {
  it("has GPT-2 small's parameter count", () => {
    expect(gpt2ParamCount(GPT2_SMALL)).toBe(124_439_808);
  });

  it("has every weight in HF Conv1D layout, and the model accepts them", () => {
    const { weights } = randomGpt2Weights(SMALL, 1);
    const { dModel: D, dMlp: M, vocabSize: V, nCtx } = SMALL;
    expect(weights.wte.shape).toEqual([V, D]);
    expect(weights.wpe.shape).toEqual([nCtx, D]);
    expect(weights.blocks).toHaveLength(SMALL.nLayer);
    const b = weights.blocks[0];
    expect(b.attnQkv.w.shape).toEqual([D, 3 * D]);
    expect(b.attnOut.w.shape).toEqual([D, D]);
    expect(b.mlpIn.w.shape).toEqual([D, M]);
    expect(b.mlpOut.w.shape).toEqual([M, D]);
    expect(b.ln1.g.shape).toEqual([D]);
    expect(model.nParams).toBe(gpt2ParamCount(SMALL));
  });

  it("is the same for the same seed and differs for another", () => {
    const a = randomGpt2Weights(SMALL, 3).weights.wte.data;
    const b = randomGpt2Weights(SMALL, 3).weights.wte.data;
    const c = randomGpt2Weights(SMALL, 4).weights.wte.data;
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it("draws entries with the documented scales", () => {
    const { weights } = randomGpt2Weights(SMALL, 5);
    const std = (x: Float32Array) => {
      const m = x.reduce((s, v) => s + v, 0) / x.length;
      return Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / x.length);
    };
    expect(std(weights.wte.data)).toBeCloseTo(WEIGHT_STD.wte, 2);
    expect(std(weights.blocks[0].attnQkv.w.data)).toBeCloseTo(WEIGHT_STD.attnQkv, 2);
    const g = weights.lnF.g.data;
    expect(g.reduce((s, v) => s + v, 0) / g.length).toBeCloseTo(1, 1);
  });

  it("gives a next-token distribution that is neither flat nor one-hot", async () => {
    const ids = randomTokenIds(10, SMALL.vocabSize, 11);
    const p = tf.tidy(() => {
      const { logits } = model.forward({ inputIds: [ids], logitPositions: "last" });
      return tf.softmax(logits.reshape([-1]));
    });
    const probs = await p.data();
    p.dispose();
    const top = Math.max(...probs);
    expect(top).toBeGreaterThan(5 / SMALL.vocabSize);
    expect(top).toBeLessThan(0.999);
  });
});

describe("a measured sweep", () => {
  it("random prompts put the subject at tokens [1, 4) with a same-length counterfactual", async () => {
    const [short, long] = await randomPrompts(model, 9);
    expect(short.ids).toHaveLength(10);
    expect(long.ids).toHaveLength(30);
    for (const p of [short, long]) {
      expect(p.subject).toEqual([1, 4]);
      expect(p.corruptIds).toHaveLength(p.ids.length);
      expect(p.corruptIds.slice(4)).toEqual(p.ids.slice(4));
      expect(p.target).not.toBe(p.foil);
    }
  });

  it("fast and naive agree, evaluations are counted, nothing is left behind", async () => {
    const [prompt] = await randomPrompts(model, 9, ["short"]);
    const before = tf.memory().numTensors;
    for (const sweep of ["hidden", "heads"] as const) {
      const row = await benchSweep({ model }, "wasm", "small", prompt, sweep, { samples: 2 });
      expect(row.maxAbsDiff).toBeLessThanOrEqual(1e-5);
      expect(row.comparedRows).toBe(sweep === "heads" ? SMALL.nLayer : 10);
      expect(row.fast.evaluations).toBeLessThan(row.naive.evaluations);
      expect(row.naive.extrapolated).toBe(false);
      expect(row.fast.peakBytes).toBeGreaterThan(0);
      expect(row.fast.firstRowMs).toBeLessThanOrEqual(row.fast.ms);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("measures naive on a prefix of rows and extrapolates, with the full evaluation count", async () => {
    const [prompt] = await randomPrompts(model, 9, ["short"]);
    const full = await measureSweep({ model }, prompt, "mlp", "naive", 2);
    const part = await measureSweep({ model }, prompt, "mlp", "naive", 2, 3);
    expect(part.measure.extrapolated).toBe(true);
    expect(part.measure.rowsDone).toBe(3);
    expect(part.measure.evaluations).toBe(full.measure.evaluations);
    expect(part.measure.ms).toBeGreaterThan(part.measure.msMeasured);
    for (const [t, v] of part.rows) expect(Array.from(v)).toEqual(Array.from(full.rows.get(t)!));
  });
});

describe("report", () => {
  it("formats a table row, marking extrapolated naive numbers", () => {
    const m = (ms: number, extrapolated = false) => ({
      strategy: "fast",
      ms,
      msMeasured: ms,
      baselineMs: 1,
      evaluations: 1000,
      firstRowMs: 12,
      peakBytes: 3 << 20,
      peakAboveStart: 2 << 20,
      rowsDone: 1,
      rowsTotal: 10,
      extrapolated,
      high: 0.9,
      low: 0.1,
    });
    const row = {
      backend: "wasm",
      model: "m",
      prompt: "short",
      tokens: 10,
      sweep: "hidden",
      samples: 1,
      cells: 120,
      fast: m(2000),
      naive: m(8000, true),
      timeRatio: 0.25,
      evalRatio: 0.2,
      maxAbsDiff: 0,
      comparedRows: 1,
    };
    const table = markdownTable([row]);
    expect(table.split("\n")).toHaveLength(3);
    expect(table).toContain("| wasm | m | 10 | trace hidden | 1 | 120 | ≈8.00 | 2.00 | ≈0.25 |");
    expect(mismatches([row])).toHaveLength(0);
    expect(mismatches([{ ...row, maxAbsDiff: 1e-3 }])).toHaveLength(1);
    expect(mismatches([{ ...row, maxAbsDiff: Number.NaN }])).toHaveLength(1);
    expect(
      planNote([
        { label: "short", sweeps: ["hidden", "mlp", "attn", "heads"] },
        { label: "long", sweeps: ["hidden", "heads"], naiveRows: 1 },
      ]),
    ).toBe(
      "short prompt: every sweep, naive in full; long prompt: hidden + heads, naive on its first 1 row, extrapolated (≈)",
    );
  });
});
