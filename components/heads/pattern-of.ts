/** One head's T × T pattern out of the [L, H, T, T] patterns of every head (a view, no copy). */
import type { AllHeadPatterns } from "@/lib/interp/head-patterns";

export function patternOf(p: AllHeadPatterns, layer: number, head: number): Float32Array | null {
  if (!p.patterns) return null;
  const T = p.tokens.length;
  const at = (layer * p.nHead + head) * T * T;
  return p.patterns.subarray(at, at + T * T);
}
