/**
 * Loads a whole model folder (HF layout) from any FileSource: config.json, tokenizer.json and the
 * safetensors weights, with the checks that tie them together.
 */
import { parseModelConfig } from "./config";
import { LoadError } from "./errors";
import { type HubWeights, loadFamilyWeights } from "./family-checkpoint";
import { loadGpt2Weights } from "./gpt2-checkpoint";
import { MAX_CONFIG_BYTES, MAX_TOKENIZER_BYTES } from "./limits";
import type { ModelConfig } from "./model-config";
import { TextTokenizer } from "./tokenizer";
import type { FileSource, Gpt2Weights } from "./types";

export interface ModelFiles {
  config: ModelConfig;
  /** GPT-2's structured weights, or a rotary family's by hub name ({hub}). */
  weights: Gpt2Weights | HubWeights;
  tokenizer: TextTokenizer;
}

/** The weights of a GPT-2 model's files (a rotary family's are by hub name: a ModelError). */
export function gpt2Weights(files: Pick<ModelFiles, "config" | "weights">): Gpt2Weights {
  if ("hub" in files.weights) {
    throw new LoadError(
      "unsupported_architecture",
      "config.json",
      `this needs GPT-2 weights; the model is ${files.config.modelType}`,
    );
  }
  return files.weights;
}

/** Reads and parses config.json (any supported model_type). */
export async function readModelConfig(source: FileSource): Promise<ModelConfig> {
  const bytes = await source.read("config.json", undefined, { maxBytes: MAX_CONFIG_BYTES });
  return parseModelConfig(parseJson(bytes, "config.json", "bad_config"));
}

/** The weights of any supported family (progress in weight files). */
export function loadWeights(
  source: FileSource,
  config: ModelConfig,
  onProgress?: (done: number, total: number) => void,
): Promise<Gpt2Weights | HubWeights> {
  return config.modelType === "gpt2"
    ? loadGpt2Weights(source, config, onProgress)
    : loadFamilyWeights(source, config, onProgress);
}

/**
 * Phases reported, in order: "config", "tokenizer", "weights" (done/total in files).
 * `beforeWeights` runs once config.json is known and before any weights are read (a memory check
 * that refuses a model too large for the device throws there, before a long download).
 */
export async function loadModelFiles(
  source: FileSource,
  onProgress?: (phase: string, done: number, total: number) => void,
  beforeWeights?: (config: ModelConfig) => void | Promise<void>,
): Promise<ModelFiles> {
  // Check the small files first, so a wrong folder fails before a long weights download.
  for (const name of ["config.json", "tokenizer.json"]) {
    if (!(await source.has(name))) {
      throw new LoadError(
        "file_missing",
        name,
        `not found in ${source.label}; a model folder needs config.json, tokenizer.json and model.safetensors`,
      );
    }
  }
  onProgress?.("config", 0, 1);
  const config = await readModelConfig(source);
  onProgress?.("config", 1, 1);

  onProgress?.("tokenizer", 0, 1);
  const tokenizer = TextTokenizer.fromJson(
    parseJson(
      await source.read("tokenizer.json", undefined, { maxBytes: MAX_TOKENIZER_BYTES }),
      "tokenizer.json",
      "bad_tokenizer",
    ),
    { maxVocab: config.vocabSize },
  );
  onProgress?.("tokenizer", 1, 1);
  await beforeWeights?.(config);

  const weights = await loadWeights(source, config, (done, total) =>
    onProgress?.("weights", done, total),
  );
  return { config, weights, tokenizer };
}

function parseJson(bytes: Uint8Array, file: string, code: "bad_config" | "bad_tokenizer"): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new LoadError(code, file, `not valid JSON (${e instanceof Error ? e.message : e})`);
  }
}
