/**
 * Text ⇄ token ids, from an HF `tokenizer.json`, via @huggingface/tokenizers (pure JS, fetches
 * nothing): byte-level BPE (GPT-2, Llama 3, Qwen2, Pythia), SentencePiece-style "▁" BPE with
 * byte fallback (Llama 2, Mistral, TinyLlama), WordPiece, Unigram.
 * - encode(prompt) is what the model reads: the ids the file's post-processor puts before the
 *   text (Llama's BOS; none for GPT-2) and then the text's ids. encodeContinuation(text) is text
 *   that follows a prompt (a target, an answer): no BOS. Ids a post-processor would put after
 *   the text (an EOS) are left off: a prompt is continued, not ended.
 * - `<|endoftext|>` written in the text is matched as the added token and becomes its id
 *   (50256), as HF's GPT2TokenizerFast and tiktoken with allowed_special do.
 * - decode is the exact inverse for valid Unicode: special tokens are kept and
 *   "clean_up_tokenization_spaces" is off (the library defaults it on, which would turn " ." into
 *   "." and break decode(encode(s)) === s).
 */
import { Tokenizer } from "@huggingface/tokenizers";
import { byteLevelGaps } from "./byte-level";
import { LoadError } from "./errors";
import { MAX_VOCAB_ENTRIES } from "./limits";
import { sequenceTokenTexts } from "./token-texts";

const EOS_CANDIDATES = ["<|endoftext|>"];
const MODEL_TYPES = ["BPE", "WordPiece", "Unigram"];

export class TextTokenizer {
  readonly vocabSize: number;
  readonly eosId?: number;
  /** Ids put before every prompt: [BOS] for Llama, [] for GPT-2. */
  readonly prefixIds: readonly number[];
  private readonly specialIds: ReadonlySet<number>;

  private constructor(
    private readonly tok: Tokenizer,
    addBos: AddBos,
  ) {
    this.specialIds = new Set(
      [...tok.get_added_tokens_decoder()].filter(([, t]) => t.special).map(([id]) => id),
    );
    this.prefixIds = addBos === "file" ? postProcessorPrefix(tok) : addBos;
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
    const t = new TextTokenizer(tok, bosSetting(tok, opts, file));
    if (t.vocabSize <= 0) throw new LoadError("bad_tokenizer", file, "vocabulary is empty");
    return t;
  }

  /** A prompt's ids as the model reads them: prefixIds (BOS) then the text's. "" → []. */
  encode(text: string): number[] {
    if (text.length === 0) return [];
    return [...this.prefixIds, ...this.encodeContinuation(text)];
  }

  /** The ids of text that follows a prompt (a target, an answer): no BOS. */
  encodeContinuation(text: string): number[] {
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
    for (const id of ids) this.checkId(id);
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

  /**
   * Display texts of a sequence, one per token, that join to its decoded text: each token as the
   * decoder renders it in context (lib/load/token-texts.ts), so SentencePiece "▁" tokens keep
   * their spaces.
   */
  tokenTexts(ids: readonly number[]): string[] {
    for (const id of ids) this.checkId(id);
    return sequenceTokenTexts(ids, (part) => this.decode(part));
  }

  /** A special added token (BOS, EOS, `<|endoftext|>`): not part of the prompt's text. */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** The raw vocabulary string of a token (byte-level form, e.g. "Ġthe"), if any. */
  tokenString(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  /** The id of a raw vocabulary string (byte-level form), if it exists. */
  tokenId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new RangeError(`token id ${id} is outside the vocabulary [0, ${this.vocabSize})`);
    }
  }
}

/** "file": as tokenizer.json's post-processor says; otherwise the prefix ids to use. */
type AddBos = "file" | readonly number[];

/**
 * The ids the post-processor (TemplateProcessing, also inside a Sequence) puts before a text,
 * found by asking the library to encode a probe with and without special tokens.
 */
function postProcessorPrefix(tok: Tokenizer): number[] {
  const probe = "a b";
  const plain = tok.encode(probe, { add_special_tokens: false }).ids;
  const full = tok.encode(probe, { add_special_tokens: true }).ids;
  for (let at = 0; at + plain.length <= full.length; at++) {
    if (plain.every((id, i) => full[at + i] === id)) return full.slice(0, at);
  }
  return [];
}

/**
 * tokenizer_config.json's add_bos_token overrides the file (transformers rebuilds the
 * post-processor from it): true adds bos_token when the file adds nothing, false adds nothing.
 */
function bosSetting(tok: Tokenizer, opts: FromJsonOptions, file: string): AddBos {
  if (opts.addBosToken === undefined) return "file";
  if (!opts.addBosToken) return [];
  const fromFile = postProcessorPrefix(tok);
  if (fromFile.length > 0) return fromFile;
  const id = opts.bosToken === undefined ? undefined : tok.token_to_id(opts.bosToken);
  if (id === undefined) {
    throw new LoadError(
      "bad_tokenizer",
      file,
      `add_bos_token is true but the bos_token ${JSON.stringify(opts.bosToken ?? null)} is not in the vocabulary`,
    );
  }
  return [id];
}

export interface FromJsonOptions {
  /** The file's name in messages. */
  file?: string;
  /** config.json's vocab_size: a vocabulary with more entries is refused before it is built. */
  maxVocab?: number;
  /** tokenizer_config.json's add_bos_token; unset: as tokenizer.json's post-processor says. */
  addBosToken?: boolean;
  /** tokenizer_config.json's bos_token (its content), used with addBosToken. */
  bosToken?: string;
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
