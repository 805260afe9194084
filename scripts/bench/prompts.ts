/**
 * The benchmark's prompts, the same in Node and in the browser: a short one (about 10 tokens)
 * and a long one (about 30), the subject starting within the first two tokens, each with a
 * counterfactual prompt of the same length for the head sweep.
 *
 * Bundled model (tiny-facts): the first known fact "{subject} lives in the city of" of 10
 * tokens; the long prompt prepends other facts about the same subject from dataset.json
 * ("Ralkrok Stennos works as a baker. … Ralkrok Stennos lives in the city of"), the first
 * sentence starting with the subject. The counterfactual swaps in another subject with a
 * different answer and the same number of tokens. Target: the clean top-1; foil: the
 * counterfactual's top-1.
 *
 * Random model: seeded random token ids, subject = tokens [1, 4), counterfactual = the same ids
 * with the subject's three tokens redrawn.
 */
import type { KnownFact } from "../../lib/interp/dataset";
import { findSubjectRange } from "../../lib/interp/tokens";
import type { Gpt2Model } from "../../lib/model/gpt2";
import type { BenchPrompt } from "./core";
import { topTokens } from "./core";
import { randomTokenIds } from "./random-gpt2";

export const PROMPT_LENGTHS = { short: 10, long: 30 } as const;
export type PromptLabel = keyof typeof PROMPT_LENGTHS;

/** What the prompt builder needs of lib/engine.ts's Engine. */
export interface PromptEngine {
  model: Gpt2Model;
  tokenize(text: string): { ids: number[]; tokens: string[] };
}

const CITY_TEMPLATE = "{} lives in the city of";

/** Subsets of `items` of size ≤ k in every order (small k). */
function arrangements<T>(items: T[], k: number): T[][] {
  const out: T[][] = [[]];
  const grow = (prefix: T[], rest: T[]) => {
    if (prefix.length === k) return;
    rest.forEach((x, i) => {
      const next = [...prefix, x];
      out.push(next);
      grow(
        next,
        rest.filter((_, j) => j !== i),
      );
    });
  };
  grow([], items);
  return out;
}

async function withCounterfactual(
  engine: PromptEngine,
  label: string,
  text: string,
  subject: string,
  others: KnownFact[],
): Promise<BenchPrompt> {
  const { ids, tokens } = engine.tokenize(text);
  const [target] = await topTokens(engine.model, ids, 1);
  for (const g of others) {
    const corrupt = engine.tokenize(text.replaceAll(subject, g.subject)).ids;
    if (corrupt.length !== ids.length) continue;
    const [foil] = await topTokens(engine.model, corrupt, 1);
    if (foil === target) continue;
    return {
      label,
      ids,
      tokens,
      subject: findSubjectRange(tokens, subject),
      corruptIds: corrupt,
      target,
      foil,
    };
  }
  throw new Error(`no counterfactual subject of the same length for ${JSON.stringify(text)}`);
}

/** The short and long prompts on the bundled model, from its dataset's known facts. */
export async function bundledPrompts(
  engine: PromptEngine,
  facts: KnownFact[],
  labels: readonly PromptLabel[] = ["short", "long"],
): Promise<BenchPrompt[]> {
  const city = facts.filter((f) => f.template === CITY_TEMPLATE && f.prompt.startsWith(f.subject));
  const main = city.find(
    (f) => engine.tokenize(f.prompt).ids.length === PROMPT_LENGTHS.short && f.subject.includes(" "),
  );
  if (!main) throw new Error(`no known fact "${CITY_TEMPLATE}" of ${PROMPT_LENGTHS.short} tokens`);
  const S = main.subject;
  const others = city.filter((f) => f.subject !== S && f.attribute !== main.attribute);
  const out: BenchPrompt[] = [];
  for (const label of labels) {
    let text = main.prompt;
    if (label === "long") {
      const sentences = facts
        .filter((f) => f.subject === S && f !== main)
        .map((f) => `${f.prompt}${f.attribute}.`);
      let best: { text: string; n: number } | null = null;
      for (const a of arrangements(sentences, 3)) {
        if (a.length === 0 || !a[0].startsWith(S)) continue;
        const t = [...a, main.prompt].join(" ");
        const n = engine.tokenize(t).ids.length;
        const d = Math.abs(n - PROMPT_LENGTHS.long);
        if (!best || d < Math.abs(best.n - PROMPT_LENGTHS.long)) best = { text: t, n };
      }
      if (!best) throw new Error(`no other facts about ${S} to make a long prompt`);
      text = best.text;
    }
    out.push(await withCounterfactual(engine, label, text, S, others));
  }
  return out;
}

/** Random-id prompts for a model without a tokenizer (the random GPT-2-small-shaped one). */
export async function randomPrompts(
  model: Gpt2Model,
  seed: number,
  labels: readonly PromptLabel[] = ["short", "long"],
): Promise<BenchPrompt[]> {
  const V = model.config.vocabSize;
  const subject: [number, number] = [1, 4];
  const out: BenchPrompt[] = [];
  for (const label of labels) {
    const n = PROMPT_LENGTHS[label];
    const ids = randomTokenIds(n, V, seed + n);
    const swap = randomTokenIds(subject[1] - subject[0], V, seed + 1000 + n);
    const corruptIds = ids.map((id, i) =>
      i >= subject[0] && i < subject[1] ? swap[i - subject[0]] : id,
    );
    const [target, second] = await topTokens(model, ids, 2);
    const [corruptTop] = await topTokens(model, corruptIds, 1);
    out.push({
      label,
      ids,
      subject,
      corruptIds,
      target,
      foil: corruptTop !== target ? corruptTop : second,
    });
  }
  return out;
}
