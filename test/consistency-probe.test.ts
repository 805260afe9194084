/**
 * The semantic-consistency recipe's pure parts against independent numbers:
 * - the metric on a constructed case whose answer is worked out by hand;
 * - labels, seeded split, per-stratum balancing, per-head probes, directions and the
 *   format-only probe against scripts/reference/consistency_ref.py (numpy + scipy's L-BFGS,
 *   test/fixtures/consistency/probe.json), on a fixture whose head L1H1 carries a planted
 *   consistency signal;
 * - the dataset reader's errors on bad input and the relation split.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { consistencyData, splitRelations } from "../lib/edit/consistency-data";
import {
  consistencyByRelation,
  consistencyScore,
  type FactAnswers,
  labelPairs,
} from "../lib/edit/consistency-metric";
import { balancePairs, probeConsistency, valFacts } from "../lib/edit/consistency-probe";
import { chooseKAlpha } from "../lib/edit/consistency-run";

describe("consistency metric", () => {
  it("scores a constructed case: pairs agreeing and prompts right, pooled over facts", () => {
    const facts: FactAnswers[] = [
      // pairs (0,1) agree, (0,2) and (1,2) do not; 2 of 3 answers are the truth (5)
      { relation_id: "A", answer_id: 5, top1: [5, 5, 7] },
      // one pair, agreeing on a wrong answer
      { relation_id: "B", answer_id: 4, top1: [3, 3] },
    ];
    const s = consistencyByRelation(facts);
    expect(s.pairs).toBe(4);
    expect(s.prompts).toBe(5);
    expect(s.consistency).toBe(2 / 4);
    expect(s.accuracy).toBe(2 / 5);
    expect(s.by_relation.A).toEqual({ consistency: 1 / 3, accuracy: 2 / 3, pairs: 3, prompts: 3 });
    expect(s.by_relation.B).toEqual({ consistency: 1, accuracy: 0, pairs: 1, prompts: 2 });
    expect(labelPairs(facts).map((p) => p.consistent)).toEqual([true, false, false, true]);
    expect(consistencyScore([]).consistency).toBeNaN();
  });
});

interface Fixture {
  dims: { L: number; H: number; E: number; prompts: number };
  seed: number;
  val_ratio: number;
  relations: string[];
  answer_id: number[];
  top1: number[][];
  acts: number[][][];
  expected: {
    consistency: number;
    accuracy: number;
    pairs: number;
    balanced: [number, number, number][];
    val_facts: number[];
    probe_accuracy: number[][];
    train_accuracy: number[][];
    directions: { direction: number[]; norm: number; sigma: number }[][];
    format_accuracy: number;
  };
}

const fx: Fixture = JSON.parse(
  readFileSync(path.join(__dirname, "fixtures/consistency/probe.json"), "utf8"),
);

describe("consistency probe against numpy (consistency_ref.py)", () => {
  const facts: FactAnswers[] = fx.top1.map((top1, f) => ({
    relation_id: fx.relations[f],
    answer_id: fx.answer_id[f],
    top1,
  }));
  const labelled = labelPairs(facts).map((p) => ({
    ...p,
    stratum: `${fx.relations[p.fact]}:${p.i}-${p.j}`,
  }));
  const val = valFacts(facts.length, fx.val_ratio, fx.seed);
  const pairs = balancePairs(labelled, fx.seed, (p) => (val.has(p.fact) ? "val" : "train"));
  const { L, H, E, prompts } = fx.dims;
  const result = probeConsistency({
    acts: fx.acts.map((rows) => rows.map((r) => Float32Array.from(r))),
    row: (f, i) => f * prompts + i,
    pairs,
    nFacts: facts.length,
    nHead: H,
    headDim: E,
    seed: fx.seed,
    valRatio: fx.val_ratio,
  });

  it("labels, metric, split and balanced pairs are the reference's", () => {
    const s = consistencyScore(facts);
    expect(s.pairs).toBe(fx.expected.pairs);
    expect(s.consistency).toBeCloseTo(fx.expected.consistency, 12);
    expect(s.accuracy).toBeCloseTo(fx.expected.accuracy, 12);
    expect([...val].sort((a, b) => a - b)).toEqual(fx.expected.val_facts);
    expect(pairs.map((p) => [p.fact, p.i, p.j])).toEqual(fx.expected.balanced);
  });

  it("per-head probe accuracy, directions and the format probe match; the planted head ranks first", () => {
    expect(result.accuracy).toEqual(fx.expected.probe_accuracy);
    expect(result.train_accuracy).toEqual(fx.expected.train_accuracy);
    for (let l = 0; l < L; l++) {
      for (let h = 0; h < H; h++) {
        const got = result.directions[l][h];
        const want = fx.expected.directions[l][h];
        for (let i = 0; i < E; i++) {
          expect(Math.abs(got.direction[i] - want.direction[i])).toBeLessThan(1e-6);
        }
        expect(Math.abs(got.norm - want.norm)).toBeLessThan(1e-6);
        expect(Math.abs(got.sigma - want.sigma)).toBeLessThan(1e-6);
      }
    }
    expect(result.format_accuracy).toBe(fx.expected.format_accuracy);
    expect(result.format_accuracy).toBe(0.5);
    expect(result.ranking[0]).toMatchObject({ layer: 1, head: 1 });
  });

  it("balancing leaves equal labels in every stratum of each split", () => {
    const count = new Map<string, number>();
    for (const p of pairs) {
      const key = `${val.has(p.fact)}:${p.stratum}`;
      count.set(key, (count.get(key) ?? 0) + (p.consistent ? 1 : -1));
    }
    expect([...count.values()].every((c) => c === 0)).toBe(true);
  });
});

describe("consistency data", () => {
  const relation = (id: string) => ({
    relation_id: id,
    templates_train: ["{} is in", "Q: where is {}? A:"],
    templates_heldout: ["{} sits in"],
  });
  it("builds each fact's paraphrases once per subject and relation, untouched by $ patterns", () => {
    const d = consistencyData({
      relations: [relation("P1"), relation("P2")],
      known_facts: [
        { subject: "A$&b", attribute: " X", relation_id: "P1" },
        { subject: "A$&b", attribute: " X", relation_id: "P1" },
        { subject: "C", attribute: " Y", relation_id: "P2" },
      ],
    });
    expect(d.facts).toHaveLength(2);
    expect(d.facts[0].prompts).toEqual(["A$&b is in", "Q: where is A$&b? A:", "A$&b sits in"]);
    expect(splitRelations(d.relations)).toEqual({ train: ["P1"], heldout: ["P2"] });
  });
  it("refuses bad input with specific messages", () => {
    expect(() => consistencyData([])).toThrow(/no "relations" and "known_facts"/);
    expect(() =>
      consistencyData({
        relations: [{ relation_id: "P1", templates_train: ["no slot"] }],
        known_facts: [],
      }),
    ).toThrow(/relations\[0\] needs/);
    expect(() =>
      consistencyData({
        relations: [relation("P1")],
        known_facts: [{ subject: "A", attribute: " X", relation_id: "P9" }],
      }),
    ).toThrow(/unknown relation P9/);
    expect(() =>
      consistencyData({
        relations: [relation("P1")],
        known_facts: [{ subject: "A", attribute: " X", relation_id: "P1" }],
      }),
    ).toThrow(/at least two relations/);
    expect(() => splitRelations(["P1", "P2"], ["P7"])).toThrow(/P7 has no facts/);
    expect(() => splitRelations(["P1", "P2"], ["P1", "P2"])).toThrow(/both be non-empty/);
  });
});

describe("choosing K and α on the train relations", () => {
  it("takes the best consistency that keeps accuracy within 0.02; ties to the smaller K, α", () => {
    const sweep = [
      { k: 1, alpha: 1, consistency: 0.8, accuracy: 0.9 },
      { k: 1, alpha: 2, consistency: 0.95, accuracy: 0.85 }, // loses 0.05 accuracy: out
      { k: 2, alpha: 1, consistency: 0.82, accuracy: 0.89 },
      { k: 4, alpha: 1, consistency: 0.82, accuracy: 0.9 },
    ];
    expect(chooseKAlpha(sweep, 0.9)).toMatchObject({ k: 2, alpha: 1 });
    // when every point loses accuracy, the best consistency anyway
    expect(chooseKAlpha(sweep, 1)).toMatchObject({ k: 1, alpha: 2 });
  });
});
