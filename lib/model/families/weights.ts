/**
 * Reads a family's weights by their hub names from model.safetensors or the sharded layout
 * (model.safetensors.index.json + shards), converting F16/BF16/F32 to float32 host tensors.
 * Only the names the family expects are converted (mask / inv_freq buffers old checkpoints
 * carry are skipped); a missing tensor or a shape that does not match config.json is a
 * LoadError naming the tensor, the file and both shapes.
 */
import { LoadError } from "../../load/errors";
import { INDEX_FILE, parseShardIndex, SINGLE_FILE } from "../../load/gpt2-checkpoint";
import { parseSafetensors } from "../../load/safetensors";
import type { FileSource, HostTensor } from "../../load/types";

export interface WeightSpec {
  /** Tensor name → the shape config.json implies. */
  shapes: Map<string, number[]>;
  /** Why a missing tensor might be missing, keyed by name (e.g. the tie_word_embeddings hint). */
  hints?: Map<string, string>;
}

/** Adds an untied unembedding [V, D] under `name` (lm_head.weight / embed_out.weight). */
export function withUntiedHead(spec: WeightSpec, name: string, shape: number[]): WeightSpec {
  const shapes = new Map(spec.shapes).set(name, shape);
  const hints = new Map(spec.hints).set(name, "config.json has tie_word_embeddings false");
  return { shapes, hints };
}

export async function readFamilyWeights(
  source: FileSource,
  spec: WeightSpec,
): Promise<Map<string, HostTensor>> {
  const want = (n: string) => spec.shapes.has(n);
  const found = new Map<string, { t: HostTensor; file: string }>();
  const files: [string, (n: string) => boolean][] = [];
  if (await source.has(SINGLE_FILE)) {
    files.push([SINGLE_FILE, want]);
  } else if (await source.has(INDEX_FILE)) {
    const index = parseShardIndex(await source.read(INDEX_FILE));
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
  for (const [file, only] of files) {
    for (const [n, t] of parseSafetensors(await source.read(file), file, { only })) {
      found.set(n, { t, file });
    }
  }
  const out = new Map<string, HostTensor>();
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
    out.set(name, hit.t);
  }
  return out;
}
