/**
 * Batched generation and fluency (lib/edit/generate.ts generateBatch, lib/edit/eval-fluency.ts,
 * lib/edit/eval-cases.ts scoreCases) give exactly what one prompt at a time gives: the same
 * tokens for every row of a batch as generate() on that prompt alone with the row's seed (on a
 * plain model with its K/V cache, on a weight-edited one, on one with an intervention edit that
 * recomputes every step, and with rows stopping at the end of text on their own), the same
 * fluency per case when several cases' prompts are generated together, the same probability
 * scores, and no tensor left behind. A small random GPT-2 (test/fixtures/edit/random-model.ts).
 */
import "../lib/model/backends-node";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits, type ModelLike } from "../lib/edit/apply";
import type { CounterFactCase } from "../lib/edit/dataset";
import { counterfactCase, scoreCases } from "../lib/edit/eval-cases";
import { fluencyOfLists, generationTexts, ngramEntropyOf } from "../lib/edit/eval-fluency";
import { generate, generateBatch } from "../lib/edit/generate";
import {
  caseScores,
  casesScores,
  continuationScores,
  continuationScoresOfLists,
  rewriteCase,
} from "../lib/edit/metrics";
import type { Edit } from "../lib/edit/types";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { randomWeights, SMALL, charTokenizer as tok } from "./fixtures/edit/random-model";

const D = SMALL.dModel;
const vec = (n: number, seed: number, scale = 1) =>
  Array.from({ length: n }, (_, i) => scale * Math.sin(seed * 7.3 + i * 1.7));
const unit = (n: number, seed: number) => {
  const v = vec(n, seed);
  const s = Math.hypot(...v);
  return { direction: v.map((x) => x / s), norm: 2.5, sigma: 0.7 };
};
const rome: Edit = {
  kind: "rome",
  site: { layer: 1 },
  params: { prompt: "{} is", subject: "x", target_new: "y" },
  learned: { u: vec(SMALL.dMlp, 1, 0.1), v: vec(D, 2, 0.3) },
};
/** An intervention at each pass's last position: no K/V cache, every step runs the sequence. */
const steerLast: Edit = {
  kind: "resid_steer",
  site: { layer: 0, position: "last" },
  params: { alpha: 3, vector: vec(D, 9) },
  learned: unit(D, 9),
};

/** Three lengths, rows of one length not next to each other. */
const PROMPTS = ["the cat", "a dog ran", "so far", "by sea", "the fox", "big sky", "a cow ran"];

let model: Gpt2Model;

/** What generation was before batching: each prompt alone, seed + its index. */
async function oneByOne(m: ModelLike, prompts: readonly string[], seed = 0, eosId?: number) {
  const out = [];
  for (const [i, p] of prompts.entries()) {
    out.push(
      await generate(m, tok, p, { maxNew: 40, sample: true, topK: 5, seed: seed + i, eosId }),
    );
  }
  return out;
}

describe("batched generation and fluency equal one prompt at a time", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    model = Gpt2Model.fromWeights(SMALL, randomWeights());
  });
  afterAll(() => model?.dispose());

  it.each([
    ["a plain model (K/V cache)", [] as Edit[]],
    ["a weight edit (K/V cache)", [rome]],
    ["an intervention at the last position (no cache)", [rome, steerLast]],
  ])("%s: every row's tokens are generate()'s on that prompt alone", async (_, edits) => {
    const m: ModelLike = edits.length ? applyEdits(model, edits) : model;
    const before = tf.memory().numTensors;
    const alone = await oneByOne(m, PROMPTS, 3);
    const rows = PROMPTS.map((p) => tok.encode(p));
    for (const len of new Set(rows.map((r) => r.length))) {
      const at = rows.flatMap((r, i) => (r.length === len ? [i] : []));
      expect(at.length).toBeGreaterThan(1);
      const batched = await generateBatch(
        m,
        tok,
        at.map((i) => rows[i]),
        { maxNew: 40, sample: true, topK: 5, seeds: at.map((i) => 3 + i) },
      );
      batched.forEach((g, j) => {
        expect(g).toEqual(alone[at[j]]);
        // the context (32) ends it before 40 new tokens
        expect(g.stop).toBe("context");
        expect(g.ids).toHaveLength(SMALL.nCtx - len);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    if (m !== model) (m as ReturnType<typeof applyEdits>).dispose();
  });

  it("rows that reach the end of text stop on their own; the others go on", async () => {
    // the id that the first sampled continuation of "the cat" produces third: an end of text
    // that some rows meet early and others not at all
    const first = await generate(model, tok, "the cat", { maxNew: 3, sample: true, topK: 5 });
    const eosId = first.ids[2];
    const same = ["the cat", "the fox", "the dog", "a b c d"];
    const alone = await oneByOne(model, same, 0, eosId);
    const batched = await generateBatch(
      model,
      tok,
      same.map((p) => tok.encode(p)),
      { maxNew: 40, sample: true, topK: 5, eosId, seeds: [0, 1, 2, 3] },
    );
    expect(batched).toEqual(alone);
    expect(batched[0].stop).toBe("eos");
    expect(batched[0].ids.length).toBeLessThanOrEqual(2);
    expect(new Set(batched.map((g) => g.ids.length)).size).toBeGreaterThan(1);
  });

  it("bad batches are refused with what is wrong", async () => {
    const opts = { maxNew: 2, seeds: [0, 1] };
    await expect(
      generateBatch(model, tok, [tok.encode("ab"), tok.encode("abc")], opts),
    ).rejects.toThrow(/one token length/);
    await expect(generateBatch(model, tok, [tok.encode("ab")], opts)).rejects.toThrow(
      /one seed per prompt: 2 for 1/,
    );
    await expect(generate(model, tok, "ab", { seed: 0.5 })).rejects.toThrow(
      /seed must be an integer/,
    );
  });

  it("cases' fluency and scores together equal case by case, with no tensor left", async () => {
    const lists = [PROMPTS.slice(0, 3), PROMPTS.slice(3, 5), [], PROMPTS.slice(5)];
    const m = applyEdits(model, [rome, steerLast]);
    const before = tf.memory().numTensors;
    const fl = { maxLength: 24, topK: 5, seed: 2 };
    // the reference: generate() per prompt, seed + its index in its own list, ROME's text
    const expected: number[] = [];
    for (const ps of lists) {
      const texts = (await oneByOneTexts(m, ps, fl)).map((t) => t.normalize("NFKD"));
      expect(await generationTexts(m, tok, ps, fl)).toEqual(texts);
      expected.push(ngramEntropyOf(texts));
    }
    const got = await fluencyOfLists(m, tok, lists, fl);
    expect(got).toEqual(expected);
    expect(Number.isNaN(got[2])).toBe(true);
    expect(got.filter((h) => h > 0).length).toBeGreaterThan(1);

    const cases = lists.map((ps, i) => counterfactCase(cfCase(i, ps)));
    const together = await scoreCases(m, tok, cases, fl);
    const alone = [];
    for (const c of cases) alone.push(...(await scoreCases(m, tok, [c], fl))); // one case per call
    expect(together).toEqual(alone);
    expect(together.map((r) => r.fluency)).toEqual([got[0], got[1], undefined, got[3]]);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it("many cases' probabilities at once: each row's as alone, the scores as case by case", async () => {
    const m = applyEdits(model, [rome, steerLast]);
    const before = tf.memory().numTensors;
    const cases = ["bob", "al", "cyd", "dee"].map((who, i) => ({
      ...rewriteCase(cfCase(i, [])),
      prompt: `${who} is in`,
      target_new: ["fog", "x", "rain", "sun"][i],
    }));
    const lists = cases.map((c) => ({
      prompts: [c.prompt, ...c.paraphrase_prompts, ...c.neighborhood_prompts],
      targets: [c.target_new, c.target_true],
    }));
    const together = await continuationScoresOfLists(m, tok, lists);
    // one row (prompt, target) at a time: no batch, no padding
    for (const [k, l] of lists.entries()) {
      for (const [i, p] of l.prompts.entries()) {
        for (const [j, t] of l.targets.entries()) {
          expect(together[k][i][j]).toBe((await continuationScores(m, tok, [p], [t]))[0][0]);
        }
      }
    }
    // the case-by-case path pads each case's rows: the same rates, magnitudes within float error
    const many = await casesScores(m, tok, cases);
    for (const [k, c] of cases.entries()) {
      const alone = await caseScores(m, tok, c);
      expect(many[k].efficacy).toBe(alone.efficacy);
      expect(many[k].paraphrase).toBe(alone.paraphrase);
      expect(many[k].neighborhood).toBe(alone.neighborhood);
      expect(many[k].efficacy_diff).toBeCloseTo(alone.efficacy_diff, 6);
      expect(many[k].neighborhood_diff).toBeCloseTo(alone.neighborhood_diff!, 6);
    }
    expect(new Set(many.map((s) => s.efficacy_diff)).size).toBe(4);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});

async function oneByOneTexts(
  m: ModelLike,
  prompts: readonly string[],
  o: { maxLength: number; topK: number; seed: number },
) {
  const out: string[] = [];
  for (const [i, p] of prompts.entries()) {
    const ids = tok.encode(p);
    const g = await generate(m, tok, ids, {
      maxNew: o.maxLength - ids.length,
      sample: true,
      topK: o.topK,
      seed: o.seed + i,
    });
    out.push(tok.decode([...ids, ...g.ids]));
  }
  return out;
}

function cfCase(id: number, generation: string[]): CounterFactCase {
  return {
    case_id: id,
    requested_rewrite: {
      prompt: "{} is in",
      subject: "bob",
      target_new: { str: "fog" },
      target_true: { str: "sun" },
    },
    paraphrase_prompts: ["so bob is in", "bob, is in"],
    neighborhood_prompts: ["ann is in", "tim is in"],
    generation_prompts: generation,
  };
}
