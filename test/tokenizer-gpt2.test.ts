/**
 * The generated GPT-2 tokenizer.json, run through TextTokenizer (@huggingface/tokenizers), must
 * encode exactly as gpt-tokenizer's r50k_base (the GPT-2 encoding, tiktoken's algorithm): the
 * oracle.
 *
 * Oracle and `<|endoftext|>`: GPT-2 (HF GPT2TokenizerFast, tiktoken with allowed_special) turns
 * `<|endoftext|>` anywhere in the text into 50256 and encodes the text around it separately.
 * gpt-tokenizer 3.4.0's own allowedSpecial path only finds a special token at the very start of
 * the text (its search regex is sticky), so the oracle below splits on the token itself and
 * encodes the pieces with gpt-tokenizer, which is what tiktoken does.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import r50kRanks from "gpt-tokenizer/bpeRanks/r50k_base";
import { encode as gptEncode } from "gpt-tokenizer/encoding/r50k_base";
import { beforeAll, describe, expect, it } from "vitest";
import { TextTokenizer } from "../lib/load/tokenizer";
import {
  bytesToUnicode,
  GPT2_EOT,
  GPT2_EOT_ID,
  makeGpt2TokenizerJson,
} from "../scripts/make-gpt2-tokenizer";

interface TokJson {
  added_tokens: { id: number; content: string; special: boolean }[];
  model: { vocab: Record<string, number>; merges: string[] };
}

let json: TokJson;
let tok: TextTokenizer;

beforeAll(() => {
  json = makeGpt2TokenizerJson() as TokJson;
  tok = TextTokenizer.fromJson(json);
});

function oracle(text: string): number[] {
  const out: number[] = [];
  text.split(GPT2_EOT).forEach((piece, i) => {
    if (i > 0) out.push(GPT2_EOT_ID);
    out.push(...gptEncode(piece));
  });
  return out;
}

function expectLikeOracle(t: TextTokenizer, s: string) {
  const ids = t.encode(s);
  expect(ids, JSON.stringify(s)).toEqual(oracle(s));
  expect(t.decode(ids), JSON.stringify(s)).toBe(s);
}

const AWKWARD: Record<string, string[]> = {
  empty: ["", " ", "  ", "\n"],
  ascii: [
    "Hello world",
    "The Eiffel Tower is located in the city of",
    "hello,world!? (yes) [no] {maybe} <tag/> a+b=c; x->y",
    "`code` ~tilde~ ^caret^ @at #hash $dollar %percent &amp *star _under_ |pipe| \\back",
  ],
  spaces: [
    " leading",
    "trailing ",
    "  two leading",
    "two trailing  ",
    "a  b   c    d",
    "     ",
    "word     ",
    "\tTab\tseparated\t",
    "line\nbreak\n\nparagraph\n\n\n",
    "windows\r\nline\r\nends\r\n",
    "  \n  \n\t\t  x",
    "mixed \u00a0nbsp\u00a0 and\u3000ideographic\u2003em space\u2028line sep",
    "vertical\vtab\fformfeed",
  ],
  contractions: [
    "it's don't we're I've I'm you'll he'd",
    "IT'S DON'T WE'RE I'VE I'M YOU'LL HE'D",
    "I'LL SHE'Ll they'Re",
    "'s 't 're 've 'm 'll 'd",
    "''s '''t rock'n'roll o'clock",
    "dogs' bones",
  ],
  numbers: [
    "0 1 12 123 1234 12345 123456789012345",
    "3.14159 -2.5e-10 1,000,000 $19.99 50%",
    "2024-01-31T23:59:59Z",
    "٣٤٥ ① ½ Ⅻ 𝟙𝟚𝟛",
  ],
  unicode: [
    "café naïve résumé Åström São Paulo Zürich",
    "e\u0301 a\u0308 n\u0303 \u0301 combining\u0300\u0301\u0302 marks",
    "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
    "日本語のテキスト、漢字とかな。",
    "中文文本，标点符号。",
    "한국어 텍스트",
    "مرحبا بالعالم",
    "שלום עולם",
    "नमस्ते दुनिया",
    "สวัสดีชาวโลก",
    "Ελληνικά Русский текст",
    "\u200b\u200c\u200d\ufeff zero widths",
    "\u0000\u0001\u001f\u007f controls",
  ],
  emoji: [
    "🙂",
    "I love 🍕 and 🍣!",
    "👍🏽👍🏿",
    "👨‍👩‍👧‍👦 family",
    "🏳️‍🌈 🏴‍☠️",
    "🇫🇷🇯🇵🇺🇸 flags",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿 subdivision flag",
    "❤️ ✔︎ keycap 1️⃣",
    "𝕳𝖊𝖑𝖑𝖔 𝓌𝑜𝓇𝓁𝒹",
  ],
  endoftext: [
    GPT2_EOT,
    `${GPT2_EOT}Hello`,
    `Hello${GPT2_EOT}`,
    `a${GPT2_EOT}b`,
    `first doc.${GPT2_EOT}Second doc.`,
    `end ${GPT2_EOT} start`,
    `${GPT2_EOT}${GPT2_EOT}`,
    "<|endoftext|",
    "<|endoftext |>",
    "<|ENDOFTEXT|>",
    "<|endofprompt|>",
    `<<|endoftext|>>`,
  ],
};

describe("generated GPT-2 tokenizer.json: structure", () => {
  it("has the hub file's shape: 50257 vocab, 50000 merges, <|endoftext|> added", () => {
    expect(Object.keys(json.model.vocab)).toHaveLength(50257);
    expect(json.model.merges).toHaveLength(50000);
    expect(json.added_tokens).toEqual([
      expect.objectContaining({ id: 50256, content: "<|endoftext|>", special: true }),
    ]);
    const id = (token: string) => json.model.vocab[token];
    expect(id("!")).toBe(0);
    expect(id("Ġ")).toBe(220); // space
    expect(id("Ċ")).toBe(198); // newline
    expect(id("Ġthe")).toBe(262);
    expect(id("Hello")).toBe(15496);
    expect(id("<|endoftext|>")).toBe(50256);
  });

  it("merges are GPT-2's merges.txt (known head and tail) and each creates rank 256 + i", () => {
    expect(json.model.merges.slice(0, 8)).toEqual([
      "Ġ t",
      "Ġ a",
      "h e",
      "i n",
      "r e",
      "o n",
      "Ġt he",
      "e r",
    ]);
    expect(json.model.merges.slice(-3)).toEqual(["ĠColl ider", "Ġinform ants", "Ġg azed"]);
    json.model.merges.forEach((m, i) => {
      const [a, b, extra] = m.split(" ");
      expect(extra).toBeUndefined();
      if (json.model.vocab[a + b] !== 256 + i) expect.fail(`merge ${i} "${m}"`);
      if (!(json.model.vocab[a] < 256 + i && json.model.vocab[b] < 256 + i)) {
        expect.fail(`merge ${i} "${m}" uses a later token`);
      }
    });
  });

  it("bytes_to_unicode is a bijection onto 256 printable characters", () => {
    const m = bytesToUnicode();
    expect(new Set(m).size).toBe(256);
    expect(m[0x20]).toBe("Ġ");
    expect(m[0x41]).toBe("A");
    expect(m.every((c) => !/\s/u.test(c))).toBe(true);
  });

  it("the script writes the same file when run as a command", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gpt2-tok-"));
    try {
      execFileSync(
        process.execPath,
        [path.resolve("node_modules/tsx/dist/cli.mjs"), "scripts/make-gpt2-tokenizer.ts", dir],
        { stdio: "pipe" },
      );
      const text = readFileSync(path.join(dir, "tokenizer.json"), "utf8");
      expect(JSON.parse(text)).toEqual(json);
      // And the file, as text, builds a working tokenizer.
      expect(TextTokenizer.fromJson(text).encode(" the")).toEqual([262]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("GPT-2 encode matches gpt-tokenizer (r50k_base)", () => {
  for (const [group, strings] of Object.entries(AWKWARD)) {
    it(group, () => {
      for (const s of strings) expectLikeOracle(tok, s);
    });
  }

  it("a long English paragraph", () => {
    const text = `Causeway is a workbench for locating and editing knowledge inside transformer
language models, entirely in the browser. A researcher types a prompt ("The Eiffel Tower is located
in the city of"), marks the subject, and watches a causal trace fill in: which hidden states, MLPs and
attention heads carry the answer. Clicking a cell applies an edit there -- rewrite a fact, steer or
ablate a head -- and the predictions update live.`;
    expectLikeOracle(tok, text);
    expect(tok.encode(text).length).toBeGreaterThan(80);
  });

  it("every vocabulary token's text, alone and after a space", () => {
    const ranks = r50kRanks as (string | number[])[];
    let checked = 0;
    const mismatches: string[] = [];
    for (const v of ranks) {
      if (typeof v !== "string") continue; // partial UTF-8: not representable as text
      for (const s of [v, ` ${v}`]) {
        const ours = tok.encode(s);
        const ref = oracle(s);
        if (ours.length !== ref.length || ours.some((id, i) => id !== ref[i])) {
          mismatches.push(JSON.stringify(s));
        }
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(49_000);
    expect(mismatches.slice(0, 10)).toEqual([]);
  });

  it("400 random strings from a seeded generator", () => {
    const rand = mulberry32(20240531);
    for (let i = 0; i < 400; i++) expectLikeOracle(tok, randomText(rand));
  });

  it("lone surrogates encode like the oracle (both see U+FFFD)", () => {
    for (const s of ["a\ud800b", "\udc00", "x \ud83d"]) {
      expect(tok.encode(s)).toEqual(oracle(s));
    }
  });

  it("the comparison can fail: a wrongly split merge is caught", () => {
    // " the" merged as "Ġ" + "the" instead of "Ġt" + "he": still a valid-looking file.
    const broken = structuredClone(json);
    broken.model.merges[6] = "Ġ the";
    const bad = TextTokenizer.fromJson(broken);
    expect(bad.encode(" the")).not.toEqual(oracle(" the"));
    expect(bad.encode(" the")).toEqual([256, 258]); // "Ġt", "he"
  });
});

describe("TextTokenizer behaviour", () => {
  it("adds no special tokens, and reports GPT-2's sizes and eos", () => {
    expect(tok.encode("hi")).toEqual([5303]);
    expect(tok.vocabSize).toBe(50257);
    expect(tok.eosId).toBe(50256);
  });

  it("<|endoftext|> in text is id 50256, as gpt-tokenizer gives at the start of text", () => {
    const s = `${GPT2_EOT}Hello world`;
    expect(tok.encode(s)).toEqual(gptEncode(s, { allowedSpecial: "all" }));
    expect(tok.encode(`x ${GPT2_EOT} y`)).toEqual([87, 220, 50256, 331]);
  });

  it("decode: empty list, special tokens kept, no space clean-up", () => {
    expect(tok.decode([])).toBe("");
    expect(tok.decode([50256])).toBe(GPT2_EOT);
    const s = "Hello , world . It 's n't ?";
    expect(tok.decode(tok.encode(s))).toBe(s);
  });

  it("decode rejects ids outside the vocabulary", () => {
    expect(() => tok.decode([50257])).toThrow(RangeError);
    expect(() => tok.decode([-1])).toThrow(RangeError);
    expect(() => tok.decode([1.5])).toThrow(RangeError);
  });

  it("tokenText shows one token's text; partial UTF-8 bytes show as U+FFFD", () => {
    expect(tok.tokenText(262)).toBe(" the");
    expect(tok.tokenText(198)).toBe("\n");
    expect(tok.tokenText(50256)).toBe(GPT2_EOT);
    const [first] = tok.encode("世"); // 3 UTF-8 bytes over 2 tokens
    expect(tok.encode("世").length).toBeGreaterThan(1);
    expect(tok.tokenText(first)).toBe("\ufffd");
    expect(tok.tokenString(262)).toBe("Ġthe");
    expect(tok.tokenId("Ġthe")).toBe(262);
  });
});

// ---- seeded random text -------------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  "the",
  "The",
  " of",
  "and",
  "Tower",
  "Paris",
  "located",
  "ing",
  "tion",
  "un",
  "re",
  "x",
  "Q",
  "'s",
  "'t",
  "'re",
  "'ve",
  "'m",
  "'ll",
  "'d",
  "'LL",
  "'S",
  "'",
  '"',
  "''",
  "0",
  "7",
  "42",
  "1999",
  "3.5",
  "-",
  ".",
  ",",
  "!",
  "?",
  "...",
  ";",
  ":",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  "<",
  ">",
  "/",
  "\\",
  "|",
  "_",
  "*",
  "#",
  "@",
  "&",
  "%",
  "$",
  "€",
  "£",
  "¥",
  "©",
  " ",
  "  ",
  "   ",
  "\n",
  "\n\n",
  "\t",
  "\r\n",
  "\u00a0",
  "\u3000",
  "\u2009",
  "\u200b",
  "\u0085",
  "é",
  "ñ",
  "ü",
  "Å",
  "ß",
  "ø",
  "œ",
  "e\u0301",
  "\u0301",
  "\u0308\u0323",
  "日本",
  "語",
  "中文",
  "한국어",
  "ー",
  "。",
  "、",
  "مرحبا",
  "ب",
  "שלום",
  "नमस्ते",
  "ไทย",
  "Ж",
  "λ",
  "🙂",
  "🍕",
  "👍🏽",
  "👨‍👩‍👧",
  "‍",
  "🏳️‍🌈",
  "🇫🇷",
  "🇯",
  "️",
  "⃣",
  "𝕳",
  "🀄",
  GPT2_EOT,
  "<|",
  "|>",
  "endoftext",
];

function randomText(rand: () => number): string {
  const n = Math.floor(rand() * 24);
  let s = "";
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.75) {
      s += PIECES[Math.floor(rand() * PIECES.length)];
    } else if (r < 0.9) {
      // Any BMP code point except surrogates.
      let cp = Math.floor(rand() * 0xffff);
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x20 + (cp % 0x5f);
      s += String.fromCodePoint(cp);
    } else {
      s += String.fromCodePoint(0x10000 + Math.floor(rand() * 0x100000)); // astral
    }
  }
  return s;
}
