import type { ModelConfig } from "./model-config";

/** A tensor read from a checkpoint, already converted to float32, row-major. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** Limits on one read; a source that knows a file's size refuses it before reading. */
export interface ReadOptions {
  /** Refuse the file (LoadError "too_large") when it is, or grows, larger than this. */
  maxBytes?: number;
}

/** Where a model's files come from: the bundled folder, a URL prefix, a local directory, files. */
export interface FileSource {
  /** Human-readable description, e.g. "bundled:tiny-facts" or "/path/to/dir". */
  readonly label: string;
  /**
   * Resolves the named file's bytes; rejects with LoadError("file_missing") if it is absent.
   * A source that streams (a URL) may report bytes received so far; `total` is undefined when
   * the size is not known in advance. Sources that cannot report simply never call it.
   * Wrappers must pass `opts` on: it carries the size cap (lib/load/limits.ts).
   */
  read(
    name: string,
    onBytes?: (loaded: number, total: number | undefined) => void,
    opts?: ReadOptions,
  ): Promise<Uint8Array>;
  /** True if the named file exists (used to pick model.safetensors vs the sharded index). */
  has(name: string): Promise<boolean>;
}

/**
 * A model's hyper-parameters (every family: lib/load/model-config.ts). The old name stays, so
 * code written for GPT-2 keeps compiling; new code says ModelConfig.
 */
export type Gpt2Config = ModelConfig;

/** One transformer block's weights in HF GPT-2 (Conv1D) layout: y = x @ W + b. */
export interface Gpt2BlockWeights {
  ln1: { g: HostTensor; b: HostTensor }; // [d]
  attnQkv: { w: HostTensor; b: HostTensor }; // c_attn: [d, 3d], [3d]
  attnOut: { w: HostTensor; b: HostTensor }; // c_proj: [d, d], [d]
  ln2: { g: HostTensor; b: HostTensor }; // [d]
  mlpIn: { w: HostTensor; b: HostTensor }; // c_fc: [d, dMlp], [dMlp]
  mlpOut: { w: HostTensor; b: HostTensor }; // c_proj: [dMlp, d], [d]
}

export interface Gpt2Weights {
  wte: HostTensor; // [vocab, d]; also the (tied) unembedding
  wpe: HostTensor; // [nCtx, d]
  blocks: Gpt2BlockWeights[];
  lnF: { g: HostTensor; b: HostTensor }; // [d]
}
