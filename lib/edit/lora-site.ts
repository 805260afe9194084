/**
 * A LoRA edit as weight data, without tensors: its defaults, its layer range, the checks of its
 * learned factors against a model, and its weight patches. Each factor changes one linear layer,
 * named as the family names it (lib/edit/family-sites.ts: GPT-2 c_fc, c_proj, c_attn,
 * attn.c_proj; Llama gate_proj, up_proj, down_proj, o_proj; NeoX dense_h_to_4h,
 * dense_4h_to_h, dense; GPT-2's c_fc / c_proj also stand for the family's MLP
 * input / output side), in the runtime layout [In, Out] (y = x @ W + b), e.g.
 *   c_fc    mlp.c_fc.weight   [D, M]  ("wIn")
 *   c_proj  mlp.c_proj.weight [M, D]  ("wOut")
 * by ΔW = s·A·B, A [in, r], B [r, out], s = α / r (standard LoRA scaling, not rsLoRA's α/√r).
 * The delta is a weight change at every position, so it folds into the checkpoint exactly
 * (lib/edit/checkpoint.ts) and acts on every generated token.
 */
import {
  type AnyModelConfig,
  editDims,
  FamilySiteError,
  loraModulesOf,
  loraRole,
  type WeightRole,
} from "./family-sites";
import { EditError, type LoraEdit, type LoraFactor, type LoraModule } from "./types";

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

/**
 * The model's weight role of one of the family's own module names, the module's [in, out]
 * sizes, and the role's first column it covers (q/k/v_proj are parts of the fused wQkv).
 */
export function loraWeight(
  module: LoraModule,
  config: AnyModelConfig,
): { name: WeightRole; rows: number; cols: number; colOffset: number } {
  const { role, rows, cols, colOffset } = loraRole(config, module);
  return { name: role, rows, cols, colOffset };
}

/** The family's own module names the edit trains (its modules, GPT-2's aliases resolved). */
export function loraModules(e: LoraEdit, config: AnyModelConfig): LoraModule[] {
  try {
    return loraModulesOf(config, e.params.modules ?? LORA_DEFAULTS.modules);
  } catch (err) {
    if (err instanceof FamilySiteError) throw new EditError("bad_edit", err.message);
    throw err;
  }
}

/** The layer range to train: the edit's own, or the first third of the layers (see docs/edits.md). */
export function loraLayers(e: LoraEdit, config: AnyModelConfig): [number, number] {
  if (e.site?.layers) return e.site.layers;
  const last = Math.max(0, Math.ceil(config.nLayer / 3) - 1);
  return [0, last];
}

export const loraScale = (e: LoraEdit): number =>
  (e.params.alpha ?? LORA_DEFAULTS.alpha) / (e.params.rank ?? LORA_DEFAULTS.rank);

/** Checks site, rank and the learned factors' sizes; `fail` throws. */
export function checkLora(e: LoraEdit, config: AnyModelConfig, fail: (msg: string) => never): void {
  const { nLayer, dModel, dMlp } = editDims(config);
  const site = <T>(f: () => T): T => {
    try {
      return f();
    } catch (err) {
      if (err instanceof FamilySiteError) fail(err.message);
      throw err;
    }
  };
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
  if (mods.length === 0) fail("params.modules must name at least one module");
  site(() => loraModules(e, config));
  const seen = new Set<string>();
  for (const f of e.learned?.factors ?? []) {
    if (!Number.isInteger(f.layer) || f.layer < 0 || f.layer >= nLayer)
      fail(`factor layer ${f.layer} must be 0 to ${nLayer - 1}`);
    const { rows, cols } = site(() => loraWeight(f.module, config));
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
  name: WeightRole;
  rank: number;
  scale: number;
  /** A [in, rank] and B [rank, out], row-major. */
  a: number[];
  b: number[];
  /** The weight's first column that B's columns change (a q/k/v part of wQkv); default 0. */
  colOffset?: number;
}

export function loraPatches(e: LoraEdit, config: AnyModelConfig): LowRankPatch[] {
  const rank = e.params.rank ?? LORA_DEFAULTS.rank;
  const scale = loraScale(e);
  return (e.learned?.factors ?? []).map((f: LoraFactor) => {
    const { name, colOffset } = loraWeight(f.module, config);
    return {
      type: "low_rank" as const,
      layer: f.layer,
      name,
      rank,
      scale,
      a: f.a,
      b: f.b,
      colOffset,
    };
  });
}

/**
 * Visits every element of s·A·B ([in, out], float64 sums): add(i, j, x) with j counted from
 * the patch's colOffset in the weight it changes.
 */
export function lowRankDelta(
  p: LowRankPatch,
  add: (i: number, j: number, x: number) => void,
): void {
  const r = p.rank;
  const cols = p.b.length / r;
  const rows = p.a.length / r;
  const off = p.colOffset ?? 0;
  const row = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    row.fill(0);
    for (let k = 0; k < r; k++) {
      const aik = p.a[i * r + k] * p.scale;
      if (aik === 0) continue;
      for (let j = 0; j < cols; j++) row[j] += aik * p.b[k * cols + j];
    }
    for (let j = 0; j < cols; j++) add(i, off + j, row[j]);
  }
}

/** W += s·A·B on a host copy of a row-major [in, out] W (rounded to float32 on store). */
export function addLowRank(W: Float32Array, p: LowRankPatch): void {
  const cols = (p.colOffset ?? 0) + p.b.length / p.rank;
  lowRankDelta(p, (i, j, x) => {
    W[i * cols + j] = W[i * cols + j] + x;
  });
}
