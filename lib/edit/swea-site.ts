/**
 * Where a learned SWEA edit acts: one lookup intervention at hook_embed (the token embeddings,
 * before the position embeddings are added) that adds each fusion's offsets wherever its tokens
 * occur in the pass's input (lib/model/token-match.ts). A prompt without the subject's tokens is
 * left unchanged: swea's summary (describeEdit) says where it acts, and sweaHits tells a caller
 * whether a given prompt contains any of its subjects.
 */
import { matchSpans } from "../model/token-match";
import type { SweaEdit } from "./types";

/** The intervention's match list: every fusion's tokens and offsets [P·D]. */
export function sweaMatches(e: SweaEdit): { tokens: number[]; value: number[] }[] {
  return (e.learned?.fusions ?? []).map((f) => ({ tokens: f.tokens, value: f.offsets }));
}

/** The requests (indexes) whose subject occurs in `ids`: empty when the edit is a no-op there. */
export function sweaHits(e: SweaEdit, ids: readonly number[]): number[] {
  const fusions = e.learned?.fusions ?? [];
  const spans = matchSpans(
    [ids],
    fusions.map((f) => f.tokens),
  );
  return [...new Set(spans.map((s) => fusions[s.key].request))].sort((a, b) => a - b);
}

/** Checks a learned SWEA edit's sizes against the model (fail throws the edit's error). */
export function checkSwea(
  e: SweaEdit,
  dims: { dModel: number; vocabSize: number },
  fail: (msg: string) => never,
): void {
  const n = e.params.requests.length;
  for (const [i, f] of (e.learned?.fusions ?? []).entries()) {
    const where = `learned.fusions[${i}]`;
    if (!Number.isInteger(f.request) || f.request < 0 || f.request >= n)
      fail(`${where}.request must be 0 to ${n - 1}`);
    if (
      f.tokens.length === 0 ||
      !f.tokens.every((t) => Number.isInteger(t) && t >= 0 && t < dims.vocabSize)
    )
      fail(`${where}.tokens must be token ids 0 to ${dims.vocabSize - 1}`);
    if (f.offsets.length !== f.tokens.length * dims.dModel || !f.offsets.every(Number.isFinite))
      fail(`${where}.offsets must be ${f.tokens.length} × ${dims.dModel} finite numbers`);
  }
}
