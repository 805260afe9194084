/**
 * Shared by test/interp-*.test.ts and test/cli-*.test.ts: the sweep goldens written by
 * scripts/reference/trace_ref.py and the models they were computed on.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Engine } from "../lib/engine";
import { directorySource } from "../lib/load/node-source";
import { ROOT } from "../scripts/reference/golden";

export const TRACE_DIR = path.join(ROOT, "test/fixtures/trace");
export const TINY_DIR = path.join(TRACE_DIR, "tiny-4l");
export const RANDOM_DIR = path.join(ROOT, "test/fixtures/random-gpt2-f16");
export const BUNDLED_DIR = path.join(ROOT, "public/models/tiny-facts");

export interface TraceGolden {
  name: string;
  type: "trace";
  model: string;
  // biome-ignore lint/suspicious/noExplicitAny: plain JSON spec, checked by the engine
  spec: any;
  target: number[];
  high_score: number;
  low_score: number;
  noise_sigma: number | null;
  scores: number[][];
  input_ids?: number[];
  subject_range?: [number, number];
}

export interface PatchGolden {
  name: string;
  type: "patch";
  model: string;
  // biome-ignore lint/suspicious/noExplicitAny: plain JSON spec
  spec: any;
  clean_logit_diff: number;
  corrupt_logit_diff: number;
  clean_prob: number;
  corrupt_prob: number;
  scores: number[][] | number[][][];
  prob_scores: number[][] | number[][][];
}

export interface Goldens {
  rng: { seed: number; scale: number; values: number[] }[];
  cases: (TraceGolden | PatchGolden)[];
}

export function loadTraceGoldens(): Goldens {
  return JSON.parse(readFileSync(path.join(TRACE_DIR, "goldens.json"), "utf8")) as Goldens;
}

const DIRS: Record<string, string> = { "tiny-4l": TINY_DIR, "random-gpt2-f16": RANDOM_DIR };

export function loadEngine(name: string): Promise<Engine> {
  return Engine.load(directorySource(DIRS[name] ?? name), name);
}

export function flat(x: unknown): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : [x as number];
}

export function maxDiff(a: unknown, b: unknown): number {
  const fa = flat(a);
  const fb = flat(b);
  if (fa.length !== fb.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < fa.length; i++) {
    const d = Math.abs(fa[i] - fb[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return m;
}
