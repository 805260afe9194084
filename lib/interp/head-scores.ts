/**
 * Per-head attention scores (layer × head), as the induction-heads literature and
 * TransformerLens' head detectors define them, computed from the model's own attention patterns:
 *
 *   const r = await headScores(engine, { prompt: "Ralkrok Stennos lives in the city of",
 *                                        subject: "Ralkrok Stennos" });
 *   r.scores.induction[l][h]     // every score is [L][H] (null when it cannot be computed)
 *   HEAD_SCORE_DEFINITIONS       // one sentence per score, for a sortable table
 *
 * Previous-token, first-token and subject scores are read on the prompt; duplicate-token and
 * induction scores on `repeat.batch` sequences of `repeat.length` random tokens repeated twice
 * (uniform over the vocabulary, drawn with the seeded generator of lib/interp/rng.ts), where
 * every second-half token has a known earlier copy. Pattern layout: [B, H, Tq, Tk] (hook_pattern).
 */
import * as tf from "@tensorflow/tfjs";
import { blockHook } from "../model/hooks";
import { GaussianRng } from "./rng";
import { TraceError } from "./spec";
import { promptIds, subjectRange, type TraceHost, tokenTexts } from "./tokens";

export const HEAD_SCORE_NAMES = [
  "previous_token",
  "first_token",
  "subject",
  "duplicate_token",
  "induction",
] as const;
export type HeadScoreName = (typeof HEAD_SCORE_NAMES)[number];

/** One sentence per score: what the number is an average of. */
export const HEAD_SCORE_DEFINITIONS: Record<HeadScoreName, string> = {
  previous_token:
    "Attention from each prompt position i ≥ 1 to position i − 1, averaged over those positions.",
  first_token:
    "Attention from each prompt position i ≥ 1 to the first token (position 0), averaged over those positions.",
  subject:
    "Attention from the prompt's last position to the subject's tokens, summed over the subject.",
  duplicate_token:
    "On random tokens repeated twice, attention from each second-half token to its own earlier copy (i − n), averaged.",
  induction:
    "On random tokens repeated twice, attention from each second-half token to the token after its earlier copy (i − n + 1), averaged.",
};

export interface HeadScoreSpec {
  prompt: string | number[];
  /** Text or token range [b, e) (end-exclusive); without it the subject score is null. */
  subject?: string | [number, number];
  /** Length n of each half of the repeated random sequences. Default min(20, ⌊n_ctx / 2⌋). */
  repeatLength?: number;
  /** How many repeated sequences to average over. Default 4. */
  repeatBatch?: number;
  /** Seed of the random tokens. Default 1. */
  seed?: number;
}

export interface HeadScoresResult {
  input_ids: number[];
  input_tokens: string[];
  subject_range: [number, number] | null;
  repeat: { length: number; batch: number; seed: number; ids: number[][] };
  /** [L][H] per score; null where the prompt cannot define it (one token, no subject). */
  scores: Record<HeadScoreName, number[][] | null>;
  definitions: Record<HeadScoreName, string>;
  n_layer: number;
  n_head: number;
}

const MAX_REPEAT_BATCH = 64;
/** Bound on B·H·L·(2n)² recorded for the repeated sequences (256 MiB of float32). */
const MAX_PATTERN_WEIGHTS = 2 ** 26;

/**
 * `batch` rows of `length` tokens uniform over [0, vocab), each row then repeated once:
 * row r's tokens are draws r·length … (r + 1)·length − 1 of one stream, u ↦ ⌊u · vocab⌋.
 */
export function repeatedRandomTokens(opts: {
  seed: number;
  length: number;
  batch: number;
  vocab: number;
}): number[][] {
  const rng = new GaussianRng(opts.seed);
  const rows: number[][] = [];
  for (let r = 0; r < opts.batch; r++) {
    const half = Array.from({ length: opts.length }, () =>
      Math.floor(rng.nextUniform() * opts.vocab),
    );
    rows.push([...half, ...half]);
  }
  return rows;
}

function checkInt(v: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new TraceError("bad_spec", `${name} must be an integer from ${min} to ${max}, got ${v}`);
  }
  return v;
}

/** Every layer's hook_pattern for these rows, read to the host: [L] of [B, H, T, T] flat. */
export async function patterns(host: TraceHost, ids: number[][]): Promise<Float32Array[]> {
  const L = host.model.config.nLayer;
  const record = Array.from({ length: L }, (_, l) => blockHook(l, "attn.hook_pattern"));
  const { logits, activations } = host.model.forward({
    inputIds: ids,
    record,
    logitPositions: "last",
  });
  try {
    return await Promise.all(
      record.map((k) => activations.get(k)!.data() as Promise<Float32Array>),
    );
  } finally {
    tf.dispose([logits, ...activations.values()]);
  }
}

/** mean over rows b and queries q ∈ queries of Σ_{k ∈ keys(q)} A[b, h, q, k], per head. */
function headMeans(
  a: Float32Array,
  dims: { B: number; H: number; T: number },
  queries: number[],
  keys: (q: number) => number[],
): number[] {
  const { B, H, T } = dims;
  const out: number[] = [];
  for (let h = 0; h < H; h++) {
    let sum = 0;
    for (let b = 0; b < B; b++) {
      const base = (b * H + h) * T * T;
      for (const q of queries) for (const k of keys(q)) sum += a[base + q * T + k];
    }
    out.push(sum / (B * queries.length));
  }
  return out;
}

const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

export async function headScores(host: TraceHost, spec: HeadScoreSpec): Promise<HeadScoresResult> {
  const { nLayer: L, nHead: H, nCtx, vocabSize } = host.model.config;
  const ids = promptIds(host, spec.prompt);
  const T = ids.length;
  if (T > nCtx)
    throw new TraceError("too_long", `the prompt has ${T} tokens; the model's context is ${nCtx}`);
  const subject = spec.subject === undefined ? null : subjectRange(host, ids, spec.subject);
  const n = checkInt(
    spec.repeatLength ?? Math.min(20, Math.floor(nCtx / 2)),
    "the repeated sequence's length",
    2,
    Math.floor(nCtx / 2),
  );
  const batch = checkInt(
    spec.repeatBatch ?? 4,
    "the number of repeated sequences",
    1,
    MAX_REPEAT_BATCH,
  );
  const seed = checkInt(spec.seed ?? 1, "the seed", 0, 2 ** 32 - 1);
  const weights = batch * H * L * (2 * n) ** 2; // every layer's [B, H, 2n, 2n] pattern at once
  if (weights > MAX_PATTERN_WEIGHTS) {
    throw new TraceError(
      "bad_spec",
      `${batch} repeated sequences of 2 × ${n} tokens need ${weights.toLocaleString("en-US")} attention weights, more than the ${MAX_PATTERN_WEIGHTS.toLocaleString("en-US")} computed at once; use fewer or shorter sequences`,
    );
  }
  const rep = repeatedRandomTokens({ seed, length: n, batch, vocab: vocabSize });

  const onPrompt = await patterns(host, [ids]);
  const onRepeat = await patterns(host, rep);
  const p = { B: 1, H, T };
  const r = { B: batch, H, T: 2 * n };
  const later = range(1, T);
  const second = range(n, 2 * n);
  const perLayer = (acts: Float32Array[], f: (a: Float32Array) => number[]) => acts.map(f);
  const scores: Record<HeadScoreName, number[][] | null> = {
    previous_token:
      T < 2 ? null : perLayer(onPrompt, (a) => headMeans(a, p, later, (q) => [q - 1])),
    first_token: T < 2 ? null : perLayer(onPrompt, (a) => headMeans(a, p, later, () => [0])),
    subject:
      subject === null
        ? null
        : perLayer(onPrompt, (a) => headMeans(a, p, [T - 1], () => range(subject[0], subject[1]))),
    duplicate_token: perLayer(onRepeat, (a) => headMeans(a, r, second, (q) => [q - n])),
    induction: perLayer(onRepeat, (a) => headMeans(a, r, second, (q) => [q - n + 1])),
  };
  return {
    input_ids: ids,
    input_tokens: tokenTexts(host, ids),
    subject_range: subject,
    repeat: { length: n, batch, seed, ids: rep },
    scores,
    definitions: { ...HEAD_SCORE_DEFINITIONS },
    n_layer: L,
    n_head: H,
  };
}
