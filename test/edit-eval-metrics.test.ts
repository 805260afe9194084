/**
 * The editing metrics' maths against scripts/reference/edit_metrics_ref.py (nltk's word
 * tokenizer, ROME's n-gram entropy and summarize.py in numpy, scipy's hmean):
 * test/fixtures/eval/metrics.json.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type CaseResult, summarise } from "../lib/edit/eval-cases";
import { ngramEntropyOf, textNgramEntropy, wordTokenize } from "../lib/edit/eval-fluency";
import { harmonicMean, scoresFromLogProbs } from "../lib/edit/metrics";

interface Nll {
  target_new: number;
  target_true: number;
}
const G = JSON.parse(readFileSync("test/fixtures/eval/metrics.json", "utf8")) as {
  texts: { text: string; words: string[]; ngram_entropy: number }[];
  n_gram_entropy_all: number;
  harmonic_means: { xs: number[]; hmean: number }[];
  counterfact: {
    cases: { case_id: number; rewrite: Nll[]; paraphrase: Nll[]; neighborhood: Nll[] }[];
    summary: Record<string, number>;
  };
  zsre: {
    cases: { rewrite: number[]; paraphrase: number[]; neighborhood: number[] }[];
    summary: Record<string, number>;
  };
};

describe("fluency: ROME's weighted bi/tri-gram entropy", () => {
  it.each(
    G.texts.map((t) => [t.text.slice(0, 40), t] as const),
  )("words and entropy of %j as nltk and numpy compute them", (_, t) => {
    expect(wordTokenize(t.text)).toEqual(t.words);
    expect(textNgramEntropy(t.text)).toBeCloseTo(t.ngram_entropy, 10);
  });

  it("the mean over texts, and a repeated text is less fluent than a varied one", () => {
    const texts = G.texts.map((t) => t.text).filter((t) => t !== "");
    expect(ngramEntropyOf(texts)).toBeCloseTo(G.n_gram_entropy_all, 10);
    expect(textNgramEntropy("the the the the the the")).toBe(0);
    expect(Number.isNaN(ngramEntropyOf([]))).toBe(true);
  });
});

describe("harmonic mean", () => {
  it.each(G.harmonic_means.map((h) => [h.xs.join(","), h] as const))("of %s", (_, h) => {
    expect(harmonicMean(h.xs)).toBeCloseTo(h.hmean, 12);
  });
  it("is 0 when a score is 0 (as scipy's hmean)", () => {
    expect(harmonicMean([0.5, 0, 1])).toBe(0);
  });
});

describe("CounterFact rates and magnitudes as ROME's summarize.py", () => {
  const results: CaseResult[] = G.counterfact.cases.map((c) => {
    const lp = [...c.rewrite, ...c.paraphrase, ...c.neighborhood].map(
      (x) => [-x.target_new, -x.target_true] as const,
    );
    const s = scoresFromLogProbs(lp, c.paraphrase.length, c.case_id);
    return { ...s, case_id: c.case_id };
  });
  const s = summarise(results);
  const g = G.counterfact.summary;
  it("efficacy, paraphrase, neighbourhood and their harmonic mean", () => {
    expect(s.efficacy).toBeCloseTo(g.rewrite_success, 12);
    expect(s.paraphrase).toBeCloseTo(g.paraphrase_success, 12);
    expect(s.neighborhood).toBeCloseTo(g.neighborhood_success, 12);
    expect(s.score).toBeCloseTo(g.score, 12);
    expect(s.n_cases).toBe(G.counterfact.cases.length);
  });
  it("the magnitudes (mean probability differences)", () => {
    expect(s.efficacy_diff).toBeCloseTo(g.rewrite_diff, 10);
    expect(s.paraphrase_diff).toBeCloseTo(g.paraphrase_diff, 10);
    expect(s.neighborhood_diff).toBeCloseTo(g.neighborhood_diff, 10);
  });
  it("cases without paraphrases or neighbours are left out of those means", () => {
    expect(G.counterfact.cases.some((c) => c.paraphrase.length === 0)).toBe(true);
    expect(G.counterfact.cases.some((c) => c.neighborhood.length === 0)).toBe(true);
  });
});

describe("zsRE token accuracy as ROME's summarize.py", () => {
  it("per-case means of the per-token hits, then the mean over cases", () => {
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const s = summarise(
      G.zsre.cases.map((c, i) => ({
        case_id: i,
        efficacy: mean(c.rewrite),
        paraphrase: mean(c.paraphrase),
        neighborhood: mean(c.neighborhood),
      })),
    );
    expect(s.efficacy).toBeCloseTo(G.zsre.summary.rewrite, 12);
    expect(s.paraphrase).toBeCloseTo(G.zsre.summary.paraphrase, 12);
    expect(s.neighborhood).toBeCloseTo(G.zsre.summary.neighborhood, 12);
    expect(s.score).toBeCloseTo(G.zsre.summary.score, 12);
  });
});
