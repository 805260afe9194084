import { describe, expect, it } from "vitest";
import { parseGpt2Config } from "../lib/load/config";
import { LoadError } from "../lib/load/errors";

// config.json files as published on the Hugging Face hub (openai-community/* and distilbert/*).
const HUB = {
  gpt2: {
    activation_function: "gelu_new",
    architectures: ["GPT2LMHeadModel"],
    attn_pdrop: 0.1,
    bos_token_id: 50256,
    embd_pdrop: 0.1,
    eos_token_id: 50256,
    initializer_range: 0.02,
    layer_norm_epsilon: 1e-5,
    model_type: "gpt2",
    n_ctx: 1024,
    n_embd: 768,
    n_head: 12,
    n_layer: 12,
    n_positions: 1024,
    resid_pdrop: 0.1,
    summary_activation: null,
    summary_first_dropout: 0.1,
    summary_proj_to_labels: true,
    summary_type: "cls_index",
    summary_use_proj: true,
    task_specific_params: { "text-generation": { do_sample: true, max_length: 50 } },
    vocab_size: 50257,
  },
  distilgpt2: {
    _num_labels: 1,
    activation_function: "gelu_new",
    architectures: ["GPT2LMHeadModel"],
    attn_pdrop: 0.1,
    bos_token_id: 50256,
    embd_pdrop: 0.1,
    eos_token_id: 50256,
    id2label: { "0": "LABEL_0" },
    initializer_range: 0.02,
    label2id: { LABEL_0: 0 },
    layer_norm_epsilon: 1e-5,
    model_type: "gpt2",
    n_ctx: 1024,
    n_embd: 768,
    n_head: 12,
    n_layer: 6,
    n_positions: 1024,
    resid_pdrop: 0.1,
    summary_activation: null,
    summary_first_dropout: 0.1,
    summary_proj_to_labels: true,
    summary_type: "cls_index",
    summary_use_proj: true,
    task_specific_params: { "text-generation": { do_sample: true, max_length: 50 } },
    vocab_size: 50257,
  },
  "gpt2-medium": {
    activation_function: "gelu_new",
    architectures: ["GPT2LMHeadModel"],
    attn_pdrop: 0.1,
    bos_token_id: 50256,
    embd_pdrop: 0.1,
    eos_token_id: 50256,
    initializer_range: 0.02,
    layer_norm_epsilon: 1e-5,
    model_type: "gpt2",
    n_ctx: 1024,
    n_embd: 1024,
    n_head: 16,
    n_layer: 24,
    n_positions: 1024,
    n_special: 0,
    predict_special_tokens: true,
    resid_pdrop: 0.1,
    summary_activation: null,
    summary_first_dropout: 0.1,
    summary_proj_to_labels: true,
    summary_type: "cls_index",
    summary_use_proj: true,
    task_specific_params: { "text-generation": { do_sample: true, max_length: 50 } },
    vocab_size: 50257,
  },
  "gpt2-large": {
    activation_function: "gelu_new",
    architectures: ["GPT2LMHeadModel"],
    attn_pdrop: 0.1,
    bos_token_id: 50256,
    embd_pdrop: 0.1,
    eos_token_id: 50256,
    initializer_range: 0.02,
    layer_norm_epsilon: 1e-5,
    model_type: "gpt2",
    n_ctx: 1024,
    n_embd: 1280,
    n_head: 20,
    n_layer: 36,
    n_positions: 1024,
    resid_pdrop: 0.1,
    summary_activation: null,
    summary_first_dropout: 0.1,
    summary_proj_to_labels: true,
    summary_type: "cls_index",
    summary_use_proj: true,
    task_specific_params: { "text-generation": { do_sample: true, max_length: 50 } },
    vocab_size: 50257,
  },
  "gpt2-xl": {
    activation_function: "gelu_new",
    architectures: ["GPT2LMHeadModel"],
    attn_pdrop: 0.1,
    bos_token_id: 50256,
    embd_pdrop: 0.1,
    eos_token_id: 50256,
    initializer_range: 0.02,
    layer_norm_epsilon: 1e-5,
    model_type: "gpt2",
    n_ctx: 1024,
    n_embd: 1600,
    n_head: 25,
    n_layer: 48,
    n_positions: 1024,
    output_past: true,
    resid_pdrop: 0.1,
    summary_activation: null,
    summary_first_dropout: 0.1,
    summary_proj_to_labels: true,
    summary_type: "cls_index",
    summary_use_proj: true,
    task_specific_params: { "text-generation": { do_sample: true, max_length: 50 } },
    vocab_size: 50257,
  },
};

const LLAMA = {
  architectures: ["LlamaForCausalLM"],
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: "silu",
  hidden_size: 4096,
  intermediate_size: 11008,
  max_position_embeddings: 4096,
  model_type: "llama",
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 32,
  rms_norm_eps: 1e-5,
  vocab_size: 32000,
};

function loadError(fn: () => unknown): LoadError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LoadError) return e;
    throw e;
  }
  throw new Error("expected a LoadError");
}

describe("parseGpt2Config: the hub's GPT-2 family", () => {
  it.each([
    ["gpt2", 12, 768, 12],
    ["distilgpt2", 6, 768, 12],
    ["gpt2-medium", 24, 1024, 16],
    ["gpt2-large", 36, 1280, 20],
    ["gpt2-xl", 48, 1600, 25],
  ] as const)("%s", (name, nLayer, dModel, nHead) => {
    expect(parseGpt2Config(HUB[name])).toEqual({
      modelType: "gpt2",
      nLayer,
      nHead,
      dModel,
      dMlp: 4 * dModel,
      nCtx: 1024,
      vocabSize: 50257,
      layerNormEps: 1e-5,
      activation: "gelu_new",
    });
  });
});

describe("parseGpt2Config: field handling", () => {
  const base = HUB.gpt2;

  it("uses n_inner when set, 4 * n_embd when null", () => {
    expect(parseGpt2Config({ ...base, n_inner: 1000 }).dMlp).toBe(1000);
    expect(parseGpt2Config({ ...base, n_inner: null }).dMlp).toBe(3072);
  });

  it("falls back to n_ctx when n_positions is absent", () => {
    const { n_positions: _, ...rest } = base;
    expect(parseGpt2Config({ ...rest, n_ctx: 256 }).nCtx).toBe(256);
  });

  it("prefers n_positions over n_ctx", () => {
    expect(parseGpt2Config({ ...base, n_ctx: 512, n_positions: 2048 }).nCtx).toBe(2048);
  });

  it("accepts a config identified only by architectures, and GPT2Model", () => {
    const { model_type: _, ...rest } = base;
    expect(parseGpt2Config(rest).nLayer).toBe(12);
    expect(parseGpt2Config({ ...base, architectures: ["GPT2Model"] }).nLayer).toBe(12);
  });

  it("applies HF defaults for absent layer_norm_epsilon and activation_function", () => {
    const { layer_norm_epsilon: _a, activation_function: _b, ...rest } = base;
    const c = parseGpt2Config(rest);
    expect(c.layerNormEps).toBe(1e-5);
    expect(c.activation).toBe("gelu_new");
  });

  it("keeps the other GELU variants", () => {
    expect(parseGpt2Config({ ...base, activation_function: "gelu" }).activation).toBe("gelu");
    expect(parseGpt2Config({ ...base, activation_function: "gelu_pytorch_tanh" }).activation).toBe(
      "gelu_pytorch_tanh",
    );
  });
});

describe("parseGpt2Config: errors", () => {
  it("a llama config is unsupported_architecture, naming it", () => {
    const e = loadError(() => parseGpt2Config(LLAMA));
    expect(e.code).toBe("unsupported_architecture");
    expect(e.file).toBe("config.json");
    expect(e.message).toContain('"llama"');
    expect(e.message).toContain('supported: model_type "gpt2"');
  });

  it("a gpt2 model_type with a foreign architecture is unsupported_architecture", () => {
    const e = loadError(() =>
      parseGpt2Config({ ...HUB.gpt2, architectures: ["GPT2ForSequenceClassification"] }),
    );
    expect(e.code).toBe("unsupported_architecture");
    expect(e.message).toContain("GPT2ForSequenceClassification");
  });

  it.each([
    ["gpt_neox", { model_type: "gpt_neox", architectures: ["GPTNeoXForCausalLM"] }],
    ["gpt_neo", { model_type: "gpt_neo" }],
    ["architectures only", { model_type: undefined, architectures: ["OPTForCausalLM"] }],
  ])("%s is unsupported_architecture", (_n, patch) => {
    const e = loadError(() => parseGpt2Config({ ...HUB.gpt2, ...patch }, "my/config.json"));
    expect(e.code).toBe("unsupported_architecture");
    expect(e.message).toContain("my/config.json");
  });

  it.each([
    ["scale_attn_weights", false],
    ["scale_attn_by_inverse_layer_idx", true],
    ["add_cross_attention", true],
  ])("refuses %s = %s, which changes the computation", (key, value) => {
    const e = loadError(() => parseGpt2Config({ ...HUB.gpt2, [key]: value }));
    expect(e.code).toBe("unsupported_architecture");
    expect(e.message).toContain(key);
  });

  it.each([
    ["n_layer missing", { n_layer: undefined }, "n_layer"],
    ["n_head non-integer", { n_head: 12.5 }, "n_head"],
    ["n_embd a string", { n_embd: "768" }, "n_embd"],
    ["vocab_size zero", { vocab_size: 0 }, "vocab_size"],
    ["n_inner negative", { n_inner: -1 }, "n_inner"],
    ["no n_positions nor n_ctx", { n_positions: undefined, n_ctx: undefined }, "n_positions"],
    ["n_embd not divisible by n_head", { n_embd: 770 }, "not divisible"],
    ["an unsupported activation", { activation_function: "relu" }, "relu"],
    ["a negative epsilon", { layer_norm_epsilon: -1 }, "layer_norm_epsilon"],
    [
      "no model_type nor architectures",
      { model_type: undefined, architectures: undefined },
      "model_type",
    ],
  ])("bad_config: %s", (_n, patch, fragment) => {
    const e = loadError(() => parseGpt2Config({ ...HUB.gpt2, ...patch }));
    expect(e.code).toBe("bad_config");
    expect(e.message).toContain("config.json");
    expect(e.message).toContain(fragment);
  });

  it.each([null, 3, "gpt2", [HUB.gpt2]])("bad_config: %j is not an object", (json) => {
    expect(loadError(() => parseGpt2Config(json)).code).toBe("bad_config");
  });
});

describe("parseGpt2Config: sizes are bounded before anything is built (issue 10.14)", () => {
  it.each([
    ["n_layer 1e9", { n_layer: 1e9 }, "n_layer is 1000000000, more than the 512 accepted"],
    ["n_embd 1e6", { n_embd: 1_000_000, n_head: 1 }, "n_embd is 1000000, more than the 32768"],
    ["vocab_size 2^21", { vocab_size: 2 ** 21 }, "vocab_size is 2097152, more than the 1048576"],
    ["n_positions 1e6", { n_positions: 1e6 }, "n_positions is 1000000, more than the 65536"],
  ])("%s is refused", (_n, patch, fragment) => {
    const e = loadError(() => parseGpt2Config({ ...HUB.gpt2, ...patch }));
    expect(e.code).toBe("bad_config");
    expect(e.message).toContain(fragment);
  });

  it("every field within bounds but too many parameters in all is refused", () => {
    const e = loadError(() =>
      parseGpt2Config({ ...HUB.gpt2, n_layer: 512, n_embd: 32_768, n_head: 256 }),
    );
    expect(e.message).toMatch(
      /describes a model of 6\.\d+e\+12 parameters, more than the 1\.72e\+10/,
    );
  });

  it("GPT-2 xl, the largest of the family, is well inside them", () => {
    expect(parseGpt2Config(HUB["gpt2-xl"]).nLayer).toBe(48);
  });
});
