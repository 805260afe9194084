/**
 * Text ⇄ token ids, from an HF `tokenizer.json`, via @huggingface/tokenizers (pure JS, fetches
 * nothing). Behaviour pinned to what GPT-2 does:
 * - encode adds no special tokens (GPT-2 has no BOS); `<|endoftext|>` written in the text is
 *   matched as the added token and becomes its id (50256), as HF's GPT2TokenizerFast and tiktoken
 *   with allowed_special do.
 * - decode is the exact inverse for valid Unicode: special tokens are kept and
 *   "clean_up_tokenization_spaces" is off (the library defaults it on, which would turn " ." into
 *   "." and break decode(encode(s)) === s).
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { byteLevelGaps } from "./byte-level";
import { LoadError } from "./errors";
import { MAX_VOCAB_ENTRIES } from "./limits";

const EOS_CANDIDATES = ["<|endoftext|>"];
const MODEL_TYPES = ["BPE", "WordPiece", "Unigram"];

export class TextTokenizer {
  readonly vocabSize: number;
  readonly eosId?: number;

  private constructor(private readonly tok: Tokenizer) {
    let maxId = -1;
    for (const id of tok.get_vocab(true).values()) if (id > maxId) maxId = id;
    // Ids index the embedding matrix, so the size that matters is the largest id + 1.
    this.vocabSize = maxId + 1;
    for (const t of EOS_CANDIDATES) {
      const id = tok.token_to_id(t);
      if (id !== undefined) {
        this.eosId = id;
        break;
      }
    }
  }

  /**
   * Builds a tokenizer from the parsed (or raw string) contents of tokenizer.json. Sizes are
   * checked before the library builds anything (lib/load/limits.ts); a vocabulary that would drop
   * text silently (byte pieces missing, no unknown token) is refused.
   */
  static fromJson(json: unknown, opts: FromJsonOptions = {}): TextTokenizer {
    const file = opts.file ?? "tokenizer.json";
    let obj = json;
    if (typeof obj === "string") {
      try {
        obj = JSON.parse(obj);
      } catch (e) {
        throw new LoadError("bad_tokenizer", file, `not valid JSON (${errMsg(e)})`);
      }
    }
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
      throw new LoadError("bad_tokenizer", file, "tokenizer.json is not a JSON object");
    }
    const o = obj as Record<string, unknown>;
    const model = o.model as Record<string, unknown> | undefined;
    if (model === null || typeof model !== "object" || typeof model.vocab !== "object") {
      throw new LoadError("bad_tokenizer", file, 'tokenizer.json has no "model" with a vocab');
    }
    // Anything else falls through to the library's "Legacy" model, which does not tokenize at all.
    if (model.type !== undefined && !MODEL_TYPES.includes(model.type as string)) {
      throw new LoadError(
        "bad_tokenizer",
        file,
        `model type ${JSON.stringify(model.type)} is not supported (expected ${MODEL_TYPES.join(", ")})`,
      );
    }
    if (o.added_tokens !== undefined && !Array.isArray(o.added_tokens)) {
      throw new LoadError("bad_tokenizer", file, '"added_tokens" is not a list');
    }
    checkSizes(model, opts.maxVocab ?? MAX_VOCAB_ENTRIES, file);
    checkCoverage(o, model, file);
    let tok: Tokenizer;
    try {
      // The library iterates added_tokens unconditionally; older files may omit it.
      tok = new Tokenizer(
        { ...o, added_tokens: o.added_tokens ?? [] },
        { clean_up_tokenization_spaces: false },
      );
    } catch (e) {
      throw new LoadError("bad_tokenizer", file, `cannot build tokenizer (${errMsg(e)})`);
    }
    const t = new TextTokenizer(tok);
    if (t.vocabSize <= 0) throw new LoadError("bad_tokenizer", file, "vocabulary is empty");
    return t;
  }

  encode(text: string): number[] {
    if (text.length === 0) return [];
    const { ids, tokens } = this.tok.encode(text, { add_special_tokens: false });
    for (let i = 0; i < ids.length; i++) {
      // The library maps a piece it cannot find to unk_token's id, which may be undefined.
      if (ids[i] === undefined) throw new Error(`tokenizer has no id for piece "${tokens[i]}"`);
    }
    return ids;
  }

  decode(ids: number[]): string {
    // The library throws on an empty list; the empty sequence is the empty string.
    if (ids.length === 0) return "";
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new RangeError(`token id ${id} is outside the vocabulary [0, ${this.vocabSize})`);
      }
    }
    return this.tok.decode(ids, {
      skip_special_tokens: false,
      clean_up_tokenization_spaces: false,
    });
  }

  /**
   * The decoded text of one token, for display. A token holding part of a multi-byte character
   * (common for CJK and emoji) decodes to U+FFFD on its own.
   */
  tokenText(id: number): string {
    return this.decode([id]);
  }

  /** The raw vocabulary string of a token (byte-level form, e.g. "Ġthe"), if any. */
  tokenString(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  /** The id of a raw vocabulary string (byte-level form), if it exists. */
  tokenId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }
}

export interface FromJsonOptions {
  /** The file's name in messages. */
  file?: string;
  /** config.json's vocab_size: a vocabulary with more entries is refused before it is built. */
  maxVocab?: number;
}

/** Entry counts, before the library spends minutes on an 8M-entry vocabulary. */
function checkSizes(model: Record<string, unknown>, maxVocab: number, file: string): void {
  // Unigram lists [piece, score] pairs; BPE and WordPiece map piece → id.
  const entries = Array.isArray(model.vocab)
    ? model.vocab.length
    : Object.keys(model.vocab as object).length;
  const limit = Math.min(maxVocab, MAX_VOCAB_ENTRIES);
  if (entries > limit) {
    throw new LoadError(
      "bad_tokenizer",
      file,
      limit < MAX_VOCAB_ENTRIES
        ? `has ${entries} vocabulary entries but config.json vocab_size is ${limit}`
        : `has ${entries} vocabulary entries, more than the ${limit} accepted`,
    );
  }
  const merges = Array.isArray(model.merges) ? model.merges.length : 0;
  if (merges > MAX_VOCAB_ENTRIES) {
    throw new LoadError(
      "bad_tokenizer",
      file,
      `has ${merges} merges, more than the ${MAX_VOCAB_ENTRIES} accepted`,
    );
  }
}

/**
 * A BPE vocabulary must be able to spell any text: a byte-level one needs all 256 byte pieces,
 * any other needs an unknown token or byte fallback. Otherwise the library drops what it cannot
 * spell ("Ralkrok Stennos lives in the city of" → "R the of") and the model sees other text.
 */
function checkCoverage(
  o: Record<string, unknown>,
  model: Record<string, unknown>,
  file: string,
): void {
  if (model.type !== undefined && model.type !== "BPE") return; // WordPiece / Unigram have unk
  const vocab = model.vocab as Record<string, unknown>;
  const unk = typeof model.unk_token === "string" && model.unk_token in vocab;
  if (unk || model.byte_fallback === true) return;
  const gaps = byteLevelGaps(o.pre_tokenizer, vocab);
  if (gaps === null) {
    throw new LoadError(
      "bad_tokenizer",
      file,
      "is a BPE vocabulary without byte-level pieces, an unk_token or byte_fallback: text it cannot spell would be dropped silently",
    );
  }
  if (gaps.length > 0) {
    const shown = gaps
      .slice(0, 8)
      .map((p) => JSON.stringify(p))
      .join(", ");
    throw new LoadError(
      "bad_tokenizer",
      file,
      `its byte-level vocabulary lacks ${gaps.length} of the 256 byte pieces (${shown}${gaps.length > 8 ? ", …" : ""}) and has no unk_token: text with those bytes would be dropped silently`,
    );
  }
}

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
