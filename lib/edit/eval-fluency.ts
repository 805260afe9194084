/**
 * Generation fluency as ROME measures it (kmeng01/rome experiments/py/eval_utils_counterfact.py
 * test_generation, n_gram_entropy): each of the case's generation prompts is continued by top-5
 * sampling up to 100 tokens in all (util/generate.py generate_fast: no stop at end of text, the
 * prompt is part of the text), and the text's fluency is the weighted entropy of its word n-grams
 *
 *   H = mean(2/3 · H₂, 4/3 · H₃),   Hₙ = −Σ p log₂ p over the frequencies of the text's n-grams
 *
 * (a text with no n-grams of a size adds 0 for it), averaged over the texts.
 *
 * Words are NLTK's `word_tokenize`: Punkt sentence splitting, then NLTKWordTokenizer's rules
 * (ported below, rule for rule, from nltk 3.8 tokenize/destructive.py). Punkt needs a trained
 * model that nothing here ships, so sentences are split after . ! ? followed by white space
 * instead; for this project's texts the two agree except at abbreviations. JavaScript's \w, \d
 * and \b are ASCII-only where Python's are Unicode: the same on ASCII text.
 * scripts/reference/edit_metrics_ref.py checks both against nltk itself (test/edit-eval-metrics).
 */
import { isCancelled } from "../interp/cancel";
import type { TextTokenizer } from "../util/tokenizer";
import { baseOf, type ModelLike } from "./apply";
import { chunks, indicesByLength } from "./batch";
import { type CancelSignal, checkLearningCancelled } from "./cancel";
import { generateBatch } from "./generate";

type Rule = [RegExp, string];

const STARTING_QUOTES: Rule[] = [
  [/([«“‘„]|[`]+)/gu, " $1 "],
  [/^"/, "``"],
  [/(``)/g, " $1 "],
  [/([ ([{<])("|'{2})/g, "$1 `` "],
  [/(')(?!re|ve|ll|m|t|s|d|n)(\w)\b/gi, "$1 $2"],
];

const PUNCTUATION: Rule[] = [
  [/([^.])(\.)([\])}>"'»”’ ]*)\s*$/gu, "$1 $2 $3 "],
  [/([:,])([^\d])/g, " $1 $2"],
  [/([:,])$/g, " $1 "],
  [/\.{2,}/g, " $& "],
  [/[;@#$%&]/g, " $& "],
  [/([^.])(\.)([\])}>"']*)\s*$/g, "$1 $2$3 "],
  [/[?!]/g, " $& "],
  [/([^'])' /g, "$1 ' "],
  [/[*]/g, " $& "],
];

const PARENS_BRACKETS: Rule = [/[\][(){}<>]/g, " $& "];
const DOUBLE_DASHES: Rule = [/--/g, " -- "];

const ENDING_QUOTES: Rule[] = [
  [/([»”’])/gu, " $1 "],
  [/''/g, " '' "],
  [/"/g, " '' "],
  [/([^' ])('[sS]|'[mM]|'[dD]|') /g, "$1 $2 "],
  [/([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) /g, "$1 $2 "],
];

const CONTRACTIONS: Rule[] = [
  /\b(can)(not)\b/gi,
  /\b(d)('ye)\b/gi,
  /\b(gim)(me)\b/gi,
  /\b(gon)(na)\b/gi,
  /\b(got)(ta)\b/gi,
  /\b(lem)(me)\b/gi,
  /\b(more)('n)\b/gi,
  /\b(wan)(na)(?=\s)/gi,
  / ('t)(is)\b/gi,
  / ('t)(was)\b/gi,
].map((r): Rule => [r, " $1 $2 "]);

const applyRules = (text: string, rules: readonly Rule[]) =>
  rules.reduce((t, [re, sub]) => t.replace(re, sub), text);

/** NLTKWordTokenizer.tokenize of one sentence. */
export function tokenizeSentence(sentence: string): string[] {
  let t = applyRules(sentence, STARTING_QUOTES);
  t = applyRules(t, PUNCTUATION);
  t = applyRules(t, [PARENS_BRACKETS, DOUBLE_DASHES]);
  t = applyRules(` ${t} `, ENDING_QUOTES);
  t = applyRules(t, CONTRACTIONS);
  return t.split(/\s+/).filter((w) => w.length > 0);
}

/** word_tokenize, with sentences split after . ! ? and white space (see the header). */
export function wordTokenize(text: string): string[] {
  return text.split(/(?<=[.!?])\s+/).flatMap(tokenizeSentence);
}

/** Entropy in bits of the n-grams of a word list (0 when it has none). */
function ngramEntropy(words: readonly string[], n: number): number {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= words.length; i++) {
    const key = words.slice(i, i + n).join("\u0000");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const total = words.length - n + 1;
  let h = 0;
  for (const c of counts.values()) {
    const p = c / total;
    h -= p * Math.log2(p);
  }
  return h;
}

/** ROME's compute_n_gram_entropy: mean of 2/3 · H(bigrams) and 4/3 · H(trigrams). */
export function textNgramEntropy(text: string): number {
  const words = wordTokenize(text);
  return ((2 / 3) * ngramEntropy(words, 2) + (4 / 3) * ngramEntropy(words, 3)) / 2;
}

/** ROME's n_gram_entropy: the mean over texts (NaN for none). */
export function ngramEntropyOf(texts: readonly string[]): number {
  if (texts.length === 0) return Number.NaN;
  return texts.reduce((a, t) => a + textNgramEntropy(t), 0) / texts.length;
}

export interface FluencyOptions {
  /** Tokens in all, prompt included (ROME's max_out_len 100), capped by the context. */
  maxLength?: number;
  topK?: number;
  seed?: number;
}

export const FLUENCY_DEFAULTS = { maxLength: 100, topK: 5, seed: 0 };

/**
 * The texts ROME's generate_fast would write for these prompts: top-k sampled continuations
 * (seeded, prompt i with seed + i), decoded with the prompt, end-of-text markers removed, NFKD.
 */
export async function generationTexts(
  model: ModelLike,
  tok: TextTokenizer,
  prompts: readonly string[],
  opts: FluencyOptions = {},
  signal?: CancelSignal,
): Promise<string[]> {
  const seed = opts.seed ?? FLUENCY_DEFAULTS.seed;
  return seededTexts(
    model,
    tok,
    prompts.map((prompt, i) => ({ prompt, seed: seed + i })),
    opts,
    signal,
  );
}

/**
 * generationTexts for prompts that each carry their own seed (several cases' prompts at once):
 * prompts of one token length are generated together (lib/edit/generate.ts generateBatch, no
 * padding, every row its own stream), in batches whose K/V cache stays under a size bound.
 */
async function seededTexts(
  model: ModelLike,
  tok: TextTokenizer,
  items: readonly { prompt: string; seed: number }[],
  opts: FluencyOptions,
  signal?: CancelSignal,
): Promise<string[]> {
  const o = { ...FLUENCY_DEFAULTS, ...opts };
  const { nCtx, nLayer, dModel, dMlp } = baseOf(model).config;
  const total = Math.min(o.maxLength, nCtx);
  const encoded = items.map((it) => tok.encode(it.prompt));
  const out: string[] = new Array(items.length);
  for (const rows of indicesByLength(encoded.map((ids) => ids.length))) {
    const len = encoded[rows[0]].length;
    // per row: every layer's keys and values, and one MLP activation, at every position
    for (const [s, e] of chunks(rows.length, total, 2 * nLayer * dModel + dMlp)) {
      await checkLearningCancelled(signal);
      const part = rows.slice(s, e);
      const gens = await generateBatch(
        model,
        tok,
        part.map((i) => encoded[i]),
        {
          maxNew: Math.max(0, total - len),
          sample: true,
          topK: o.topK,
          seeds: part.map((i) => items[i].seed),
          shouldStop: () => isCancelled(signal),
        },
      );
      gens.forEach((g, j) => {
        out[part[j]] = textOf(tok.decode([...g.promptIds, ...g.ids]));
      });
    }
  }
  await checkLearningCancelled(signal);
  return out;
}

const textOf = (text: string) =>
  text.normalize("NFKD").replaceAll("\n\n", " ").replaceAll("<|endoftext|>", "");

/**
 * Fluency of several prompt lists at once (the cases of an evaluation run, each list seeded as
 * generationTexts seeds it alone): the mean n-gram entropy of each list's generations.
 */
export async function fluencyOfLists(
  model: ModelLike,
  tok: TextTokenizer,
  lists: readonly (readonly string[])[],
  opts: FluencyOptions = {},
  signal?: CancelSignal,
): Promise<number[]> {
  const seed = opts.seed ?? FLUENCY_DEFAULTS.seed;
  const items = lists.flatMap((ps) => ps.map((prompt, i) => ({ prompt, seed: seed + i })));
  const texts = await seededTexts(model, tok, items, opts, signal);
  const starts = lists.map((_, i) => lists.slice(0, i).reduce((n, ps) => n + ps.length, 0));
  return lists.map((ps, i) => ngramEntropyOf(texts.slice(starts[i], starts[i] + ps.length)));
}

/** Fluency of a model on prompts: the mean n-gram entropy of its generations, and the texts. */
export async function generationFluency(
  model: ModelLike,
  tok: TextTokenizer,
  prompts: readonly string[],
  opts: FluencyOptions = {},
): Promise<{ entropy: number; texts: string[] }> {
  const texts = await generationTexts(model, tok, prompts, opts);
  return { entropy: ngramEntropyOf(texts), texts };
}
