import { describe, expect, it } from "vitest";
import { LoadError } from "../lib/load/errors";
import { TextTokenizer } from "../lib/load/tokenizer";

/** A tiny byte-level BPE tokenizer.json: bytes "a", "b", " " (as "Ġ") and merges to "ab", "Ġab". */
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
      vocab: { a: 0, b: 1, Ġ: 2, ab: 3, Ġab: 4, "<|endoftext|>": 5 },
      merges: ["a b", "Ġ ab"],
      unk_token: null,
    },
    ...extra,
  };
}

function tokError(json: unknown): LoadError {
  try {
    TextTokenizer.fromJson(json, "models/x/tokenizer.json");
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
      expect(t.vocabSize).toBe(6);
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
