/**
 * How well an edit did, with the literature's measures (docs/methods.md §5):
 *
 * CounterFact (ROME's compute_rewrite_quality_counterfact), per case, then averaged over cases:
 *   efficacy        the rewrite prompt gives P(new) > P(true)
 *   paraphrase      the share of held-out phrasings with P(new) > P(true)
 *   neighbourhood   the share of other subjects' prompts (same relation and true object) that
 *                   keep P(true) > P(new)
 *   score           the harmonic mean of the three
 *   *_diff          the mean probability differences (ROME's EM / PM / NM magnitudes)
 * P(o) is length-normalised: exp of the mean log-probability of o's tokens (teacher forced),
 * with o written as " " + target string.
 *
 * General text: the mean next-token NLL over the model's held-out general text (each text cut to
 * the context), and its ratio edited / original (canonical examples' deviation measure).
 */

import * as tf from "@tensorflow/tfjs";
import type { TextTokenizer } from "../util/tokenizer";
import { baseOf, type ModelLike, viewOf } from "./apply";
import { chunks, indicesByLength, paddedLengthGroups, padRows } from "./batch";
import type { CounterFactCase } from "./dataset";
import { continuationIds } from "./tokens";

/**
 * log P of token `targets[r][j]` after `rows[r]`'s prefix ending at position `positions[r][j]`,
 * for right-padded batches of rows. Returns per row the list of log-probabilities.
 */
export async function tokenLogProbs(
  model: ModelLike,
  rows: readonly number[][],
  positions: readonly (readonly number[])[],
  targets: readonly (readonly number[])[],
): Promise<number[][]> {
  return atPositions({ model, rows, positions, targets, read: "logprob" });
}

/**
 * Whether token `targets[r][j]` is the argmax (top-1) after `rows[r]`'s prefix ending at
 * `positions[r][j]` (zsRE's token accuracy): 1 or 0 per target token.
 */
export async function tokenTop1(
  model: ModelLike,
  rows: readonly number[][],
  positions: readonly (readonly number[])[],
  targets: readonly (readonly number[])[],
): Promise<number[][]> {
  return atPositions({ model, rows, positions, targets, read: "top1" });
}

/** The argmax (top-1) token id after `rows[r]`'s prefix ending at each of `positions[r]`. */
export async function tokenArgmax(
  model: ModelLike,
  rows: readonly number[][],
  positions: readonly (readonly number[])[],
): Promise<number[][]> {
  return atPositions({ model, rows, positions, targets: positions, read: "argmax" });
}

async function atPositions(o: {
  model: ModelLike;
  rows: readonly number[][];
  positions: readonly (readonly number[])[];
  targets: readonly (readonly number[])[];
  read: "logprob" | "top1" | "argmax";
}): Promise<number[][]> {
  const { model, rows, positions, targets } = o;
  const V = baseOf(model).config.vocabSize;
  const T = Math.max(...rows.map((r) => r.length));
  const out: number[][] = [];
  for (const [s, e] of chunks(rows.length, T, V, 1 << 23)) {
    const part = padRows(rows.slice(s, e));
    const m = viewOf(model, part.lengths);
    const idx: number[] = [];
    for (let b = 0; b < e - s; b++) {
      positions[s + b].forEach((t, j) => {
        const at = b * part.T + t;
        idx.push(o.read === "logprob" ? at * V + targets[s + b][j] : at);
      });
    }
    const picked = tf.tidy(() => {
      const { logits } = m.forward({ inputIds: part.ids, logitPositions: "all" }); // [B, T, V]
      const at = tf.tensor1d(idx, "int32");
      return o.read !== "logprob"
        ? logits
            .argMax(-1)
            .reshape([-1])
            .gather(at) // [n] argmax ids
        : tf.logSoftmax(logits).reshape([-1]).gather(at); // [n] log-probabilities
    });
    const data = await picked.data();
    picked.dispose();
    let k = 0;
    for (let b = 0; b < e - s; b++) {
      const tg = targets[s + b];
      const n = positions[s + b].length;
      const row = Array.from(data.subarray(k, k + n));
      out.push(o.read === "top1" ? row.map((id, j) => (id === tg[j] ? 1 : 0)) : row);
      k += n;
    }
  }
  return out;
}

/**
 * Mean log-probability of each target continuation after each prompt (length-normalised
 * log P): result[i][j] for prompt i and target j.
 */
export async function continuationScores(
  model: ModelLike,
  tok: TextTokenizer,
  prompts: readonly string[],
  targets: readonly string[],
): Promise<number[][]> {
  const nCtx = baseOf(model).config.nCtx;
  const rows = prompts.flatMap((p) => targets.map((t) => continuationRow(tok, nCtx, p, t)));
  const lp = await tokenLogProbs(
    model,
    rows.map((r) => r.ids),
    rows.map((r) => r.positions),
    rows.map((r) => r.targets),
  );
  return prompts.map((_, i) => targets.map((_, j) => meanOf(lp[i * targets.length + j])));
}

const meanOf = (a: readonly number[]) => a.reduce((x, y) => x + y, 0) / a.length;

/** The row that scores `target` after `prompt` teacher forced: its ids, positions and targets. */
function continuationRow(tok: TextTokenizer, nCtx: number, prompt: string, target: string) {
  const ids = tok.encode(prompt);
  const tids = continuationIds(tok, prompt, target);
  const row = [...ids, ...tids.slice(0, -1)];
  if (row.length > nCtx)
    throw new Error(`prompt ${JSON.stringify(prompt)} + target is longer than the context`);
  return { ids: row, positions: tids.map((_, j) => ids.length - 1 + j), targets: tids };
}

/**
 * continuationScores of many prompt lists with their own targets at once (the prompts of many
 * CounterFact cases): the rows are grouped by token length and each group runs in passes of
 * equal-length rows, so no row is padded and each gives what it gives alone.
 */
export async function continuationScoresOfLists(
  model: ModelLike,
  tok: TextTokenizer,
  lists: readonly { prompts: readonly string[]; targets: readonly string[] }[],
): Promise<number[][][]> {
  const nCtx = baseOf(model).config.nCtx;
  const rows = lists.flatMap((l, c) =>
    l.prompts.flatMap((p, i) =>
      l.targets.map((t, j) => ({ c, i, j, ...continuationRow(tok, nCtx, p, t) })),
    ),
  );
  const out = lists.map((l) => l.prompts.map(() => l.targets.map(() => Number.NaN)));
  for (const idx of indicesByLength(rows.map((r) => r.ids.length))) {
    const group = idx.map((k) => rows[k]);
    const lp = await tokenLogProbs(
      model,
      group.map((r) => r.ids),
      group.map((r) => r.positions),
      group.map((r) => r.targets),
    );
    group.forEach((r, k) => {
      out[r.c][r.i][r.j] = meanOf(lp[k]);
    });
  }
  return out;
}

export interface CaseScores {
  case_id?: number;
  efficacy: number;
  paraphrase: number | null;
  neighborhood: number | null;
  /** P(new) − P(true) on the rewrite prompt, mean over paraphrases, and P(true) − P(new) over neighbours. */
  efficacy_diff: number;
  paraphrase_diff: number | null;
  neighborhood_diff: number | null;
  /** P(new), P(true) on the rewrite prompt. */
  p_new: number;
  p_true: number;
}

export interface CounterFactScores {
  n_cases: number;
  efficacy: number;
  paraphrase: number | null;
  neighborhood: number | null;
  /** Harmonic mean of efficacy, paraphrase and neighbourhood (those present). */
  score: number;
  efficacy_diff: number;
  paraphrase_diff: number | null;
  neighborhood_diff: number | null;
  cases: CaseScores[];
}

/** A rewrite to evaluate: the prompts filled with the subject, and the two objects. */
export interface RewriteCase {
  case_id?: number;
  prompt: string;
  target_new: string;
  target_true: string;
  paraphrase_prompts: string[];
  neighborhood_prompts: string[];
}

export function rewriteCase(c: CounterFactCase): RewriteCase {
  const r = c.requested_rewrite;
  return {
    case_id: c.case_id,
    prompt: r.prompt.replace("{}", r.subject),
    target_new: r.target_new.str,
    target_true: r.target_true.str,
    paraphrase_prompts: c.paraphrase_prompts,
    neighborhood_prompts: c.neighborhood_prompts,
  };
}

export async function caseScores(
  model: ModelLike,
  tok: TextTokenizer,
  c: RewriteCase,
): Promise<CaseScores> {
  const all = [c.prompt, ...c.paraphrase_prompts, ...c.neighborhood_prompts];
  const s = await continuationScores(model, tok, all, [c.target_new, c.target_true]);
  return scoresFromLogProbs(s as [number, number][], c.paraphrase_prompts.length, c.case_id);
}

/** caseScores of many cases at once (continuationScoresOfLists: no row padded). */
export async function casesScores(
  model: ModelLike,
  tok: TextTokenizer,
  cases: readonly RewriteCase[],
): Promise<CaseScores[]> {
  const lists = cases.map((c) => ({
    prompts: [c.prompt, ...c.paraphrase_prompts, ...c.neighborhood_prompts],
    targets: [c.target_new, c.target_true],
  }));
  const s = await continuationScoresOfLists(model, tok, lists);
  return cases.map((c, k) =>
    scoresFromLogProbs(s[k] as [number, number][], c.paraphrase_prompts.length, c.case_id),
  );
}

/**
 * A case's scores from the mean log-probabilities [new, true] of its prompts in order: the
 * rewrite prompt, `nPara` paraphrases, then the neighbours (ROME's summarize.py per case).
 */
export function scoresFromLogProbs(
  lp: readonly (readonly [number, number])[],
  nPara: number,
  case_id?: number,
): CaseScores {
  const P = lp.map(([n, t]) => ({ n: Math.exp(n), t: Math.exp(t) }));
  const para = P.slice(1, 1 + nPara);
  const neigh = P.slice(1 + nPara);
  const mean = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : null);
  return {
    case_id,
    efficacy: P[0].n > P[0].t ? 1 : 0,
    paraphrase: mean(para.map((x) => (x.n > x.t ? 1 : 0))),
    neighborhood: mean(neigh.map((x) => (x.t > x.n ? 1 : 0))),
    efficacy_diff: P[0].n - P[0].t,
    paraphrase_diff: mean(para.map((x) => x.n - x.t)),
    neighborhood_diff: mean(neigh.map((x) => x.t - x.n)),
    p_new: P[0].n,
    p_true: P[0].t,
  };
}

export function harmonicMean(xs: number[]): number {
  if (xs.length === 0 || xs.some((x) => x <= 0)) return 0;
  return xs.length / xs.reduce((a, x) => a + 1 / x, 0);
}

/** The rates and magnitudes of one case, whatever the suite. */
export interface RateCase {
  efficacy: number;
  paraphrase: number | null;
  neighborhood: number | null;
  efficacy_diff?: number | null;
  paraphrase_diff?: number | null;
  neighborhood_diff?: number | null;
}

/** The mean of a numeric field over cases (those without it left out; none: null). */
export function meanField<T>(cases: readonly T[], k: keyof T): number | null {
  const v = cases.map((c) => c[k]).filter((x): x is T[keyof T] & number => typeof x === "number");
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

/**
 * Averages per-case rates and magnitudes (ROME's summarize.py: cases without paraphrases or
 * neighbours are left out of those), with the harmonic mean of the three rates.
 */
export function rateSummary(cases: readonly RateCase[]) {
  const efficacy = meanField(cases, "efficacy") ?? 0;
  const paraphrase = meanField(cases, "paraphrase");
  const neighborhood = meanField(cases, "neighborhood");
  return {
    n_cases: cases.length,
    efficacy,
    paraphrase,
    neighborhood,
    score: harmonicMean(
      [efficacy, paraphrase, neighborhood].filter((x): x is number => x !== null),
    ),
    efficacy_diff: meanField(cases, "efficacy_diff"),
    paraphrase_diff: meanField(cases, "paraphrase_diff"),
    neighborhood_diff: meanField(cases, "neighborhood_diff"),
  };
}

/** Averages per-case scores (cases without paraphrases or neighbours are left out of those). */
export function aggregateScores(cases: CaseScores[]): CounterFactScores {
  const r = rateSummary(cases);
  return { ...r, efficacy_diff: r.efficacy_diff ?? 0, cases };
}

export interface TextLoss {
  /** Mean next-token NLL over every predicted token. */
  nll: number;
  tokens: number;
  texts: number;
}

/** Mean next-token NLL over texts (each cut to the context; a text of one token adds nothing). */
export async function generalTextLoss(
  model: ModelLike,
  tok: TextTokenizer,
  texts: readonly string[],
): Promise<TextLoss> {
  const { nCtx, vocabSize } = baseOf(model).config;
  const rows = texts.map((t) => tok.encode(t).slice(0, nCtx)).filter((r) => r.length > 1);
  const lp: number[][] = new Array(rows.length);
  for (const g of paddedLengthGroups(
    rows.map((r) => r.length),
    vocabSize,
  )) {
    const part = g.map((i) => rows[i]);
    const positions = part.map((r) => r.slice(0, -1).map((_, i) => i));
    const got = await tokenLogProbs(
      model,
      part,
      positions,
      part.map((r) => r.slice(1)),
    );
    g.forEach((i, j) => {
      lp[i] = got[j];
    });
  }
  let sum = 0; // in the texts' order
  let n = 0;
  for (const row of lp) {
    for (const x of row) sum -= x;
    n += row.length;
  }
  return { nll: sum / Math.max(1, n), tokens: n, texts: rows.length };
}
