/**
 * From a spec's text to token ids: prompts, the subject's token range, targets. No tensors.
 *
 * The subject as text is found as ROME's find_token_range does: decode every token, join the
 * texts, find the subject's first occurrence, and take the tokens whose text overlaps it. Token
 * texts are decoded in context (SentencePiece "▁" tokens keep their spaces) and special tokens
 * count as no text, so with a Llama BOS the subject's span starts at position 1 or later.
 */
import { maxPromptChars } from "../load/limits";
import type { Gpt2Model } from "../model/gpt2";
import {
  continuationTokens,
  matchTexts,
  sequenceTexts,
  type TextTokenizer,
} from "../util/tokenizer";
import { TraceError } from "./spec";

/**
 * What a sweep runs on: an Engine (lib/engine.ts) fits, or a bare model with an optional
 * tokenizer (then prompts and targets must be token ids and the subject a token range).
 */
export interface TraceHost {
  model: Gpt2Model;
  tokenizer?: TextTokenizer;
}

/** The text of one token; `#id` without a tokenizer or for an id the tokenizer lacks. */
export function tokenText(host: TraceHost, id: number): string {
  const tok = host.tokenizer;
  if (!tok) return `#${id}`;
  try {
    return tok.tokenText ? tok.tokenText(id) : tok.decode([id]);
  } catch {
    return `#${id}`;
  }
}

/** One display text per token of a sequence (the token strip's labels), decoded in context. */
export function tokenTexts(host: TraceHost, ids: number[]): string[] {
  if (host.tokenizer) {
    try {
      return sequenceTexts(host.tokenizer, ids);
    } catch {
      // an id the tokenizer lacks (a padded vocabulary): per-token texts below
    }
  }
  return ids.map((id) => tokenText(host, id));
}

export function decodeIds(host: TraceHost, ids: number[]): string {
  try {
    if (host.tokenizer) return host.tokenizer.decode(ids);
  } catch {
    // an id the tokenizer lacks (a padded vocabulary): fall through
  }
  return ids.map((id) => tokenText(host, id)).join("");
}

function needTokenizer(host: TraceHost, what: string): TextTokenizer {
  if (!host.tokenizer)
    throw new TraceError("bad_spec", `${what} needs a tokenizer; give token ids instead`);
  return host.tokenizer;
}

/** Token ids of a prompt given as text or ids, checked against the vocabulary. */
export function promptIds(host: TraceHost, prompt: string | number[], name = "prompt"): number[] {
  const maxChars = maxPromptChars(host.model.config.nCtx);
  if (typeof prompt === "string" && prompt.length > maxChars) {
    // refused before tokenizing (lib/load/limits.ts): it cannot fit the context whatever its tokens
    throw new TraceError(
      "too_long",
      `the ${name} has ${prompt.length} characters, more than the ${maxChars} that can fit the model's context of ${host.model.config.nCtx} tokens`,
    );
  }
  const ids =
    typeof prompt === "string" ? needTokenizer(host, `${name} as text`).encode(prompt) : prompt;
  if (ids.length === 0) throw new TraceError("empty_prompt", `the ${name} is empty`);
  checkVocab(host, ids, name);
  return [...ids];
}

export function checkVocab(host: TraceHost, ids: number[], name: string): void {
  const V = host.model.config.vocabSize;
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= V) {
      throw new TraceError(
        "bad_spec",
        `${name} has token id ${id}, outside the vocabulary (0 to ${V - 1})`,
      );
    }
  }
}

/**
 * The end-exclusive token range [b, e) covering the first occurrence of `subject` in the
 * concatenated token texts. Throws subject_not_found with the tokens shown.
 */
export function findSubjectRange(tokens: string[], subject: string): [number, number] {
  if (subject.trim() === "") throw new TraceError("bad_subject", "the subject is empty");
  const whole = tokens.join("");
  let at = whole.indexOf(subject);
  let len = subject.length;
  if (at < 0) {
    // "Eiffel Tower " or " Eiffel Tower" typed with stray spaces still names the same tokens
    const trimmed = subject.trim();
    at = whole.indexOf(trimmed);
    len = trimmed.length;
  }
  if (at < 0) {
    throw new TraceError(
      "subject_not_found",
      `subject ${JSON.stringify(subject)} is not in the prompt ${JSON.stringify(whole)}`,
    );
  }
  const end = at + len;
  let pos = 0;
  let b = -1;
  for (let i = 0; i < tokens.length; i++) {
    const next = pos + tokens[i].length;
    if (b < 0 && next > at) b = i;
    if (next >= end) return [b, i + 1];
    pos = next;
  }
  return [b, tokens.length];
}

/** Validates a token range [b, e) inside a prompt of T tokens. */
export function checkRange(range: [number, number], T: number): [number, number] {
  const [b, e] = range;
  if (!Number.isInteger(b) || !Number.isInteger(e) || b < 0 || e > T || b >= e) {
    throw new TraceError(
      "bad_subject",
      `subject range [${b}, ${e}) is not a non-empty token range inside the prompt's ${T} tokens (end-exclusive)`,
    );
  }
  return [b, e];
}

/** The subject's token range from text (needs the prompt's token texts) or a range. */
export function subjectRange(
  host: TraceHost,
  ids: number[],
  subject: string | [number, number],
): [number, number] {
  if (Array.isArray(subject)) return checkRange(subject, ids.length);
  const tok = needTokenizer(host, "a subject given as text");
  return findSubjectRange(matchTexts(tok, ids), subject);
}

/**
 * Token ids of a target given as text (leading space added when the target has none and the
 * prompt's text does not end in whitespace), a token id or ids.
 */
export function targetIds(
  host: TraceHost,
  promptIdsList: number[],
  target: string | number | number[],
): number[] {
  let ids: number[];
  if (typeof target === "number") ids = [target];
  else if (Array.isArray(target)) ids = [...target];
  else {
    if (target === "") throw new TraceError("bad_target", "the target is empty");
    const tok = needTokenizer(host, "a target given as text");
    const promptText = tok.decode(promptIdsList);
    const text = /^\s/.test(target) || /\s$/.test(promptText) ? target : ` ${target}`;
    ids = continuationTokens(tok, text);
  }
  if (ids.length === 0)
    throw new TraceError("bad_target", `target ${JSON.stringify(target)} has no tokens`);
  const V = host.model.config.vocabSize;
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= V) {
      throw new TraceError(
        "bad_target",
        `target token id ${id} is outside the vocabulary (0 to ${V - 1})`,
      );
    }
  }
  return ids;
}

/** A target that must be one token (patching's target and foil). */
export function singleTokenId(
  host: TraceHost,
  promptIdsList: number[],
  target: string | number,
  name: string,
): number {
  const ids = targetIds(host, promptIdsList, target);
  if (ids.length !== 1) {
    const parts = ids.map((id) => JSON.stringify(tokenText(host, id))).join(" + ");
    throw new TraceError(
      "bad_target",
      `${name} ${JSON.stringify(target)} is ${ids.length} tokens (${parts}); it must be a single token`,
    );
  }
  return ids[0];
}
