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
import { LoadError } from "./errors";

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

  /** Builds a tokenizer from the parsed (or raw string) contents of tokenizer.json. */
  static fromJson(json: unknown, file = "tokenizer.json"): TextTokenizer {
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

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
