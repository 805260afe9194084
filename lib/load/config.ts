/**
 * Reads an HF `config.json` into a ModelConfig, dispatching on `model_type`: gpt2 (gpt2,
 * distilgpt2, gpt2-medium/-large/-xl and models trained with the same architecture, read here),
 * llama / mistral / qwen2 / gpt_neox (./family-config.ts). Anything else is refused by name.
 */
import { isObj } from "../edit/parse-checker";
import { LoadError } from "./errors";
import { FAMILY_TYPES, parseFamilyConfig } from "./family-config";
import { CONFIG_BOUNDS, MAX_PARAMS } from "./limits";
import { paramCount } from "./memory-estimate";
import type { ModelConfig } from "./model-config";
import type { Gpt2Config } from "./types";

const DTYPES = ["float32", "float16", "bfloat16"] as const;

/** Refuses a model over MAX_PARAMS before anything is sized from it. */
function checkParams(config: ModelConfig, file: string): void {
  const params = paramCount(config);
  if (params > MAX_PARAMS) {
    throw new LoadError(
      "bad_config",
      file,
      `describes a model of ${params.toExponential(2)} parameters, more than the ${MAX_PARAMS.toExponential(2)} accepted`,
    );
  }
}

/**
 * Any supported config.json: GPT-2 when model_type is "gpt2" (or absent, with GPT-2
 * architectures, as old configs have it), else the rotary families. Refuses a model over
 * MAX_PARAMS before anything is sized from it.
 */
export function parseModelConfig(json: unknown, file = "config.json"): ModelConfig {
  const raw = isObj(json) ? json : null;
  const type = raw?.model_type;
  const rotary = (FAMILY_TYPES as readonly unknown[]).includes(type);
  const config: ModelConfig = rotary ? parseFamilyConfig(json) : parseGpt2Config(json, file);
  if (rotary) checkParams(config, file); // (parseGpt2Config checks its own)
  const r = raw as Record<string, unknown>;
  const dtype = r.torch_dtype ?? r.dtype;
  return (DTYPES as readonly unknown[]).includes(dtype)
    ? { ...config, torchDtype: dtype as ModelConfig["torchDtype"] }
    : config;
}

const GPT2_ARCHITECTURES = ["GPT2LMHeadModel", "GPT2Model"];
const ACTIVATIONS: readonly Gpt2Config["activation"][] = ["gelu_new", "gelu", "gelu_pytorch_tanh"];

export function parseGpt2Config(json: unknown, file = "config.json"): Gpt2Config {
  if (!isObj(json)) {
    throw new LoadError("bad_config", file, "config is not a JSON object");
  }
  const c = json as Record<string, unknown>;
  const unsupported = (what: string) =>
    new LoadError(
      "unsupported_architecture",
      file,
      `${what}; supported: model_type "gpt2" (GPT2LMHeadModel: gpt2, distilgpt2, gpt2-medium/-large/-xl and models trained with that architecture), ${FAMILY_TYPES.map((t) => `"${t}"`).join(", ")}`,
    );

  const modelType = c.model_type;
  const archs = c.architectures;
  if (modelType !== undefined && modelType !== "gpt2") {
    throw unsupported(`model_type is ${JSON.stringify(modelType)}`);
  }
  if (archs !== undefined && archs !== null) {
    if (!Array.isArray(archs) || !archs.some((a) => GPT2_ARCHITECTURES.includes(a as string))) {
      throw unsupported(`architectures is ${JSON.stringify(archs)}`);
    }
  }
  if (modelType === undefined && (archs === undefined || archs === null)) {
    throw new LoadError(
      "bad_config",
      file,
      'config has neither model_type nor architectures, so it cannot be identified as GPT-2 (expected model_type "gpt2")',
    );
  }
  // GPT2Config switches that change the computation; the runtime implements only the defaults,
  // so refusing is better than computing different numbers silently.
  if (c.scale_attn_weights === false) throw unsupported("scale_attn_weights = false");
  if (c.scale_attn_by_inverse_layer_idx === true) {
    throw unsupported("scale_attn_by_inverse_layer_idx = true");
  }
  if (c.add_cross_attention === true) throw unsupported("add_cross_attention = true");

  const int = (key: keyof typeof CONFIG_BOUNDS, value: unknown = c[key]): number => {
    if (value === undefined || value === null) {
      throw new LoadError("bad_config", file, `${key} is missing`);
    }
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
      throw new LoadError(
        "bad_config",
        file,
        `${key} must be a positive integer, got ${JSON.stringify(value)}`,
      );
    }
    // Checked before anything is sized from it: n_layer 1e9 would otherwise run for minutes.
    if (value > CONFIG_BOUNDS[key]) {
      throw new LoadError(
        "bad_config",
        file,
        `${key} is ${value}, more than the ${CONFIG_BOUNDS[key]} accepted`,
      );
    }
    return value;
  };

  const nLayer = int("n_layer");
  const nHead = int("n_head");
  const dModel = int("n_embd");
  const vocabSize = int("vocab_size");
  // Old configs carry both n_ctx and n_positions (equal); some only n_ctx.
  const nCtx =
    c.n_positions !== undefined && c.n_positions !== null
      ? int("n_positions")
      : c.n_ctx !== undefined && c.n_ctx !== null
        ? int("n_ctx")
        : int("n_positions");
  const dMlp = c.n_inner === undefined || c.n_inner === null ? 4 * dModel : int("n_inner");
  if (dModel % nHead !== 0) {
    throw new LoadError(
      "bad_config",
      file,
      `n_embd (${dModel}) is not divisible by n_head (${nHead})`,
    );
  }

  // HF's GPT2Config defaults apply when these are absent, as they do in transformers.
  const eps = c.layer_norm_epsilon ?? 1e-5;
  if (typeof eps !== "number" || !(eps > 0) || !Number.isFinite(eps)) {
    throw new LoadError(
      "bad_config",
      file,
      `layer_norm_epsilon must be a positive number, got ${JSON.stringify(eps)}`,
    );
  }
  const act = c.activation_function ?? "gelu_new";
  if (!ACTIVATIONS.includes(act as Gpt2Config["activation"])) {
    throw new LoadError(
      "bad_config",
      file,
      `activation_function ${JSON.stringify(act)} is not supported (expected one of ${ACTIVATIONS.join(", ")})`,
    );
  }

  const config: Gpt2Config = {
    modelType: "gpt2",
    nLayer,
    nHead,
    dModel,
    dMlp,
    nCtx,
    vocabSize,
    layerNormEps: eps,
    activation: act as Gpt2Config["activation"],
  };
  checkParams(config, file);
  return config;
}
