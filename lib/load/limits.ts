/**
 * Every upper bound a model's files are held to, in one place, checked before the work they would
 * start: a hostile or broken file gets a one-line LoadError instead of minutes of work, a frozen
 * tab or gigabytes of memory.
 *
 *   file sizes   config.json ≤ 1 MiB, tokenizer.json and dataset.json ≤ 64 MiB, the shard index
 *                ≤ 16 MiB; the
 *                weights ≤ maxCheckpointBytes(config) in total over all files (memory-estimate.ts),
 *                checked against Content-Length before a download and the bytes received during it
 *   transfers    a download that receives nothing for DEFAULT_STALL_MS (30 s; in Node
 *                $CAUSEWAY_STALL_SECONDS, or a source's stallMs option) stops ("stalled")
 *   config.json  CONFIG_BOUNDS below, and at most MAX_PARAMS parameters in all
 *   tokenizer    at most MAX_VOCAB_ENTRIES vocabulary entries and as many merges
 *   prompts      at most MAX_PROMPT_CHARS_PER_TOKEN · n_ctx characters, checked before tokenizing
 */
import { LoadError } from "./errors";
import type { ReadOptions } from "./types";

const MiB = 1024 ** 2;

export const MAX_CONFIG_BYTES = 1 * MiB;
export const MAX_TOKENIZER_BYTES = 64 * MiB;
export const MAX_INDEX_BYTES = 16 * MiB;
/** A model folder's dataset.json (the bundled one is 0.7 MB). */
export const MAX_DATASET_BYTES = 64 * MiB;

/** A transfer that receives no byte for this long is stopped (the sources' stallMs default). */
export const DEFAULT_STALL_MS = 30_000;

/** The stall limit when a source is given none: $CAUSEWAY_STALL_SECONDS (Node), else 30 s. */
export function defaultStallMs(): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env?.CAUSEWAY_STALL_SECONDS;
  const s = Number(env);
  return env !== undefined && env !== "" && Number.isFinite(s) && s > 0
    ? s * 1000
    : DEFAULT_STALL_MS;
}

/** Upper bounds of config.json's sizes (GPT-2 xl: 48 layers, 25 heads, 1600 wide, 1024 positions). */
export const CONFIG_BOUNDS = {
  n_layer: 512,
  n_head: 512,
  n_embd: 32_768,
  n_inner: 131_072,
  n_positions: 65_536,
  n_ctx: 65_536,
  vocab_size: 1_048_576,
  /** Rotary families: nothing is sized by it (no position table), and Llama 3 says 131,072. */
  max_position_embeddings: 1_048_576,
} as const;

/** 2^34 parameters: 64 GiB of float32, beyond any device this runs on. */
export const MAX_PARAMS = 2 ** 34;

/** Vocabulary entries (and merges) a tokenizer.json may list; real ones have up to ~256k. */
export const MAX_VOCAB_ENTRIES = 1_048_576;

/**
 * A prompt longer than this many characters per context position is refused before tokenizing:
 * no token of a real vocabulary covers 64 characters, so such a prompt cannot fit the context.
 */
export const MAX_PROMPT_CHARS_PER_TOKEN = 64;

export function maxPromptChars(nCtx: number): number {
  return nCtx * MAX_PROMPT_CHARS_PER_TOKEN;
}

/**
 * Refuses `size` bytes of `name` when over `opts.maxBytes`. `how`: where the size came from
 * ("Content-Length", "received", "on disk").
 */
export function checkReadSize(
  name: string,
  size: number,
  opts: ReadOptions | undefined,
  how: string,
): void {
  const limit = opts?.maxBytes;
  if (limit === undefined || size <= limit) return;
  const n = (v: number) => v.toLocaleString("en-US");
  throw new LoadError(
    "too_large",
    name,
    `${n(size)} bytes (${how}) is more than the ${n(limit)} bytes this file can need; refused`,
  );
}
