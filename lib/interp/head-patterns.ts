/**
 * Every head's attention pattern on one prompt, for the app's small multiples (layers × heads):
 *
 *   const r = await allHeadPatterns(engine, "Ralkrok Stennos lives in the city of");
 *   r.patterns   // [L, H, T, T] row-major: pattern[((l·H + h)·T + q)·T + k], null when too large
 *
 * One forward pass recording blocks.{l}.attn.hook_pattern (lib/interp/head-scores.ts patterns).
 * A prompt whose L·H·T² weights exceed MAX_SHOWN_WEIGHTS gets no patterns and a note saying
 * why (the per-head scores need no such bound on the prompt).
 */
import { patterns } from "./head-scores";
import { TraceError } from "./spec";
import { promptIds, type TraceHost, tokenTexts } from "./tokens";

/** 8 Mi weights (32 MiB of float32): GPT-2 small's 144 heads up to 240 tokens. */
export const MAX_SHOWN_WEIGHTS = 2 ** 23;

export interface AllHeadPatterns {
  tokens: string[];
  nLayer: number;
  nHead: number;
  /** [L, H, T, T] row-major; row q of a head sums to 1 over keys 0 … q. */
  patterns: Float32Array | null;
  /** Why `patterns` is null. */
  note: string | null;
}

export async function allHeadPatterns(
  host: TraceHost,
  prompt: string | number[],
): Promise<AllHeadPatterns> {
  const { nLayer: L, nHead: H, nCtx } = host.model.config;
  const ids = promptIds(host, prompt);
  const T = ids.length;
  if (T > nCtx) {
    throw new TraceError("too_long", `the prompt has ${T} tokens; the model's context is ${nCtx}`);
  }
  const tokens = tokenTexts(host, ids);
  const weights = L * H * T * T;
  if (weights > MAX_SHOWN_WEIGHTS) {
    const note = `${L} layers × ${H} heads × ${T}² positions are ${weights.toLocaleString("en-US")} attention weights, more than the ${MAX_SHOWN_WEIGHTS.toLocaleString("en-US")} shown at once; shorten the prompt to see the patterns`;
    return { tokens, nLayer: L, nHead: H, patterns: null, note };
  }
  const perLayer = await patterns(host, [ids]); // [L] of [1, H, T, T]
  const out = new Float32Array(weights);
  for (const [l, a] of perLayer.entries()) out.set(a, l * H * T * T);
  return { tokens, nLayer: L, nHead: H, patterns: out, note: null };
}
