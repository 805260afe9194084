/**
 * Engine: load from a folder, tokenize, predict (against the numpy reference's softmax), refuse
 * bad requests with EngineErrors, and leave no tensors behind. Runs on the random F16 model and
 * its byte-level tokenizer (test/fixtures/random-gpt2-f16).
 */
import "../lib/model/backends-node";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Engine, EngineError } from "../lib/engine";
import { promptIds } from "../lib/interp/tokens";
import { directorySource } from "../lib/load/node-source";
import { selectBackend } from "../lib/model/backend";
import { type GoldenSet, loadGolden, RANDOM_MODEL_DIR } from "../scripts/reference/golden";

let engine: Engine;
let golden: GoldenSet;
let baseline: number;
const phases: string[] = [];

beforeAll(async () => {
  await selectBackend(["wasm"]);
  baseline = tf.memory().numTensors;
  engine = await Engine.load(
    directorySource(RANDOM_MODEL_DIR),
    "random-gpt2-f16",
    (phase, done, total) => {
      if (done === total) phases.push(phase);
    },
  );
  golden = await loadGolden("random-gpt2-f16");
});

afterAll(() => engine?.dispose());

describe("Engine.load", () => {
  it("reports each phase and describes the model", () => {
    expect(phases).toEqual(["config", "tokenizer", "weights", "upload"]);
    expect(engine.info.name).toBe("random-gpt2-f16");
    expect(engine.info.config).toMatchObject({ nLayer: 2, dModel: 32, nCtx: 32, vocabSize: 500 });
    expect(engine.info.nParams).toBe(engine.model.nParams);
    expect(engine.info.nParams).toBeGreaterThan(40_000);
    expect(engine.tensorsInUse()).toBe(baseline + 4 + 12 * 2);
  });
});

describe("tokenize", () => {
  it("gives the ids the reference ran, and each token's text", () => {
    const c = golden.case("engine_prompt");
    const { ids, tokens } = engine.tokenize(c.text!);
    expect(ids).toEqual(c.ids[0]);
    expect(tokens.join("")).toBe(c.text);
    expect(engine.tokenize(" the")).toEqual({ ids: [259], tokens: [" the"] });
  });
});

describe("tokenize: the prompt's length is checked first", () => {
  it("a prompt too long to fit the context is refused without being tokenized", () => {
    const encode = vi.spyOn(engine.tokenizer, "encode");
    try {
      expect(() => engine.tokenize("y".repeat(10_000_000))).toThrow(
        /^The prompt has 10,000,000 characters, more than the 2,048/,
      );
      expect(encode).not.toHaveBeenCalled();
      expect(engine.tokenize("y".repeat(2048)).ids.length).toBeGreaterThan(0); // at the bound
      expect(encode).toHaveBeenCalledTimes(1);
      // the trace's prompts too (lib/interp/tokens.ts promptIds, with the engine as its host)
      expect(() => promptIds(engine, "y".repeat(10_000_000))).toThrow(
        /^the prompt has 10000000 characters, more than the 2048 that can fit/,
      );
      expect(encode).toHaveBeenCalledTimes(1);
    } finally {
      encode.mockRestore();
    }
  });
});

describe("predict", () => {
  it("returns the reference's next-token distribution, summing to 1", async () => {
    const c = golden.case("engine_prompt");
    const want = golden.get("engine_prompt", "probs_last").data; // [1, V]
    const before = tf.memory().numTensors;
    const p = await engine.predict(c.text!, 500);
    expect(tf.memory().numTensors).toBe(before);
    expect(p.inputIds).toEqual(c.ids[0]);
    expect(p.inputTokens.join("")).toBe(c.text);
    expect(p.top).toHaveLength(500);
    const sum = p.top.reduce((a, t) => a + t.prob, 0);
    expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
    let worst = 0;
    for (const [i, t] of p.top.entries()) {
      if (i > 0) expect(t.prob).toBeLessThanOrEqual(p.top[i - 1].prob);
      worst = Math.max(worst, Math.abs(t.prob - want[t.id]));
    }
    console.log(`engine predict vs reference softmax: max |Δp| = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);
    expect(new Set(p.top.map((t) => t.id)).size).toBe(500);
  });

  it("topK picks the most likely tokens, with their text", async () => {
    const c = golden.case("engine_prompt");
    const want = Array.from(golden.get("engine_prompt", "probs_last").data);
    const order = want.map((_, id) => id).sort((a, b) => want[b] - want[a]);
    const p = await engine.predict(c.text!, 5);
    expect(p.top.map((t) => t.id)).toEqual(order.slice(0, 5));
    for (const t of p.top) {
      // this model's vocabulary (500) is padded past its tokenizer's (260)
      expect(t.token).toBe(t.id < 260 ? engine.tokenizer.tokenText(t.id) : `<id ${t.id}>`);
    }
    expect(engine.tokenText(72)).toBe("H");
    expect(engine.tokenText(499)).toBe("<id 499>");
  });

  it("fits a prompt of exactly the context length", async () => {
    const before = tf.memory().numTensors;
    const p = await engine.predict("x".repeat(32), 3);
    expect(p.inputIds).toHaveLength(32);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("refuses bad requests with one-line EngineErrors and no leaked tensors", async () => {
    const before = tf.memory().numTensors;
    const cases: [string, number, string, RegExp][] = [
      ["", 5, "empty_prompt", /^The prompt is empty/],
      [
        "y".repeat(33),
        5,
        "prompt_too_long",
        /^The prompt has 33 tokens, longer than the model's context of 32 tokens\.$/,
      ],
      // 32 positions × 64 characters: refused before tokenizing (10M characters took 40 s).
      [
        "y".repeat(2049),
        5,
        "prompt_too_long",
        /^The prompt has 2,049 characters, more than the 2,048 that can fit the model's context of 32 tokens\.$/,
      ],
      ["hi", 0, "bad_argument", /^topK must be an integer from 1 to 500, got 0$/],
      ["hi", 501, "bad_argument", /got 501/],
      ["hi", 2.5, "bad_argument", /got 2\.5/],
      ["hi", Number.NaN, "bad_argument", /got NaN/],
    ];
    for (const [prompt, k, code, msg] of cases) {
      const err = await engine.predict(prompt, k).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EngineError);
      expect((err as EngineError).code).toBe(code);
      expect((err as EngineError).message).toMatch(msg);
      expect((err as EngineError).message).not.toContain("\n");
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
