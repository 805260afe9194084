/**
 * Maps HF GPT-2 checkpoint tensors onto Gpt2Weights, checking every shape against the config.
 *
 * Names: checkpoints saved from GPT2LMHeadModel carry a `transformer.` prefix; the original
 * OpenAI-converted ones (openai-community/gpt2 …) do not. Both are accepted.
 * Skipped: `h.{i}.attn.bias` / `h.{i}.attn.masked_bias` (causal-mask buffers, not weights) and
 * `lm_head.weight`. GPT-2 ties lm_head to wte, and the model uses wte as the unembedding; an
 * untied lm_head (a fine-tune that broke the tie) is ignored, so its logits would differ from HF's.
 */
import { isObj } from "../edit/parse-checker";
import { LoadError } from "./errors";
import { MAX_INDEX_BYTES } from "./limits";
import { maxCheckpointBytes } from "./memory-estimate";
import { parseSafetensors } from "./safetensors";
import type { FileSource, Gpt2BlockWeights, Gpt2Config, Gpt2Weights, HostTensor } from "./types";

const PREFIX = "transformer.";
const SKIPPED = /^(h\.\d+\.attn\.(bias|masked_bias)|lm_head\.weight)$/;

function stripPrefix(name: string): string {
  return name.startsWith(PREFIX) ? name.slice(PREFIX.length) : name;
}

/** True for tensors the loader converts (everything but buffers and the tied lm_head). */
export function isGpt2WeightName(name: string): boolean {
  return !SKIPPED.test(stripPrefix(name));
}

/** Every tensor name GPT-2 needs (unprefixed) with its expected shape. */
export function expectedGpt2Shapes(config: Gpt2Config): Map<string, number[]> {
  const d = config.dModel;
  const m = config.dMlp;
  const s = new Map<string, number[]>();
  s.set("wte.weight", [config.vocabSize, d]);
  s.set("wpe.weight", [config.nCtx, d]);
  for (let l = 0; l < config.nLayer; l++) {
    const h = `h.${l}.`;
    s.set(`${h}ln_1.weight`, [d]);
    s.set(`${h}ln_1.bias`, [d]);
    s.set(`${h}attn.c_attn.weight`, [d, 3 * d]); // Conv1D: [in, out]
    s.set(`${h}attn.c_attn.bias`, [3 * d]);
    s.set(`${h}attn.c_proj.weight`, [d, d]);
    s.set(`${h}attn.c_proj.bias`, [d]);
    s.set(`${h}ln_2.weight`, [d]);
    s.set(`${h}ln_2.bias`, [d]);
    s.set(`${h}mlp.c_fc.weight`, [d, m]);
    s.set(`${h}mlp.c_fc.bias`, [m]);
    s.set(`${h}mlp.c_proj.weight`, [m, d]);
    s.set(`${h}mlp.c_proj.bias`, [d]);
  }
  s.set("ln_f.weight", [d]);
  s.set("ln_f.bias", [d]);
  return s;
}

const fmt = (shape: number[]) => `[${shape.join(", ")}]`;

function listNames(names: string[], max = 6): string {
  const shown = names.slice(0, max).join(", ");
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

export function gpt2WeightsFromTensors(
  tensors: Map<string, HostTensor>,
  config: Gpt2Config,
  file: string,
): Gpt2Weights {
  const byName = new Map<string, HostTensor>();
  for (const [name, t] of tensors) {
    const bare = stripPrefix(name);
    if (SKIPPED.test(bare)) continue;
    const layer = /^h\.(\d+)\./.exec(bare);
    // A deeper checkpoint than the config would otherwise load silently with layers dropped.
    if (layer && Number(layer[1]) >= config.nLayer) {
      throw new LoadError(
        "bad_shape",
        file,
        `checkpoint has tensor ${name} but config.json says n_layer = ${config.nLayer}`,
      );
    }
    byName.set(bare, t);
  }

  const expected = expectedGpt2Shapes(config);
  const missing = [...expected.keys()].filter((n) => !byName.has(n));
  if (missing.length > 0) {
    throw new LoadError(
      "missing_tensor",
      file,
      `checkpoint lacks ${missing.length} GPT-2 tensor(s): ${listNames(missing)}`,
    );
  }
  for (const [name, shape] of expected) {
    const t = byName.get(name)!;
    if (t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
      throw new LoadError(
        "bad_shape",
        file,
        `tensor ${name} has shape ${fmt(t.shape)}, expected ${fmt(shape)} from config.json`,
      );
    }
  }

  const get = (n: string) => byName.get(n)!;
  const blocks: Gpt2BlockWeights[] = [];
  for (let l = 0; l < config.nLayer; l++) {
    const h = `h.${l}.`;
    blocks.push({
      ln1: { g: get(`${h}ln_1.weight`), b: get(`${h}ln_1.bias`) },
      attnQkv: { w: get(`${h}attn.c_attn.weight`), b: get(`${h}attn.c_attn.bias`) },
      attnOut: { w: get(`${h}attn.c_proj.weight`), b: get(`${h}attn.c_proj.bias`) },
      ln2: { g: get(`${h}ln_2.weight`), b: get(`${h}ln_2.bias`) },
      mlpIn: { w: get(`${h}mlp.c_fc.weight`), b: get(`${h}mlp.c_fc.bias`) },
      mlpOut: { w: get(`${h}mlp.c_proj.weight`), b: get(`${h}mlp.c_proj.bias`) },
    });
  }
  return {
    wte: get("wte.weight"),
    wpe: get("wpe.weight"),
    blocks,
    lnF: { g: get("ln_f.weight"), b: get("ln_f.bias") },
  };
}

export const SINGLE_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";

/**
 * Reads GPT-2 weights from `model.safetensors`, or from the HF sharded layout
 * (`model.safetensors.index.json` + shards). `onProgress(done, total)` counts weight files;
 * `done` is fractional while a file downloads from a source that reports bytes. All weight files
 * together may hold at most maxCheckpointBytes(config): each read is capped at what is left.
 */
export async function loadGpt2Weights(
  source: FileSource,
  config: Gpt2Config,
  onProgress?: (done: number, total: number) => void,
): Promise<Gpt2Weights> {
  let budget = maxCheckpointBytes(config);
  if (await source.has(SINGLE_FILE)) {
    onProgress?.(0, 1);
    const bytes = await source.read(SINGLE_FILE, byteProgress(onProgress, 0, 1), {
      maxBytes: budget,
    });
    const tensors = parseSafetensors(bytes, SINGLE_FILE, { only: isGpt2WeightName });
    onProgress?.(1, 1);
    return gpt2WeightsFromTensors(tensors, config, SINGLE_FILE);
  }
  if (await source.has(INDEX_FILE)) {
    const index = parseShardIndex(
      await source.read(INDEX_FILE, undefined, { maxBytes: MAX_INDEX_BYTES }),
    );
    const shards = [...new Set(index.values())];
    const all = new Map<string, HostTensor>();
    onProgress?.(0, shards.length);
    for (const [i, shard] of shards.entries()) {
      if (!(await source.has(shard))) {
        throw new LoadError(
          "file_missing",
          shard,
          `shard listed in ${INDEX_FILE} is not in ${source.label}`,
        );
      }
      const bytes = await source.read(shard, byteProgress(onProgress, i, shards.length), {
        maxBytes: budget,
      });
      budget -= bytes.byteLength;
      const want = new Set([...index].filter(([, f]) => f === shard).map(([n]) => n));
      const tensors = parseSafetensors(bytes, shard, {
        only: (n) => want.has(n) && isGpt2WeightName(n),
      });
      const absent = [...want].filter((n) => isGpt2WeightName(n) && !tensors.has(n));
      if (absent.length > 0) {
        throw new LoadError(
          "missing_tensor",
          shard,
          `${INDEX_FILE} places ${listNames(absent)} in this shard, but it is not there`,
        );
      }
      for (const [n, t] of tensors) all.set(n, t);
      onProgress?.(i + 1, shards.length);
    }
    return gpt2WeightsFromTensors(all, config, INDEX_FILE);
  }
  const hint = (await source.has("pytorch_model.bin"))
    ? " (found pytorch_model.bin: only safetensors checkpoints can be loaded; convert it)"
    : "";
  throw new LoadError(
    "file_missing",
    SINGLE_FILE,
    `neither ${SINGLE_FILE} nor ${INDEX_FILE} is in ${source.label}${hint}`,
  );
}

/** Per-file byte progress as fractional files done (`onProgress(filesDone + fraction, total)`). */
export function byteProgress(
  onProgress: ((done: number, total: number) => void) | undefined,
  filesDone: number,
  filesTotal: number,
): ((loaded: number, total: number | undefined) => void) | undefined {
  if (!onProgress) return undefined;
  return (loaded, total) => {
    if (total && total > 0) onProgress(filesDone + Math.min(1, loaded / total), filesTotal);
  };
}

/** Parses the HF shard index into tensor name → shard file name, in the index's order. */
export function parseShardIndex(bytes: Uint8Array, file = INDEX_FILE): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new LoadError(
      "bad_index",
      file,
      `not valid JSON (${e instanceof Error ? e.message : e})`,
    );
  }
  const weightMap = isObj(json) ? json.weight_map : undefined;
  if (!isObj(weightMap)) {
    throw new LoadError("bad_index", file, 'expected {"weight_map": {tensor name: shard file}}');
  }
  const out = new Map<string, string>();
  for (const [name, shard] of Object.entries(weightMap)) {
    // Shards live next to the index; anything path-like could escape the model folder or URL.
    if (
      typeof shard !== "string" ||
      shard === "" ||
      shard.includes("/") ||
      shard.includes("\\") ||
      shard === "." ||
      shard === ".."
    ) {
      throw new LoadError(
        "bad_index",
        file,
        `weight_map entry for ${name} is ${JSON.stringify(shard)}, not a shard file name`,
      );
    }
    out.set(name, shard);
  }
  if (out.size === 0) throw new LoadError("bad_index", file, "weight_map is empty");
  return out;
}
