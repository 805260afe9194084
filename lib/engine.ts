/**
 * A loaded model with its tokenizer: what the worker and the CLI hold. Text in, next-token
 * probabilities out; every tensor it makes is disposed before a call returns (reading is
 * `await tensor.data()`, never dataSync, which breaks WebGPU under SwiftShader).
 */
import * as tf from "@tensorflow/tfjs";
import { CodedError } from "./errors";
import { maxPromptChars } from "./load/limits";
import { loadModelFiles } from "./load/model-files";
import type { FileSource } from "./load/types";
import { Gpt2Model } from "./model/gpt2";
import type { ModelInfo, Prediction } from "./protocol";

export type EngineErrorCode = "empty_prompt" | "prompt_too_long" | "bad_argument";

/** A request the engine refuses, with a one-line message fit to show a user. */
export class EngineError extends CodedError<EngineErrorCode> {
  override readonly name = "EngineError";
}

/** What the engine needs of a tokenizer (lib/load/tokenizer.ts TextTokenizer has it). */
export interface EngineTokenizer {
  readonly vocabSize: number;
  encode(text: string): number[];
  decode(ids: number[]): string;
  /** The text of one token, spaces kept. */
  tokenText(id: number): string;
  /** One text per token of a sequence, decoded in context (SentencePiece "▁" spaces kept). */
  tokenTexts?(ids: readonly number[]): string[];
}

export type ProgressFn = (phase: string, done: number, total: number) => void;

export class Engine {
  private constructor(
    readonly info: ModelInfo,
    readonly model: Gpt2Model,
    readonly tokenizer: EngineTokenizer,
  ) {}

  /**
   * Reads config, tokenizer and weights from `source` and uploads the weights to the current
   * tfjs backend (select it first). Phases: "config", "tokenizer", "weights", "upload".
   */
  static async load(source: FileSource, name: string, onProgress?: ProgressFn): Promise<Engine> {
    const files = await loadModelFiles(source, onProgress);
    onProgress?.("upload", 0, 1);
    const model = Gpt2Model.fromWeights(files.config, files.weights);
    onProgress?.("upload", 1, 1);
    return Engine.fromModel(name, model, files.tokenizer);
  }

  /** An engine over a model already built (tests, generated models). Takes ownership of it. */
  static fromModel(name: string, model: Gpt2Model, tokenizer: EngineTokenizer): Engine {
    return new Engine({ name, config: model.config, nParams: model.nParams }, model, tokenizer);
  }

  /**
   * A prompt's tokens. A text too long to fit the context whatever its tokens is refused before
   * it is tokenized (lib/load/limits.ts maxPromptChars): 10M characters took 40 s to find out.
   */
  tokenize(text: string): { ids: number[]; tokens: string[] } {
    const nCtx = this.model.config.nCtx;
    if (text.length > maxPromptChars(nCtx)) {
      throw new EngineError(
        "prompt_too_long",
        `The prompt has ${text.length.toLocaleString("en-US")} characters, more than the ${maxPromptChars(nCtx).toLocaleString("en-US")} that can fit the model's context of ${nCtx} tokens.`,
      );
    }
    const ids = this.tokenizer.encode(text);
    return { ids, tokens: this.tokenTexts(ids) };
  }

  /** The token strip's labels: each token decoded in context (lib/load/token-texts.ts). */
  tokenTexts(ids: readonly number[]): string[] {
    const V = this.tokenizer.vocabSize;
    if (this.tokenizer.tokenTexts && ids.every((id) => id < V))
      return this.tokenizer.tokenTexts(ids);
    return ids.map((id) => this.tokenText(id));
  }

  /**
   * A token's text. A model's vocabulary may be padded past the tokenizer's (vocab_size rounded
   * up); such ids have no text and show as "<id N>".
   */
  tokenText(id: number): string {
    return id < this.tokenizer.vocabSize ? this.tokenizer.tokenText(id) : `<id ${id}>`;
  }

  /** The topK most likely next tokens after `prompt`, most likely first. */
  async predict(prompt: string, topK: number): Promise<Prediction> {
    const V = this.model.config.vocabSize;
    if (!Number.isInteger(topK) || topK < 1 || topK > V) {
      throw new EngineError("bad_argument", `topK must be an integer from 1 to ${V}, got ${topK}`);
    }
    const { ids, tokens } = this.tokenize(prompt);
    if (ids.length === 0) {
      throw new EngineError("empty_prompt", "The prompt is empty: type some text to continue.");
    }
    const nCtx = this.model.config.nCtx;
    if (ids.length > nCtx) {
      throw new EngineError(
        "prompt_too_long",
        `The prompt has ${ids.length} tokens, longer than the model's context of ${nCtx} tokens.`,
      );
    }
    const { values, indices } = tf.tidy(() => {
      const { logits } = this.model.forward({ inputIds: [ids], logitPositions: "last" });
      const probs = tf.softmax(logits.reshape([V])); // [V]
      return tf.topk(probs, topK, true);
    });
    try {
      const [p, top] = await Promise.all([values.data(), indices.data()]);
      return {
        inputIds: ids,
        inputTokens: tokens,
        top: Array.from(top, (id, i) => ({ id, token: this.tokenText(id), prob: p[i] })),
      };
    } finally {
      tf.dispose([values, indices]);
    }
  }

  /** Tensors alive in the tfjs engine (weights included): lets callers and tests catch leaks. */
  tensorsInUse(): number {
    return tf.memory().numTensors;
  }

  dispose(): void {
    this.model.dispose();
  }
}
