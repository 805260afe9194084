import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { byteLevelAlphabet } from "../lib/load/byte-level";
import { LoadError } from "../lib/load/errors";
import { MAX_VOCAB_ENTRIES } from "../lib/load/limits";
import { TextTokenizer } from "../lib/load/tokenizer";

/** The other 253 byte pieces, ids 6…258, so any text can be spelt. */
function withAlphabet(vocab: Record<string, number>): Record<string, number> {
  const out = { ...vocab };
  for (const c of byteLevelAlphabet()) if (!(c in out)) out[c] = Object.keys(out).length;
  return out;
}

/**
 * A tiny byte-level BPE tokenizer.json: bytes "a", "b", " " (as "Ġ") first, merges to "ab",
 * "Ġab", eos, then the rest of the byte alphabet.
 */
function tiny(extra: Record<string, unknown> = {}) {
  return {
    version: "1.0",
    added_tokens: [{ id: 5, content: "<|endoftext|>", special: true, normalized: true }],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, use_regex: true },
    post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false },
    decoder: { type: "ByteLevel" },
    model: {
      type: "BPE",
      vocab: withAlphabet({ a: 0, b: 1, Ġ: 2, ab: 3, Ġab: 4, "<|endoftext|>": 5 }),
      merges: ["a b", "Ġ ab"],
      unk_token: null,
    },
    ...extra,
  };
}

function tokError(json: unknown): LoadError {
  try {
    TextTokenizer.fromJson(json, { file: "models/x/tokenizer.json" });
  } catch (e) {
    if (e instanceof LoadError) return e;
    throw e;
  }
  throw new Error("expected a LoadError");
}

describe("TextTokenizer.fromJson", () => {
  it("builds from an object or from the file's text", () => {
    for (const src of [tiny(), JSON.stringify(tiny())]) {
      const t = TextTokenizer.fromJson(src);
      expect(t.encode("ab ab")).toEqual([3, 4]);
      expect(t.encode("ab<|endoftext|>ba")).toEqual([3, 5, 1, 0]);
      expect(t.decode([3, 4, 5])).toBe("ab ab<|endoftext|>");
      expect(t.vocabSize).toBe(259);
      expect(t.eosId).toBe(5);
    }
  });

  it("accepts merges in the newer [left, right] pair form", () => {
    const json = tiny();
    json.model.merges = [
      ["a", "b"],
      ["Ġ", "ab"],
    ] as unknown as string[];
    expect(TextTokenizer.fromJson(json).encode(" ab")).toEqual([4]);
  });

  it("tolerates a missing added_tokens list (then there is no eos)", () => {
    const { added_tokens: _, ...rest } = tiny();
    const t = TextTokenizer.fromJson(rest);
    expect(t.encode("ab")).toEqual([3]);
  });

  it.each([
    ["invalid JSON text", '{"model": {'],
    ["null", null],
    ["a number", 42],
    ["a list", [tiny()]],
    ["no model", { ...tiny(), model: undefined }],
    ["a model without vocab", { ...tiny(), model: { type: "BPE", merges: [] } }],
    ["added_tokens not a list", tiny({ added_tokens: { id: 5 } })],
    ["an unknown model type", tiny({ model: { type: "Mystery", vocab: {} } })],
    ["an unknown pre-tokenizer", tiny({ pre_tokenizer: { type: "Mystery" } })],
    [
      "an empty vocabulary",
      tiny({ added_tokens: [], model: { type: "BPE", vocab: {}, merges: [] } }),
    ],
  ])("bad_tokenizer: %s", (_n, json) => {
    const e = tokError(json);
    expect(e.code).toBe("bad_tokenizer");
    expect(e.message).toContain("models/x/tokenizer.json");
  });
});

describe("a vocabulary that cannot spell every text is refused (issue 10.15)", () => {
  const bundled = () =>
    JSON.parse(readFileSync("public/models/tiny-facts/tokenizer.json", "utf8")) as {
      model: { vocab: Record<string, number>; unk_token?: string | null };
    };

  it("the bundled tokenizer spells the prompt exactly", () => {
    const t = TextTokenizer.fromJson(bundled());
    const text = "Ralkrok Stennos lives in the city of";
    expect(t.decode(t.encode(text))).toBe(text);
  });

  it("without some byte pieces (and no unk_token) it is refused, naming them", () => {
    // Before the check the library silently dropped what it could not spell:
    // "Ralkrok Stennos lives in the city of" → "R the of".
    const json = bundled();
    for (const c of "aklS") delete json.model.vocab[c];
    const e = tokError(json);
    expect(e.code).toBe("bad_tokenizer");
    expect(e.message).toMatch(/lacks 4 of the 256 byte pieces \("S", "a", "k", "l"\)/);
    expect(e.message).toContain("dropped silently");
  });

  it("with an unk_token in its vocabulary the same gaps are accepted", () => {
    const json = bundled();
    for (const c of "aklS") delete json.model.vocab[c];
    json.model.unk_token = "<|endoftext|>";
    expect(() => TextTokenizer.fromJson(json)).not.toThrow();
  });

  it("a BPE that is not byte-level needs an unk_token or byte_fallback", () => {
    const e = tokError(tiny({ pre_tokenizer: { type: "Whitespace" } }));
    expect(e.message).toContain("without byte-level pieces, an unk_token or byte_fallback");
  });
});

describe("tokenizer sizes are bounded before it is built (issue 10.14)", () => {
  it("more vocabulary entries than config.json's vocab_size", () => {
    const e = (() => {
      try {
        TextTokenizer.fromJson(tiny(), { maxVocab: 100 });
      } catch (err) {
        return err as LoadError;
      }
      throw new Error("expected a LoadError");
    })();
    expect(e.code).toBe("bad_tokenizer");
    expect(e.message).toContain("has 259 vocabulary entries but config.json vocab_size is 100");
  });

  it(`more than ${MAX_VOCAB_ENTRIES} entries is refused at once, whatever the config`, () => {
    // A Unigram vocabulary is a list of [piece, score]: cheap to make this long in a test.
    const vocab = new Array(MAX_VOCAB_ENTRIES + 1).fill(["x", 0]);
    const e = tokError(tiny({ model: { type: "Unigram", vocab, unk_id: 0 } }));
    expect(e.message).toContain(`more than the ${MAX_VOCAB_ENTRIES} accepted`);
  });
});
