/**
 * What the sweeps (lib/interp) and the edits (lib/edit) need of a tokenizer: text ↔ ids and,
 * when the tokenizer has it, one token's text with its spaces. lib/engine.ts EngineTokenizer has
 * all three.
 */
export interface TextTokenizer {
  encode(text: string): number[];
  decode(ids: number[]): string;
  tokenText?(id: number): string;
}
