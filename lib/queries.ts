/**
 * Small model queries beside the sweeps, shared by the worker and the CLI: the top next tokens of
 * a prompt given as ids, one head's attention pattern, and an engine over an edited model.
 * Reading is always `await tensor.data()` (never dataSync, which breaks WebGPU under
 * SwiftShader); every tensor made here is disposed before the promise settles.
 */
import * as tf from "@tensorflow/tfjs";
import type { EditedModel } from "./edit/apply";
import { Engine } from "./engine";
import { CodedError } from "./errors";
import type { Gpt2Model } from "./model/gpt2";
import { blockHook } from "./model/hooks";

export type QueryErrorCode = "bad_request" | "empty_prompt" | "too_long";

/** A query refused before any work, with a code for the UI. */
export class QueryError extends CodedError<QueryErrorCode> {
  override readonly name = "QueryError";
}

/** The k most likely next token ids after `ids`, most likely first. */
export async function topIds(
  engine: { model: Gpt2Model },
  ids: number[],
  k: number,
): Promise<number[]> {
  const V = engine.model.config.vocabSize;
  const top = tf.tidy(() => {
    const { logits } = engine.model.forward({ inputIds: [ids], logitPositions: "last" });
    return tf.topk(logits.reshape([V]), Math.min(k, V), true).indices; // [k]
  });
  try {
    return Array.from(await top.data());
  } finally {
    top.dispose();
  }
}

export interface AttentionPattern {
  tokens: string[];
  /** [query][key] row-major, T × T; row q sums to 1 over keys 0 … q. */
  pattern: Float32Array;
}

/** Head `head` of layer `layer`: blocks.{layer}.attn.hook_pattern on `prompt` (one forward pass). */
export async function attentionPattern(
  engine: Engine,
  prompt: string,
  layer: number,
  head: number,
): Promise<AttentionPattern> {
  const { nLayer, nHead, nCtx } = engine.model.config;
  if (!Number.isInteger(layer) || layer < 0 || layer >= nLayer) {
    throw new QueryError("bad_request", `layer must be an integer from 0 to ${nLayer - 1}`);
  }
  if (!Number.isInteger(head) || head < 0 || head >= nHead) {
    throw new QueryError("bad_request", `head must be an integer from 0 to ${nHead - 1}`);
  }
  const { ids, tokens } = engine.tokenize(prompt);
  if (ids.length === 0) throw new QueryError("empty_prompt", "the prompt is empty");
  if (ids.length > nCtx) {
    throw new QueryError(
      "too_long",
      `the prompt has ${ids.length} tokens; the model's context is ${nCtx}`,
    );
  }
  const T = ids.length;
  const hook = blockHook(layer, "attn.hook_pattern");
  const one = tf.tidy(() => {
    const { logits, activations } = engine.model.forward({
      inputIds: [ids],
      record: [hook],
      logitPositions: "last",
    });
    logits.dispose();
    const pat = activations.get(hook)!; // [1, H, T, T]
    return pat.slice([0, head, 0, 0], [1, 1, T, T]).reshape([T * T]); // [T·T]
  });
  try {
    const data = await one.data();
    return { tokens, pattern: Float32Array.from(data) };
  } finally {
    one.dispose();
  }
}

/**
 * An engine over the edited model for one prompt's length (edited.view(T): intervention edits
 * at "last" act at T − 1), sharing the engine's tokenizer and weights; never dispose it. A
 * prompt that is empty or too long gets the plain engine, which refuses it with its own error.
 */
export function editedEngine(engine: Engine, edited: EditedModel, prompt: string): Engine {
  const T = engine.tokenize(prompt).ids.length;
  if (T === 0 || T > engine.model.config.nCtx) return engine;
  return Engine.fromModel(engine.info.name, edited.view(T), engine.tokenizer);
}
