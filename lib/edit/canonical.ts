/**
 * Evaluation of canonical-examples editing (Hewitt et al. 2024, docs/methods.md §3): an edit is
 * trained on ONE example (prefix, suffix) and judged only out of distribution, on harder
 * held-out prompts of the same behaviour. Works for any stack (LoRA, ROME, …):
 *
 *   held-out prompts   for a fact of dataset.json, the prefix is one phrasing of a relation's
 *                      template with a subject; the held-out prompts are the relation's other
 *                      phrasings (templates_train and templates_heldout) with the same subject
 *   score              log P(suffix | prompt), summed over the suffix tokens
 *   success            P(suffix) ≥ threshold (country–capital-like facts: 0.2)
 */

import type { TextTokenizer } from "../util/tokenizer";
import type { ModelLike } from "./apply";
import { baseOf } from "./apply";
import { tokenLogProbs } from "./metrics";
import { continuationIds } from "./tokens";
import { EditError } from "./types";

interface Relation {
  relation_id: string;
  templates_train?: string[];
  templates_heldout?: string[];
}

export interface CanonicalPrompts {
  subject: string;
  relation_id: string;
  /** The template the prefix is written with. */
  template: string;
  prompts: string[];
}

const isTemplates = (x: unknown): x is string[] =>
  Array.isArray(x) && x.every((s) => typeof s === "string" && s.includes("{}"));

/**
 * The held-out prompts of a fact's prefix: the first relation with a template that reads as the
 * prefix with some subject in "{}". Null when no relation matches (then give eval prompts).
 */
export function canonicalPrompts(dataset: unknown, prefix: string): CanonicalPrompts | null {
  const rels = (dataset as { relations?: unknown } | undefined)?.relations;
  if (!Array.isArray(rels)) return null;
  for (const r of rels as Relation[]) {
    const train = isTemplates(r?.templates_train) ? r.templates_train : [];
    const held = isTemplates(r?.templates_heldout) ? r.templates_heldout : [];
    for (const t of [...train, ...held]) {
      const at = t.indexOf("{}");
      const head = t.slice(0, at);
      const tail = t.slice(at + 2);
      if (prefix.length <= head.length + tail.length) continue;
      if (!prefix.startsWith(head) || !prefix.endsWith(tail)) continue;
      const subject = prefix.slice(head.length, prefix.length - tail.length);
      if (subject.trim() === "" || subject.includes("{}")) continue;
      const prompts = [...new Set([...train, ...held])]
        .filter((u) => u !== t)
        .map((u) => u.replace("{}", subject));
      return { subject, relation_id: r.relation_id, template: t, prompts };
    }
  }
  return null;
}

export interface CanonicalScore {
  prompts: string[];
  /** P(suffix | prompt) (product over the suffix tokens). */
  p: number[];
  success_rate: number;
  threshold: number;
}

/** What canonicalScore measures: the suffix's probability after each prompt, and the bar. */
export interface CanonicalTask {
  prompts: readonly string[];
  suffix: string;
  /** Success if P(suffix | prompt) ≥ threshold. */
  threshold: number;
}

/** log P(text | prompt) of each pair, summed over the text's tokens (teacher forced). */
export async function pairLogProbs(
  model: ModelLike,
  tok: TextTokenizer,
  pairs: readonly { prompt: string; text: string }[],
): Promise<number[]> {
  const nCtx = baseOf(model).config.nCtx;
  const rows: number[][] = [];
  const positions: number[][] = [];
  const targets: number[][] = [];
  for (const { prompt, text } of pairs) {
    const ids = tok.encode(prompt);
    const s = continuationIds(tok, prompt, text);
    const row = [...ids, ...s.slice(0, -1)];
    if (ids.length === 0 || row.length > nCtx) {
      throw new EditError("bad_edit", `prompt ${JSON.stringify(prompt)} is empty or too long`);
    }
    rows.push(row);
    positions.push(s.map((_, j) => ids.length - 1 + j));
    targets.push(s);
  }
  const lp = await tokenLogProbs(model, rows, positions, targets);
  return lp.map((row) => row.reduce((a, b) => a + b, 0));
}

/** P(suffix | prompt) for every prompt and the share with P ≥ threshold. */
export async function canonicalScore(
  model: ModelLike,
  tok: TextTokenizer,
  task: CanonicalTask,
): Promise<CanonicalScore> {
  const { prompts, suffix, threshold } = task;
  if (prompts.length === 0) throw new EditError("bad_edit", "no evaluation prompts");
  const lp = await pairLogProbs(
    model,
    tok,
    prompts.map((prompt) => ({ prompt, text: suffix })),
  );
  const p = lp.map((x) => Math.exp(x));
  const success_rate = p.filter((x) => x >= threshold).length / p.length;
  return { prompts: [...prompts], p, success_rate, threshold };
}
