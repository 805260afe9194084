/**
 * Semantic consistency from the model's own answers (arXiv 2501.11041's measure, on facts):
 *
 *   consistency   the share of paraphrase pairs (every unordered pair of a fact's phrasings)
 *                 whose top-1 answers are the same token, pooled over pairs
 *   accuracy      the share of prompts whose top-1 answer is the fact's true object
 *
 * A pair is labelled consistent (1) or inconsistent (0) by the same rule; these are the probe's
 * labels (./consistency-probe.ts). Pure functions of answer ids: the model is read elsewhere.
 */

/** One fact's answers: the true object's token and the top-1 token after each phrasing. */
export interface FactAnswers {
  relation_id: string;
  answer_id: number;
  /** Top-1 token id per prompt, in the fact's prompt order. */
  top1: number[];
}

export interface ConsistencyScore {
  consistency: number;
  accuracy: number;
  pairs: number;
  prompts: number;
}

/** A paraphrase pair of one fact: prompt indices i < j, and whether their answers agree. */
export interface LabelledPair {
  fact: number;
  i: number;
  j: number;
  consistent: boolean;
}

/** Every unordered pair (i, j), i < j, of n prompts. */
export function pairIndices(n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out.push([i, j]);
  return out;
}

/** Every paraphrase pair of every fact, labelled by whether the model's answers agree. */
export function labelPairs(facts: readonly FactAnswers[]): LabelledPair[] {
  return facts.flatMap((f, fact) =>
    pairIndices(f.top1.length).map(([i, j]) => ({
      fact,
      i,
      j,
      consistent: f.top1[i] === f.top1[j],
    })),
  );
}

export function consistencyScore(facts: readonly FactAnswers[]): ConsistencyScore {
  const pairs = labelPairs(facts);
  let prompts = 0;
  let correct = 0;
  for (const f of facts) {
    prompts += f.top1.length;
    for (const t of f.top1) if (t === f.answer_id) correct++;
  }
  const agree = pairs.filter((p) => p.consistent).length;
  return {
    consistency: pairs.length ? agree / pairs.length : Number.NaN,
    accuracy: prompts ? correct / prompts : Number.NaN,
    pairs: pairs.length,
    prompts,
  };
}

/** The score overall and per relation. */
export function consistencyByRelation(
  facts: readonly FactAnswers[],
): ConsistencyScore & { by_relation: Record<string, ConsistencyScore> } {
  const by: Record<string, ConsistencyScore> = {};
  for (const r of new Set(facts.map((f) => f.relation_id))) {
    by[r] = consistencyScore(facts.filter((f) => f.relation_id === r));
  }
  return { ...consistencyScore(facts), by_relation: by };
}
