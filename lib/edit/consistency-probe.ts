/**
 * Locating consistency heads (arXiv 2501.11041 §3, as Causeway builds it; docs/recipes.md):
 *
 * 1. Pairs: every unordered pair (i, j) of a fact's phrasings, labelled 1 when the model's two
 *    answers agree (./consistency-metric.ts), never by hand.
 * 2. Balance: within each stratum (relation, i, j) — one pair of templates — as many consistent
 *    as inconsistent pairs are kept (a seeded choice), the rest dropped, separately in the
 *    probe's train and validation facts. Template identity then predicts the label no better
 *    than chance, so a probe cannot score by finding the prompt format (what the old
 *    question-vs-statement preset measured).
 * 3. Probe: per head, a logistic probe (./probe.ts) on the pair's feature, the concatenation
 *    [z_h(p_i) ; z_h(p_j)] of the head's output (hook_z, last prompt token) on both paraphrases,
 *    trained on the pairs of 80 % of the facts and scored on the pairs of the other 20 % (facts
 *    split, so no fact is in both). Heads are ranked by that held-out accuracy.
 * 4. Direction: per head, the mass-mean shift between the head's outputs on the members of
 *    consistent pairs and on the members of inconsistent pairs, b = mean(cons) − mean(incons)
 *    (with balanced labels, twice the paper's mean(consistent) − mean(all)); θ = b/‖b‖ and σ as
 *    ITI (./heads.ts massMeanDirection).
 *
 * Pure over activations, so the numpy reference (scripts/reference/consistency_ref.py) checks it.
 */
import type { LabelledPair } from "./consistency-metric";
import { massMeanDirection } from "./heads";
import { accuracy, fitLogistic, probe, rankHeads, shuffled, splitIndices } from "./probe";
import type { Direction, HeadRef } from "./types";

/** A labelled pair with its stratum: the relation and the two template indices. */
export interface StratifiedPair extends LabelledPair {
  stratum: string;
}

/**
 * Keeps min(#consistent, #inconsistent) pairs of each label in every stratum and group (strata
 * in order of first appearance; within one, a seeded shuffle picks which). Result in input
 * order. Balancing the probe's train and validation facts apart (group = the split) keeps the
 * template pair useless in each: balancing them together would leave a stratum's surplus in
 * one split and its deficit in the other, an anti-correlation a probe could learn.
 */
export function balancePairs(
  pairs: readonly StratifiedPair[],
  seed: number,
  group: (p: StratifiedPair) => string = () => "",
): StratifiedPair[] {
  const strata = new Map<string, { cons: number[]; incons: number[] }>();
  pairs.forEach((p, k) => {
    const key = `${group(p)}\u0000${p.stratum}`;
    const s = strata.get(key) ?? { cons: [], incons: [] };
    (p.consistent ? s.cons : s.incons).push(k);
    strata.set(key, s);
  });
  const keep: number[] = [];
  let n = 0;
  for (const { cons, incons } of strata.values()) {
    const m = Math.min(cons.length, incons.length);
    for (const list of [cons, incons]) {
      const order = shuffled(list.length, seed + n++);
      keep.push(...order.slice(0, m).map((i) => list[i]));
    }
  }
  return keep.sort((a, b) => a - b).map((k) => pairs[k]);
}

export interface ProbeInput {
  /** Last-token hook_z per layer and prompt row: acts[l][row] is [H·E]. */
  acts: readonly (readonly Float32Array[])[];
  /** The activation row of prompt i of fact f. */
  row: (fact: number, i: number) => number;
  /** Balanced pairs (balancePairs). */
  pairs: readonly StratifiedPair[];
  nFacts: number;
  nHead: number;
  headDim: number;
  seed: number;
  /** Share of facts whose pairs score the probe (ITI's 0.2). */
  valRatio: number;
}

export interface ConsistencyProbe {
  /** Held-out-fact accuracy of each head's probe [L][H]. */
  accuracy: number[][];
  train_accuracy: number[][];
  /** Heads by decreasing held-out accuracy (ties: train accuracy, lower layer, lower head). */
  ranking: (HeadRef & { accuracy: number })[];
  /** The consistency direction of every head [L][H]. */
  directions: Direction[][];
  /** A probe on the template pair alone (one-hot stratum): ≈ 0.5 when balancing worked. */
  format_accuracy: number;
  n_train: number;
  n_val: number;
}

const slice = (a: Float32Array, h: number, E: number) => a.subarray(h * E, (h + 1) * E);

/** The facts whose pairs score the probes (a seeded share of the train relations' facts). */
export function valFacts(nFacts: number, valRatio: number, seed: number): Set<number> {
  return new Set(splitIndices(nFacts, valRatio, seed).val);
}

/** Pair indices of the probe's train and validation splits (the facts are split). */
export function pairSplit(
  pairs: readonly StratifiedPair[],
  nFacts: number,
  valRatio: number,
  seed: number,
): { train: number[]; val: number[] } {
  const val_ = valFacts(nFacts, valRatio, seed);
  const train: number[] = [];
  const val: number[] = [];
  pairs.forEach((p, k) => {
    (val_.has(p.fact) ? val : train).push(k);
  });
  return { train, val };
}

export function probeConsistency(o: ProbeInput): ConsistencyProbe {
  const { acts, pairs, nHead, headDim: E } = o;
  const y = pairs.map((p) => (p.consistent ? 1 : 0));
  const split = pairSplit(pairs, o.nFacts, o.valRatio, o.seed);
  const acc: number[][] = [];
  const trainAcc: number[][] = [];
  const directions: Direction[][] = [];
  for (let l = 0; l < acts.length; l++) {
    acc.push([]);
    trainAcc.push([]);
    directions.push([]);
    for (let h = 0; h < nHead; h++) {
      const z = (f: number, i: number) => slice(acts[l][o.row(f, i)] as Float32Array, h, E);
      // [2E] per pair: the head's output on both paraphrases
      const X = pairs.map((p) => {
        const x = new Float64Array(2 * E);
        x.set(z(p.fact, p.i), 0);
        x.set(z(p.fact, p.j), E);
        return x;
      });
      const s = probe(X, y, split);
      acc[l].push(s.val_accuracy);
      trainAcc[l].push(s.train_accuracy);
      const members = (c: boolean) =>
        pairs.filter((p) => p.consistent === c).flatMap((p) => [z(p.fact, p.i), z(p.fact, p.j)]);
      directions[l].push(massMeanDirection(members(true), members(false)));
    }
  }
  return {
    accuracy: acc,
    train_accuracy: trainAcc,
    ranking: rankHeads(acc, trainAcc),
    directions,
    format_accuracy: formatAccuracy(pairs, y, split),
    n_train: split.train.length,
    n_val: split.val.length,
  };
}

/** The held-out accuracy of a probe that sees only which stratum (template pair) a pair is in. */
function formatAccuracy(
  pairs: readonly StratifiedPair[],
  y: readonly number[],
  split: { train: number[]; val: number[] },
): number {
  const strata = [...new Set(pairs.map((p) => p.stratum))];
  const X = pairs.map((p) => {
    const x = new Float64Array(strata.length);
    x[strata.indexOf(p.stratum)] = 1;
    return x;
  });
  const pick = (ix: number[]) => ix.map((i) => X[i]);
  const fit = fitLogistic(
    pick(split.train),
    split.train.map((i) => y[i]),
  );
  return accuracy(
    fit,
    pick(split.val),
    split.val.map((i) => y[i]),
  );
}
