/**
 * A LoRA edit as weight data, without tensors: its defaults, its layer range, the checks of its
 * learned factors against a model, and its weight patches. Each factor changes one MLP weight
 * (Conv1D layout, y = x @ W + b):
 *   c_fc    mlp.c_fc.weight   [D, M]  ("wIn")
 *   c_proj  mlp.c_proj.weight [M, D]  ("wOut")
 * by ΔW = s·A·B, A [in, r], B [r, out], s = α / r (standard LoRA scaling, not rsLoRA's α/√r).
 * The delta is a weight change at every position, so it folds into the checkpoint exactly
 * (lib/edit/checkpoint.ts) and acts on every generated token.
 */
import type { Gpt2Config } from "../load/types";
import type { LoraEdit, LoraFactor, LoraModule } from "./types";

export const LORA_DEFAULTS = {
  rank: 4,
  /** α = r: s = 1. */
  alpha: 4,
  modules: ["c_proj"] as LoraModule[],
  steps: 10,
  lr: 0.01,
  seed: 0,
  epsilon: 1e-3,
  texts: 100,
  threshold: 0.2,
};

/** The model's weight name of a module, and its [in, out] sizes. */
export function loraWeight(
  module: LoraModule,
  config: Gpt2Config,
): { name: "wIn" | "wOut"; rows: number; cols: number } {
  return module === "c_fc"
    ? { name: "wIn", rows: config.dModel, cols: config.dMlp }
    : { name: "wOut", rows: config.dMlp, cols: config.dModel };
}

/** The layer range to train: the edit's own, or the first third of the layers (see docs/edits.md). */
export function loraLayers(e: LoraEdit, config: Gpt2Config): [number, number] {
  if (e.site?.layers) return e.site.layers;
  const last = Math.max(0, Math.ceil(config.nLayer / 3) - 1);
  return [0, last];
}

export const loraScale = (e: LoraEdit): number =>
  (e.params.alpha ?? LORA_DEFAULTS.alpha) / (e.params.rank ?? LORA_DEFAULTS.rank);

/** Checks site, rank and the learned factors' sizes; `fail` throws. */
export function checkLora(e: LoraEdit, config: Gpt2Config, fail: (msg: string) => never): void {
  const { nLayer, dModel, dMlp } = config;
  const r = e.params.rank ?? LORA_DEFAULTS.rank;
  if (!Number.isInteger(r) || r < 1 || r > Math.min(dModel, dMlp))
    fail(`rank must be an integer from 1 to ${Math.min(dModel, dMlp)}`);
  const alpha = e.params.alpha ?? LORA_DEFAULTS.alpha;
  if (!Number.isFinite(alpha) || alpha === 0) fail("alpha must be a non-zero number");
  if (e.site?.layers) {
    const [a, b] = e.site.layers;
    const ok = (l: number) => Number.isInteger(l) && l >= 0 && l < nLayer;
    if (!ok(a) || !ok(b) || a > b)
      fail(`site.layers must be [first, last] with 0 ≤ first ≤ last ≤ ${nLayer - 1}`);
  }
  const mods = e.params.modules ?? LORA_DEFAULTS.modules;
  if (mods.length === 0) fail("params.modules must name c_fc and/or c_proj");
  const seen = new Set<string>();
  for (const f of e.learned?.factors ?? []) {
    if (!Number.isInteger(f.layer) || f.layer < 0 || f.layer >= nLayer)
      fail(`factor layer ${f.layer} must be 0 to ${nLayer - 1}`);
    const { rows, cols } = loraWeight(f.module, config);
    const key = `${f.layer}:${f.module}`;
    if (seen.has(key)) fail(`two factors for ${f.module} of layer ${f.layer}`);
    seen.add(key);
    const finite = (v: number[]) => v.every((x) => Number.isFinite(x));
    if (!Array.isArray(f.a) || f.a.length !== rows * r || !finite(f.a))
      fail(`factor A of ${f.module} L${f.layer} must be ${rows}×${r} = ${rows * r} finite numbers`);
    if (!Array.isArray(f.b) || f.b.length !== r * cols || !finite(f.b))
      fail(`factor B of ${f.module} L${f.layer} must be ${r}×${cols} = ${r * cols} finite numbers`);
  }
}

/** The weight patch of one factor (lib/edit/plan.ts WeightPatch "low_rank"). */
export interface LowRankPatch {
  type: "low_rank";
  layer: number;
  name: "wIn" | "wOut";
  rank: number;
  scale: number;
  /** A [in, rank] and B [rank, out], row-major. */
  a: number[];
  b: number[];
}

export function loraPatches(e: LoraEdit, config: Gpt2Config): LowRankPatch[] {
  const rank = e.params.rank ?? LORA_DEFAULTS.rank;
  const scale = loraScale(e);
  return (e.learned?.factors ?? []).map((f: LoraFactor) => ({
    type: "low_rank" as const,
    layer: f.layer,
    name: loraWeight(f.module, config).name,
    rank,
    scale,
    a: f.a,
    b: f.b,
  }));
}

/** W += s·A·B on a host copy (float64 sums, rounded to float32 on store). W is [in, out]. */
export function addLowRank(W: Float32Array, p: LowRankPatch): void {
  const r = p.rank;
  const cols = p.b.length / r;
  const rows = p.a.length / r;
  const row = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    row.fill(0);
    for (let k = 0; k < r; k++) {
      const aik = p.a[i * r + k] * p.scale;
      if (aik === 0) continue;
      for (let j = 0; j < cols; j++) row[j] += aik * p.b[k * cols + j];
    }
    for (let j = 0; j < cols; j++) W[i * cols + j] = W[i * cols + j] + row[j];
  }
}
