/**
 * Reads a Llama-family or GPT-NeoX checkpoint by its hub tensor names, from model.safetensors
 * or the sharded layout (model.safetensors.index.json + shards), converting F16/BF16/F32 to
 * float32 host tensors. Only the names the config implies are converted (mask / inv_freq
 * buffers old checkpoints carry are skipped); a missing tensor or a shape that does not match
 * config.json is a LoadError naming the tensor, the file and both shapes.
 */
import { LoadError } from "./errors";
import { byteProgress, INDEX_FILE, parseShardIndex, SINGLE_FILE } from "./gpt2-checkpoint";
import { MAX_INDEX_BYTES } from "./limits";
import { maxCheckpointBytes } from "./memory-estimate";
import type { ModelConfig } from "./model-config";
import { attnDims, familyOf, isTied } from "./model-config";
import { parseSafetensors } from "./safetensors";
import type { FileSource, HostTensor } from "./types";

/** A rotary family's weights by their hub names (nn.Linear layout [Out, In]), float32. */
export interface HubWeights {
  hub: Map<string, HostTensor>;
}

export interface WeightSpec {
  /** Tensor name → the shape config.json implies. */
  shapes: Map<string, number[]>;
  /** Why a missing tensor might be missing, keyed by name (e.g. the tie_word_embeddings hint). */
  hints?: Map<string, string>;
}

/** Hub name prefixes of block `l` and the top-level tensors, per family. */
export const LLAMA_NAMES = {
  layer: (l: number) => `model.layers.${l}.`,
  embed: "model.embed_tokens.weight",
  norm: "model.norm",
  head: "lm_head.weight",
} as const;
export const NEOX_NAMES = {
  layer: (l: number) => `gpt_neox.layers.${l}.`,
  embed: "gpt_neox.embed_in.weight",
  norm: "gpt_neox.final_layer_norm",
  head: "embed_out.weight",
} as const;

/** Every tensor a Llama-family or NeoX config implies, by its hub name, with its shape. */
export function familyWeightSpec(c: ModelConfig): WeightSpec {
  const { H, Hkv, E } = attnDims(c);
  const { dModel: D, dMlp: F, vocabSize: V } = c;
  const neox = familyOf(c) === "gpt_neox";
  const names = neox ? NEOX_NAMES : LLAMA_NAMES;
  const shapes = new Map<string, number[]>([[names.embed, [V, D]]]);
  const lin = (name: string, out: number, inp: number, bias: boolean) => {
    shapes.set(`${name}.weight`, [out, inp]);
    if (bias) shapes.set(`${name}.bias`, [out]);
  };
  for (let l = 0; l < c.nLayer; l++) {
    const p = names.layer(l);
    for (const ln of ["input_layernorm", "post_attention_layernorm"]) {
      shapes.set(`${p}${ln}.weight`, [D]);
      if (neox) shapes.set(`${p}${ln}.bias`, [D]);
    }
    if (neox) {
      lin(`${p}attention.query_key_value`, 3 * D, D, c.qkvBias ?? true);
      lin(`${p}attention.dense`, D, D, c.oBias ?? true);
      lin(`${p}mlp.dense_h_to_4h`, F, D, true);
      lin(`${p}mlp.dense_4h_to_h`, D, F, true);
      continue;
    }
    const a = `${p}self_attn.`;
    lin(`${a}q_proj`, H * E, D, c.qkvBias ?? false);
    lin(`${a}k_proj`, Hkv * E, D, c.qkvBias ?? false);
    lin(`${a}v_proj`, Hkv * E, D, c.qkvBias ?? false);
    lin(`${a}o_proj`, D, H * E, c.oBias ?? false);
    lin(`${p}mlp.gate_proj`, F, D, false);
    lin(`${p}mlp.up_proj`, F, D, false);
    lin(`${p}mlp.down_proj`, D, F, false);
  }
  shapes.set(`${names.norm}.weight`, [D]);
  if (neox) shapes.set(`${names.norm}.bias`, [D]);
  if (isTied(c)) return { shapes };
  shapes.set(names.head, [V, D]);
  return { shapes, hints: new Map([[names.head, "config.json has tie_word_embeddings false"]]) };
}

/**
 * Reads the tensors `familyWeightSpec(config)` lists. `onProgress(done, total)` counts weight
 * files; all of them together may hold at most maxCheckpointBytes(config).
 */
export async function loadFamilyWeights(
  source: FileSource,
  config: ModelConfig,
  onProgress?: (done: number, total: number) => void,
): Promise<HubWeights> {
  const spec = familyWeightSpec(config);
  const want = (n: string) => spec.shapes.has(n);
  const files: [string, (n: string) => boolean][] = [];
  if (await source.has(SINGLE_FILE)) {
    files.push([SINGLE_FILE, want]);
  } else if (await source.has(INDEX_FILE)) {
    const index = parseShardIndex(
      await source.read(INDEX_FILE, undefined, { maxBytes: MAX_INDEX_BYTES }),
    );
    for (const shard of new Set(index.values())) {
      files.push([shard, (n) => want(n) && index.get(n) === shard]);
    }
  } else {
    throw new LoadError(
      "file_missing",
      SINGLE_FILE,
      `neither ${SINGLE_FILE} nor ${INDEX_FILE} is in ${source.label}`,
    );
  }
  let budget = maxCheckpointBytes(config);
  const found = new Map<string, { t: HostTensor; file: string }>();
  onProgress?.(0, files.length);
  for (const [i, [file, only]] of files.entries()) {
    const bytes = await source.read(file, byteProgress(onProgress, i, files.length), {
      maxBytes: budget,
    });
    budget -= bytes.byteLength;
    for (const [n, t] of parseSafetensors(bytes, file, { only })) found.set(n, { t, file });
    onProgress?.(i + 1, files.length);
  }
  const hub = new Map<string, HostTensor>();
  for (const [name, shape] of spec.shapes) {
    const hit = found.get(name);
    if (!hit) {
      const hint = spec.hints?.get(name);
      throw new LoadError(
        "missing_tensor",
        files.length === 1 ? files[0][0] : INDEX_FILE,
        `tensor ${name} is missing${hint ? ` (${hint})` : ""}`,
      );
    }
    if (hit.t.shape.join(",") !== shape.join(",")) {
      throw new LoadError(
        "bad_shape",
        hit.file,
        `tensor ${name} has shape [${hit.t.shape.join(", ")}] but config.json implies [${shape.join(", ")}]`,
      );
    }
    hub.set(name, hit.t);
  }
  return { hub };
}
