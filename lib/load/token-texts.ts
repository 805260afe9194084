/**
 * Display texts of a token sequence, one string per token, from the tokenizer's own decoder.
 *
 * Decoding each id alone is right for byte-level BPE (GPT-2: "Ġthe" → " the") but wrong for
 * SentencePiece-style vocabularies: Llama 2's decoder ends with Strip(" ", 1, 0), which drops
 * the leading space of the first token decoded, so "▁Paris" alone decodes to "Paris" and the
 * texts of a prompt join to "TheEiffelTower…". Here token i's text is what decoding it adds
 * after its predecessors (the decoder sees the same context it sees on the whole sequence), as
 * the difference decode(ids[j..i]) − decode(ids[j..i-1]) over a short window j = i − CONTEXT
 * (O(T) decodes, not O(T²); no decoder step here looks further back than a few tokens: Strip
 * acts on the window's first token only, ByteFallback needs at most 3 earlier bytes).
 *
 * A token holding part of a multi-byte character (<0xE2> of "€", or a byte-level piece) shows
 * as U+FFFD, as it does decoded alone (in context the library folds a truncated sequence into
 * one U+FFFD, which would leave later bytes with no text); the token that completes the
 * character shows the whole character.
 */

/** Earlier tokens decoded with each token: enough for a 4-byte character split into 4 tokens. */
const CONTEXT = 4;
const REPLACEMENT = "\uFFFD";

export function sequenceTokenTexts(
  ids: readonly number[],
  decode: (ids: number[]) => string,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    const from = Math.max(0, i - CONTEXT);
    const before = i === from ? "" : decode(ids.slice(from, i));
    const upTo = decode(ids.slice(from, i + 1));
    const text = upTo.slice(commonPrefixLength(before, upTo));
    out.push(text === "" && decode([ids[i]]) === REPLACEMENT ? REPLACEMENT : text);
  }
  return out;
}

/**
 * Usually `before` is a prefix of `upTo`; when the new token completes a character whose earlier
 * bytes decoded to U+FFFD, only the common part is shared and the new token takes the rest.
 */
function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === a.length) return i;
  // back off a lone high surrogate so a character is never cut in half
  if (i > 0 && a.charCodeAt(i - 1) >= 0xd800 && a.charCodeAt(i - 1) <= 0xdbff) i--;
  return i;
}
