/**
 * SWEA's lookup keys: the token sequences of a subject that the edit is attached to. SWEA's code
 * keys a fusion by tok(subject) alone; with a byte-level BPE a subject reads differently at the
 * start of a text ("Rekin") and after a space (" Rekin"), so here a subject gets the sequence it
 * has in its rewrite prompt plus its other spelling when that has as many tokens (each position
 * keeps its offset). A spelling with another token count is reported, not registered.
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
  /** Spellings not registered (another token count). */
  skipped: number[][];
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
  const skipped: number[][] = [];
  for (const s of spellings) {
    if (s.length === 0 || keys.some((k) => same(k, s)) || skipped.some((k) => same(k, s))) continue;
    (s.length === own.length ? keys : skipped).push(s);
  }
  return { text: sp.text, ids: sp.ids, first, last: sp.subjectLast, keys, skipped };
}
