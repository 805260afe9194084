/**
 * How much memory a model needs, from config.json alone, and whether the chosen backend can
 * give it. All sizes in bytes; the runtime keeps everything in float32 (4 bytes).
 *
 *   params      GPT-2:  V·d + n_ctx·d + L·(4d² + 2d·m + 9d + m) + 2d   (m = d_mlp; = 12d² + 13d per
 *                 layer when m = 4d: ln1 2d, c_attn 3d²+3d, c_proj d²+d, ln2 2d, c_fc dm+m, proj md+d)
 *               Llama:  V·d (+ V·d untied) + L·(2d + d·(H + 2Hkv)·E [+ (H + 2Hkv)·E] + H·E·d [+ d]
 *                 + 3d·m) + d                                       (q|k|v, o, gate, up, down)
 *               NeoX:   V·d (+ V·d untied) + L·(4d + 4d² [+ 4d] + 2d·m + m + d) + 2d
 *               (a tied embedding is held once: lib/model/gpt2-weights.ts headT)
 *   weights     = 4 · (params + zero biases the runtime adds where the checkpoint has none)
 *   loadPeak    = weights + fileBytes + 4 · params                    (while loading, the file bytes,
 *                 the decoded float32 host copy and the uploaded tensors are alive together;
 *                 fileBytes defaults to params · the bytes of config.json's torch_dtype: 2 for
 *                 BF16 / F16 checkpoints, 4 otherwise)
 *   activations = 4 · [ B·T·(max(m, 3d, H·T) + 2d) + B·V + (L+1)·S·T·d ]
 *                 one fast-sweep pass: B batch rows of T tokens through the widest activation plus
 *                 the residual in and out, last-position logits, and the S corrupted runs' residual
 *                 streams kept for every layer (lib/interp/fast.ts). B is the sweep's batch size:
 *                 rows that fit a 2^24-float budget for the widest activation, at least S.
 *   largest     = 4 · V·d                                             (wte: the biggest single buffer)
 *   checkpoint  ≤ 8 · (params + V·d + L·n_ctx²) + 1 MiB + 4 KiB · L     (the most the weight files can
 *                 hold: F64 values, an untied lm_head, the attn.bias mask buffers, the headers)
 */
import { TRACE_PARAMS } from "../params/table";
import { attnDims, familyOf, isTied, type ModelConfig } from "./model-config";

type Gpt2Config = ModelConfig;

const F32 = 4;
const GiB = 1024 ** 3;
/** lib/interp/fast.ts BUDGET_FLOATS: the widest activation of one pass, in floats. */
const SWEEP_BUDGET_FLOATS = 1 << 24;

export interface SweepShape {
  /** Prompt tokens (T). */
  tokens: number;
  /** Noise samples per cell (S). */
  samples: number;
}

/** A typical trace: 32 tokens at the default samples (lib/params/table.ts). */
export const DEFAULT_SWEEP: SweepShape = {
  tokens: 32,
  samples: TRACE_PARAMS.samples.default as number,
};

export interface MemoryEstimate {
  params: number;
  weightBytes: number;
  loadPeakBytes: number;
  activationBytes: number;
  largestTensorBytes: number;
  /** Batch rows per sweep pass used for activationBytes. */
  batchRows: number;
}

/** Parameters of the checkpoint (a tied embedding counted once), every family. */
export function paramCount(c: ModelConfig): number {
  const d = c.dModel;
  const m = c.dMlp;
  const family = familyOf(c);
  if (family === "gpt2") {
    const perLayer = 4 * d * d + 2 * d * m + 9 * d + m;
    return c.vocabSize * d + c.nCtx * d + c.nLayer * perLayer + 2 * d;
  }
  const { H, Hkv, E } = attnDims(c);
  const embeds = (isTied(c) ? 1 : 2) * c.vocabSize * d;
  const qkv = (H + 2 * Hkv) * E;
  if (family === "llama") {
    const attn = d * qkv + (c.qkvBias ? qkv : 0) + H * E * d + (c.oBias ? d : 0);
    return embeds + c.nLayer * (2 * d + attn + 3 * d * m) + d;
  }
  const bias = (c.qkvBias ?? true) ? 4 * d : 0;
  return embeds + c.nLayer * (4 * d + 4 * d * d + bias + 2 * d * m + m + d) + 2 * d;
}

/** @deprecated the old name of paramCount (GPT-2 configs give the same number). */
export const gpt2ParamCount = paramCount;

/** Zero biases the runtime holds where a rotary family's checkpoint has none. */
function zeroBiases(c: ModelConfig): number {
  const family = familyOf(c);
  if (family === "gpt2") return 0;
  const { H, Hkv, E } = attnDims(c);
  if (family === "gpt_neox") return (c.qkvBias ?? true) ? 0 : 4 * c.dModel;
  const qkv = c.qkvBias ? 0 : (H + 2 * Hkv) * E;
  return c.nLayer * (qkv + (c.oBias ? 0 : c.dModel) + c.dMlp + c.dModel);
}

/** Bytes per value of the checkpoint files, from config.json's torch_dtype (default 4). */
export function fileDtypeBytes(c: ModelConfig): number {
  return c.torchDtype === "bfloat16" || c.torchDtype === "float16" ? 2 : 4;
}

/**
 * `fileBytes`: the checkpoint's size on disk (safetensors sizes, or the index's total_size); when
 * unknown, float32 files are assumed (4 · params).
 */
export function estimateMemory(
  c: Gpt2Config,
  fileBytes?: number,
  sweep: SweepShape = DEFAULT_SWEEP,
): MemoryEstimate {
  const params = paramCount(c);
  const weightBytes = F32 * (params + zeroBiases(c));
  const T = Math.min(sweep.tokens, c.nCtx);
  const S = sweep.samples;
  const { H, Hkv, E } = attnDims(c);
  const widest = Math.max(c.dMlp, (H + 2 * Hkv) * E, c.nHead * T);
  const batchRows = Math.max(S, Math.floor(SWEEP_BUDGET_FLOATS / (T * widest)));
  const activationBytes =
    F32 *
    (batchRows * T * (widest + 2 * c.dModel) +
      batchRows * c.vocabSize +
      (c.nLayer + 1) * S * T * c.dModel);
  return {
    params,
    weightBytes,
    loadPeakBytes: weightBytes + (fileBytes ?? fileDtypeBytes(c) * params) + F32 * params,
    activationBytes,
    largestTensorBytes: F32 * c.vocabSize * c.dModel,
    batchRows,
  };
}

/**
 * The most bytes a safetensors checkpoint for this config can hold, over all its files: every
 * tensor in F64 (the widest dtype read), plus what loaders skip (an untied lm_head, attn.bias
 * [1, 1, n_ctx, n_ctx] buffers) and the JSON headers. A download past it is not this model.
 */
export function maxCheckpointBytes(c: Gpt2Config): number {
  // mask buffers: GPT-2's attn.bias and old Pythia's attention.bias; Llama checkpoints have none
  const masks = familyOf(c) === "llama" ? 0 : c.nLayer * c.nCtx * c.nCtx;
  const elements = paramCount(c) + c.vocabSize * c.dModel + masks;
  return 8 * elements + 1024 ** 2 + 4096 * c.nLayer;
}

/** What the device can give; every field optional (browsers expose different subsets). */
export interface DeviceLimits {
  backend: "webgpu" | "webgl" | "wasm" | "cpu";
  /** navigator.deviceMemory, in GiB (browsers cap it at 8 and round down). */
  deviceMemoryGiB?: number;
  /** WebGPU adapter limits. */
  maxBufferSize?: number;
  maxStorageBufferBindingSize?: number;
}

/**
 * What tfjs-backend-wasm can really use of its one heap. wasm32 addresses 4 GiB, but tfjs 4.22's
 * JS side fails past about 2 GiB ("Invalid typed array length" / Aborted(): measured with a
 * Qwen2.5-0.5B-shaped trace at about 2.3 GiB, docs/benchmarks.md), so refuse above 2 GiB.
 */
export const WASM_HEAP_BYTES = 2 * GiB;

export interface MemoryVerdict {
  level: "ok" | "warn" | "refuse";
  /** One sentence per finding, with the numbers. */
  reasons: string[];
  estimate: MemoryEstimate;
}

export function checkMemory(est: MemoryEstimate, limits: DeviceLimits): MemoryVerdict {
  const refuse: string[] = [];
  const warn: string[] = [];
  const need = est.weightBytes + est.activationBytes;
  if (limits.backend === "wasm" && need > WASM_HEAP_BYTES) {
    refuse.push(
      `weights (${gib(est.weightBytes)}) + sweep activations (${gib(est.activationBytes)}) exceed the 2 GiB tfjs's wasm backend can use`,
    );
  }
  if (limits.backend === "webgpu") {
    for (const [key, value] of [
      ["maxBufferSize", limits.maxBufferSize],
      ["maxStorageBufferBindingSize", limits.maxStorageBufferBindingSize],
    ] as const) {
      if (value !== undefined && est.largestTensorBytes > value) {
        refuse.push(
          `the embedding matrix (${gib(est.largestTensorBytes)}) is larger than this GPU's ${key} (${gib(value)})`,
        );
      }
    }
  }
  if (limits.deviceMemoryGiB !== undefined && limits.deviceMemoryGiB > 0) {
    const device = limits.deviceMemoryGiB * GiB;
    // deviceMemory is capped at 8 GiB, so only a clear excess is worth a warning.
    if (est.loadPeakBytes > device) {
      warn.push(
        `loading needs about ${gib(est.loadPeakBytes)} at its peak, more than the ${limits.deviceMemoryGiB} GiB this device reports`,
      );
    }
  }
  if (
    refuse.length === 0 &&
    (limits.backend === "cpu" || limits.backend === "wasm") &&
    need > GiB
  ) {
    warn.push(`${gib(need)} on the ${limits.backend} backend will be slow`);
  }
  const level = refuse.length > 0 ? "refuse" : warn.length > 0 ? "warn" : "ok";
  return { level, reasons: [...refuse, ...warn], estimate: est };
}

export function gib(bytes: number): string {
  return bytes >= GiB ? `${(bytes / GiB).toFixed(2)} GiB` : `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}
