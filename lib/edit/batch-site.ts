/**
 * What a learned MEMIT / AlphaEdit edit does to the weights (lib/edit/plan.ts): per layer one
 * low-rank patch of mlp.c_proj.weight, ΔW = a · b with a [d_mlp, n] and b [n, d_model], the
 * same patch type LoRA uses, so apply.ts and checkpoint.ts (`--save`) need nothing new.
 */
import type { LowRankPatch } from "./lora-site";
import type { BatchEdit } from "./types";

export function batchPatches(e: BatchEdit): LowRankPatch[] {
  const n = e.params.requests.length;
  return (e.learned?.layers ?? []).map((l) => ({
    type: "low_rank" as const,
    layer: l.layer,
    name: "wOut" as const,
    rank: n,
    scale: 1,
    a: l.a,
    b: l.b,
  }));
}

/** Sizes against the model: layers exist, ascending; factors [d_mlp, n] and [n, d_model]. */
export function checkBatch(
  e: BatchEdit,
  config: { nLayer: number; dMlp: number; dModel: number },
  fail: (msg: string) => never,
): void {
  const { nLayer, dMlp, dModel } = config;
  const n = e.params.requests.length;
  const check = (layers: readonly number[], name: string) => {
    layers.forEach((l, i) => {
      if (!Number.isInteger(l) || l < 0 || l >= nLayer)
        fail(`${name}[${i}] must be 0 to ${nLayer - 1}`);
      if (i > 0 && l <= layers[i - 1]) fail(`${name} must be ascending without repeats`);
    });
  };
  if (e.site.layers) check(e.site.layers, "site.layers");
  if (!e.learned) return;
  check(
    e.learned.layers.map((l) => l.layer),
    "learned.layers",
  );
  const vec = (v: unknown, len: number, name: string) => {
    if (!Array.isArray(v) || v.length !== len || !v.every((x) => Number.isFinite(x)))
      fail(`${name} must be ${len} finite numbers`);
  };
  for (const l of e.learned.layers) {
    vec(l.a, dMlp * n, `learned a of layer ${l.layer} (${dMlp} × ${n} requests)`);
    vec(l.b, n * dModel, `learned b of layer ${l.layer} (${n} requests × ${dModel})`);
    if (l.keys !== undefined) vec(l.keys, dMlp * n, `learned keys of layer ${l.layer}`);
  }
}
