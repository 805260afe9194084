/**
 * GPT-2's byte-level alphabet: each of the 256 bytes as the printable character byte-level BPE
 * vocabularies spell it with (printable Latin-1 as itself, the rest shifted past U+0100, so the
 * space is "Ġ"). The same table as HF tokenizers' `bytes_char`.
 */
let ALPHABET: string[] | undefined;

export function byteLevelAlphabet(): string[] {
  if (ALPHABET) return ALPHABET;
  const kept = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
  const out: string[] = [];
  let shifted = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCharCode(kept(b) ? b : 256 + shifted++));
  ALPHABET = out;
  return out;
}

function isByteLevel(preTokenizer: unknown): boolean {
  if (preTokenizer === null || typeof preTokenizer !== "object") return false;
  const p = preTokenizer as { type?: unknown; pretokenizers?: unknown };
  if (p.type === "ByteLevel") return true;
  return (
    p.type === "Sequence" && Array.isArray(p.pretokenizers) && p.pretokenizers.some(isByteLevel)
  );
}

/**
 * The byte pieces a byte-level vocabulary lacks ([] when it has all 256), or null when the
 * tokenizer is not byte-level (its pre-tokenizer has no ByteLevel step).
 */
export function byteLevelGaps(
  preTokenizer: unknown,
  vocab: Record<string, unknown>,
): string[] | null {
  if (!isByteLevel(preTokenizer)) return null;
  return byteLevelAlphabet().filter((c) => !(c in vocab));
}
