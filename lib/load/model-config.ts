/**
 * A model's hyper-parameters, for every family the runtime implements: GPT-2, the Llama family
 * (llama, mistral, qwen2) and GPT-NeoX (Pythia). One flat, JSON-serialisable record (it travels
 * in the worker's model info). The fields GPT-2 configs have always had are required; the
 * rotary families' fields are optional and absent on GPT-2, whose values they then take
 * (nKvHead = nHead, headDim = dModel / nHead, tied head, no rotary, sequential residual, every
 * bias): read them through attnDims / familyOf, never with a local default.
 */

export type ModelType = "gpt2" | "llama" | "mistral" | "qwen2" | "gpt_neox";
/** How the block is built: GPT-2, Llama (llama / mistral / qwen2) or GPT-NeoX. */
export type Family = "gpt2" | "llama" | "gpt_neox";
/** HF activation names: GELU variants (GPT-2, NeoX) and silu (Llama's SwiGLU gate). */
export type Activation = "gelu_new" | "gelu" | "gelu_pytorch_tanh" | "silu";

export type RopeScaling =
  | { kind: "linear"; factor: number }
  | {
      kind: "llama3";
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositions: number;
    };

export interface RopeConfig {
  theta: number;
  /** Features of each head that rotate (head_dim, or int(head_dim · rotary_pct) for NeoX); even. */
  rotaryDim: number;
  scaling: RopeScaling | null;
}

export interface ModelConfig {
  modelType: ModelType;
  nLayer: number;
  /** Query heads. */
  nHead: number;
  dModel: number;
  /** MLP hidden width (GPT-2 n_inner or 4 · d_model; intermediate_size). */
  dMlp: number;
  /** Positions: n_positions / max_position_embeddings. */
  nCtx: number;
  vocabSize: number;
  /** LayerNorm or RMSNorm epsilon. */
  layerNormEps: number;
  activation: Activation;
  /** num_key_value_heads (GQA); divides nHead. GPT-2: absent (= nHead). */
  nKvHead?: number;
  /** head_dim; may differ from dModel / nHead (Llama). GPT-2: absent (= dModel / nHead). */
  headDim?: number;
  /** Rotary position embeddings; absent for GPT-2 (learned positions, hook_pos_embed). */
  rope?: RopeConfig;
  /** tie_word_embeddings: the unembedding is the token embedding. GPT-2: absent (tied). */
  tiedHead?: boolean;
  /** NeoX use_parallel_residual: resid + attn(ln1(resid)) + mlp(ln2(resid)). */
  parallelResidual?: boolean;
  /** q/k/v projections carry biases (GPT-2, qwen2, NeoX with attention_bias, llama attention_bias). */
  qkvBias?: boolean;
  /** The attention output projection carries a bias (GPT-2, NeoX; llama with attention_bias). */
  oBias?: boolean;
  /** config.json's torch_dtype (the checkpoint files' precision), when it names one of these. */
  torchDtype?: "float32" | "float16" | "bfloat16";
}

const LLAMA_TYPES: readonly string[] = ["llama", "mistral", "qwen2"];

/**
 * The family of a model type. Also read of untyped records (edit files, older sessions): a
 * config without a known type is GPT-2's, as every config was before families.
 */
export function familyOf(c: { modelType?: string }): Family {
  if (c.modelType === "gpt_neox") return "gpt_neox";
  return LLAMA_TYPES.includes(c.modelType ?? "") ? "llama" : "gpt2";
}

/** Attention widths: H query heads, Hkv K/V heads, E features per head. */
export function attnDims(c: ModelConfig): { H: number; Hkv: number; E: number } {
  return { H: c.nHead, Hkv: c.nKvHead ?? c.nHead, E: c.headDim ?? c.dModel / c.nHead };
}

/** Whether the unembedding is the token embedding (GPT-2 always). */
export function isTied(c: ModelConfig): boolean {
  return c.tiedHead ?? true;
}
