/**
 * What the sweeps (lib/interp) and the edits (lib/edit) need of a tokenizer: text ↔ ids and,
 * when the tokenizer has them, token texts with their spaces, continuations without a BOS and
 * which ids are special. lib/load/tokenizer.ts TextTokenizer has all of them; a test double may
 * have only encode and decode (then it has no BOS and no special tokens).
 */
export interface TextTokenizer {
  /** A prompt as the model reads it (with the BOS a Llama tokenizer puts first). */
  encode(text: string): number[];
  decode(ids: number[]): string;
  tokenText?(id: number): string;
  /** Text that follows a prompt (a target): never a BOS. */
  encodeContinuation?(text: string): number[];
  /** One display text per token of a sequence, in context (SentencePiece "▁" spaces kept). */
  tokenTexts?(ids: readonly number[]): string[];
  /** A special added token (BOS, EOS): no part of the prompt's text. */
  isSpecial?(id: number): boolean;
}

/** The ids of a continuation (a target after a prompt): no BOS. */
export function continuationTokens(tok: TextTokenizer, text: string): number[] {
  return tok.encodeContinuation ? tok.encodeContinuation(text) : tok.encode(text);
}

/** One display text per token of a prompt (the token strip's labels). */
export function sequenceTexts(tok: TextTokenizer, ids: readonly number[]): string[] {
  if (tok.tokenTexts) return tok.tokenTexts(ids);
  return ids.map((id) => (tok.tokenText ? tok.tokenText(id) : tok.decode([id])));
}

/**
 * Token texts for finding the subject: special tokens (a leading BOS) count as no text, so a
 * subject's span never starts at, or matches inside, "<|begin_of_text|>" or "<s>".
 */
export function matchTexts(tok: TextTokenizer, ids: readonly number[]): string[] {
  const texts = sequenceTexts(tok, ids);
  return tok.isSpecial ? texts.map((t, i) => (tok.isSpecial?.(ids[i]) ? "" : t)) : texts;
}
