/**
 * SWEA's lookup keys: the token sequences of a subject that the edit is attached to. SWEA's code
 * keys a fusion by tok(subject) alone; with a byte-level BPE a subject reads differently at the
 * start of a text ("Rekin") and after a space (" Rekin"), often with another number of tokens,
 * so here a subject gets both spellings as keys, each with offsets of its own, learned on rewrite
 * prompts where that spelling occurs (promptVariants).
 */
import { continuationTokens, matchTexts, type TextTokenizer } from "../util/tokenizer";
import { subjectPrompt } from "./tokens";
import { EditError, type RewriteRequest } from "./types";

export interface SubjectKeys {
  /** The rewrite prompt with the subject: its text, ids and the subject's span [first, last]. */
  text: string;
  ids: number[];
  first: number;
  last: number;
  /** The lookup keys; keys[0] is the subject as the rewrite prompt has it. */
  keys: number[][];
}

/**
 * Rewrite prompts to learn a spelling on, in order of preference: the request's own, the prompt
 * from the subject on ("Every morning, {} walks" → "{} walks": the subject at the start of a
 * text) and the same after a space (" {} walks").
 */
export function promptVariants(prompt: string): string[] {
  const tail = prompt.slice(prompt.indexOf("{}"));
  return [...new Set([prompt, tail, ` ${tail}`])];
}

/** The first token holding a character of the subject (subjectPrompt finds the last). */
function firstToken(tok: TextTokenizer, text: string, ids: number[], at: number): number {
  const texts = matchTexts(tok, ids);
  if (texts.join("") === text) {
    let pos = 0;
    for (let i = 0; i < texts.length; i++) {
      pos += texts[i].length;
      if (pos > at) return i;
    }
  }
  // texts that do not concatenate to the prompt (a split multi-byte character, SentencePiece):
  // the tokenized prefix before the subject, BOS included
  if (at > 0) return tok.encode(text.slice(0, at)).length;
  let i = 0;
  while (i < ids.length && tok.isSpecial?.(ids[i])) i++;
  return i;
}

const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** The subject's span in the rewrite prompt and its lookup keys. */
export function subjectKeys(tok: TextTokenizer, r: RewriteRequest): SubjectKeys {
  const sp = subjectPrompt(tok, r.prompt, r.subject);
  const first = firstToken(tok, sp.text, sp.ids, r.prompt.indexOf("{}"));
  if (first < 0 || first > sp.subjectLast) {
    throw new EditError(
      "bad_edit",
      `cannot find the subject ${JSON.stringify(r.subject)} in ${JSON.stringify(sp.text)}`,
    );
  }
  const own = sp.ids.slice(first, sp.subjectLast + 1);
  const spellings = [
    tok.encode(r.subject).filter((id) => !tok.isSpecial?.(id)),
    continuationTokens(tok, ` ${r.subject.trimStart()}`),
  ];
  const keys = [own];
  for (const k of spellings) if (k.length > 0 && !keys.some((x) => same(x, k))) keys.push(k);
  return { text: sp.text, ids: sp.ids, first, last: sp.subjectLast, keys };
}
