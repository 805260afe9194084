/**
 * Reads HF config.json for the Llama family (`llama`, `mistral`, `qwen2`) and GPT-NeoX
 * (`gpt_neox`, Pythia) into a ModelConfig. Anything this runtime would compute differently
 * from transformers is refused with a one-line LoadError naming the field: rope_scaling other
 * than linear / llama3, a sliding window that can take effect, a GQA ratio that does not
 * divide, an activation or bias option it does not implement. GPT-2 is read by ./config.ts.
 */
import { isObj } from "../edit/parse-checker";
import { LoadError } from "./errors";
import { CONFIG_BOUNDS } from "./limits";
import type { ModelConfig, RopeConfig } from "./model-config";

const FILE = "config.json";
const LLAMA_TYPES = ["llama", "mistral", "qwen2"] as const;
/** The model_types read here. */
export const FAMILY_TYPES = [...LLAMA_TYPES, "gpt_neox"] as const;

function bad(detail: string): LoadError {
  return new LoadError("bad_config", FILE, detail);
}

/** Typed access to config.json's fields; every failure names the field. */
class Fields {
  constructor(
    private readonly raw: Record<string, unknown>,
    /** Prepended to field names in messages, e.g. "rope_scaling.". */
    private readonly prefix = "",
  ) {}

  has(name: string): boolean {
    return this.raw[name] !== undefined && this.raw[name] !== null;
  }

  get(name: string): unknown {
    return this.raw[name];
  }

  /** A positive integer; `max` refuses sizes nothing should be allocated from (n_layer 1e9). */
  int(name: string, fallback?: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.has(name) ? this.raw[name] : fallback;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) {
      throw bad(
        `${this.prefix}${name} is ${JSON.stringify(this.raw[name])}, expected a positive integer`,
      );
    }
    if (v > max) throw bad(`${this.prefix}${name} is ${v}, more than the ${max} accepted`);
    return v;
  }

  num(name: string, fallback: number): number {
    const v = this.has(name) ? this.raw[name] : fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      throw bad(
        `${this.prefix}${name} is ${JSON.stringify(this.raw[name])}, expected a positive number`,
      );
    }
    return v;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.has(name) ? this.raw[name] : fallback;
    if (typeof v !== "boolean")
      throw bad(`${this.prefix}${name} is ${JSON.stringify(v)}, expected true or false`);
    return v;
  }
}

export function parseFamilyConfig(json: unknown): ModelConfig {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw bad("is not a JSON object");
  }
  const f = new Fields(json as Record<string, unknown>);
  const type = f.get("model_type");
  if (type === "gpt_neox") return parseNeox(f);
  if ((LLAMA_TYPES as readonly unknown[]).includes(type)) return parseLlama(f, type as LlamaType);
  throw new LoadError(
    "unsupported_architecture",
    FILE,
    `model_type ${JSON.stringify(type)} is not supported here (${[...LLAMA_TYPES, "gpt_neox"].join(", ")})`,
  );
}

type LlamaType = (typeof LLAMA_TYPES)[number];

function parseLlama(f: Fields, modelType: LlamaType): ModelConfig {
  const act = f.get("hidden_act") ?? "silu";
  if (act !== "silu") throw bad(`hidden_act ${JSON.stringify(act)} is not supported (silu)`);
  if (f.bool("mlp_bias", false)) throw bad("mlp_bias true is not supported");
  refuseSlidingWindow(f, modelType);
  const nHead = f.int("num_attention_heads", undefined, CONFIG_BOUNDS.n_head);
  const nKvHead = f.int("num_key_value_heads", nHead);
  if (nHead % nKvHead !== 0) {
    throw bad(`num_key_value_heads ${nKvHead} does not divide num_attention_heads ${nHead}`);
  }
  const dModel = f.int("hidden_size", undefined, CONFIG_BOUNDS.n_embd);
  const headDim = f.has("head_dim") ? f.int("head_dim") : wholeHeads(dModel, nHead);
  const attnBias = modelType === "llama" && f.bool("attention_bias", false);
  return {
    modelType,
    ...common(f, dModel, nHead, headDim, headDim, "rms_norm_eps", 1e-6),
    activation: "silu",
    nKvHead,
    qkvBias: modelType === "qwen2" || attnBias,
    oBias: attnBias,
    parallelResidual: false,
  };
}

function parseNeox(f: Fields): ModelConfig {
  const act = f.get("hidden_act") ?? "gelu";
  if (act !== "gelu" && act !== "gelu_new") {
    throw bad(`hidden_act ${JSON.stringify(act)} is not supported (gelu, gelu_new)`);
  }
  const nHead = f.int("num_attention_heads", undefined, CONFIG_BOUNDS.n_head);
  const dModel = f.int("hidden_size", undefined, CONFIG_BOUNDS.n_embd);
  const headDim = wholeHeads(dModel, nHead);
  const pctField = f.has("rotary_pct") ? "rotary_pct" : "partial_rotary_factor";
  const pct = f.num(pctField, 0.25);
  const rotaryDim = Math.floor(headDim * pct);
  if (pct > 1 || rotaryDim % 2 !== 0 || rotaryDim === 0) {
    throw bad(
      `${pctField} ${pct} gives ${rotaryDim} rotary features of ${headDim}; need an even count ≥ 2`,
    );
  }
  const bias = f.bool("attention_bias", true);
  return {
    modelType: "gpt_neox",
    ...common(f, dModel, nHead, headDim, rotaryDim, "layer_norm_eps", 1e-5),
    activation: act,
    nKvHead: nHead,
    parallelResidual: f.bool("use_parallel_residual", true),
    qkvBias: bias,
    oBias: bias,
  };
}

function wholeHeads(dModel: number, nHead: number): number {
  if (dModel % nHead !== 0) {
    throw bad(`hidden_size ${dModel} is not a multiple of num_attention_heads ${nHead}`);
  }
  return dModel / nHead;
}

function common(
  f: Fields,
  dModel: number,
  nHead: number,
  headDim: number,
  rotaryDim: number,
  epsField: string,
  epsDefault: number,
): Omit<ModelConfig, "modelType" | "activation"> {
  return {
    nLayer: f.int("num_hidden_layers", undefined, CONFIG_BOUNDS.n_layer),
    nHead,
    dModel,
    headDim,
    dMlp: f.int("intermediate_size", undefined, CONFIG_BOUNDS.n_inner),
    vocabSize: f.int("vocab_size", undefined, CONFIG_BOUNDS.vocab_size),
    nCtx: f.int("max_position_embeddings", undefined, CONFIG_BOUNDS.max_position_embeddings),
    layerNormEps: f.num(epsField, epsDefault),
    rope: parseRope(f, rotaryDim),
    tiedHead: f.bool("tie_word_embeddings", false),
  };
}

function refuseSlidingWindow(f: Fields, modelType: LlamaType): void {
  // qwen2 carries sliding_window but applies it only with use_sliding_window
  if (modelType === "qwen2") {
    if (f.bool("use_sliding_window", false)) throw bad("use_sliding_window true is not supported");
    return;
  }
  if (!f.has("sliding_window")) return;
  const window = f.int("sliding_window");
  const nCtx = f.int("max_position_embeddings");
  // a window as long as the context never masks anything
  if (window < nCtx) {
    throw bad(`sliding_window ${window} (< max_position_embeddings ${nCtx}) is not supported`);
  }
}

/** rope_theta / rotary_emb_base and rope_scaling (or transformers 5's rope_parameters). */
function parseRope(f: Fields, rotaryDim: number): RopeConfig {
  const params = f.get("rope_parameters");
  const p = new Fields(isObj(params) ? params : {}, "rope_parameters.");
  const thetaField = ["rope_theta", "rotary_emb_base"].find((n) => f.has(n));
  const theta = p.has("rope_theta")
    ? p.num("rope_theta", 0)
    : f.num(thetaField ?? "rope_theta", 10000);
  const rawScaling = isObj(params) ? params : f.get("rope_scaling");
  const field = isObj(params) ? "rope_parameters" : "rope_scaling";
  if (rawScaling === undefined || rawScaling === null) return { theta, rotaryDim, scaling: null };
  if (!isObj(rawScaling))
    throw bad(`${field} is ${JSON.stringify(rawScaling)}, expected an object`);
  const s = new Fields(rawScaling, `${field}.`);
  const kind = s.get("rope_type") ?? s.get("type") ?? "default";
  if (kind === "default") return { theta, rotaryDim, scaling: null };
  const factor = s.num("factor", Number.NaN);
  if (kind === "linear") return { theta, rotaryDim, scaling: { kind, factor } };
  if (kind === "llama3") {
    const low = s.num("low_freq_factor", Number.NaN);
    const high = s.num("high_freq_factor", Number.NaN);
    if (!(high > low))
      throw bad(`${field}: high_freq_factor ${high} must exceed low_freq_factor ${low}`);
    const originalMaxPositions = s.int("original_max_position_embeddings");
    return {
      theta,
      rotaryDim,
      scaling: { kind, factor, lowFreqFactor: low, highFreqFactor: high, originalMaxPositions },
    };
  }
  throw bad(`${field} type ${JSON.stringify(kind)} is not supported (linear, llama3)`);
}
