/**
 * Llama-family and GPT-NeoX models with seeded random weights, built in memory from the real
 * checkpoints' config.json values (no files, no downloads): the benchmark's stand-ins for
 * Qwen2.5-0.5B and Pythia-410m, whose weights cannot be downloaded here.
 *
 *   const { config, hub } = randomFamilyWeights(QWEN25_05B, 1234);
 *   const model = Gpt2Model.fromWeights(config, { hub });
 *
 * Every tensor the config implies comes from familyWeightSpec (lib/load/family-checkpoint.ts),
 * by its hub name and shape, so the model is loaded through the same upload path as a hub
 * checkpoint. Entries are uniform (random-gpt2.ts's `uniform`), std per kind of tensor:
 *   embeddings / unembedding 0.11 · √(768 / D) (logits std ≈ 3, as random-gpt2's wte)
 *   attention projections 0.05 · √(768 / D) (q·k/√E std ≈ 2, as random-gpt2's c_attn)
 *   MLP in (gate / up / h_to_4h) 0.04 · √(768 / D), MLP out and o_proj 0.02/√(2L)
 *   norm gains 1 ± 0.05, biases 0.01
 */

import { GaussianRng } from "../../lib/interp/rng";
import { parseModelConfig } from "../../lib/load/config";
import { familyWeightSpec } from "../../lib/load/family-checkpoint";
import type { ModelConfig } from "../../lib/load/model-config";
import type { HostTensor } from "../../lib/load/types";
import { uniform, WEIGHT_STD } from "./random-gpt2";

/** Qwen/Qwen2.5-0.5B's config.json (the fields a forward reads; 494M parameters, tied). */
export const QWEN25_05B = {
  model_type: "qwen2",
  architectures: ["Qwen2ForCausalLM"],
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  vocab_size: 151936,
  max_position_embeddings: 32768,
  rope_theta: 1000000.0,
  rms_norm_eps: 1e-6,
  hidden_act: "silu",
  tie_word_embeddings: true,
  use_sliding_window: false,
  torch_dtype: "bfloat16",
} as const;

/** EleutherAI/pythia-410m's config.json (405M parameters, untied embed_out, parallel residual). */
export const PYTHIA_410M = {
  model_type: "gpt_neox",
  architectures: ["GPTNeoXForCausalLM"],
  hidden_size: 1024,
  intermediate_size: 4096,
  num_hidden_layers: 24,
  num_attention_heads: 16,
  vocab_size: 50304,
  max_position_embeddings: 2048,
  rotary_pct: 0.25,
  rotary_emb_base: 10000,
  layer_norm_eps: 1e-5,
  hidden_act: "gelu",
  use_parallel_residual: true,
  tie_word_embeddings: false,
  torch_dtype: "float16",
} as const;

/** The std (and mean) of one hub tensor's entries, by its name. */
function initOf(name: string, c: ModelConfig): { std: number; mean?: number } {
  const s = WEIGHT_STD;
  const width = Math.sqrt(768 / c.dModel);
  if (/norm\.weight$|layernorm\.weight$/.test(name)) return { std: s.lnGain, mean: 1 };
  if (name.endsWith(".bias")) return { std: s.bias };
  if (/embed|lm_head/.test(name)) return { std: s.wte * width };
  if (/o_proj|attention\.dense\.|down_proj|dense_4h_to_h/.test(name)) {
    return { std: s.proj / Math.sqrt(2 * c.nLayer) };
  }
  if (/q_proj|k_proj|v_proj|query_key_value/.test(name)) return { std: s.attnQkv * width };
  return { std: s.mlpIn * width }; // gate_proj, up_proj, dense_h_to_4h
}

/** The parsed config and every tensor it implies, seeded: the same for the same seed. */
export function randomFamilyWeights(
  configJson: Record<string, unknown>,
  seed: number,
): { config: ModelConfig; hub: Map<string, HostTensor> } {
  const config = parseModelConfig(configJson);
  const rng = new GaussianRng(seed);
  const hub = new Map<string, HostTensor>();
  for (const [name, shape] of familyWeightSpec(config).shapes) {
    const { std, mean } = initOf(name, config);
    hub.set(name, uniform(rng, shape, std, mean));
  }
  return { config, hub };
}
