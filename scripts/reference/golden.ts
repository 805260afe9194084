/**
 * Reads the golden fixtures that make_goldens.py writes (test/fixtures/golden/<stem>.json +
 * .safetensors) and compares a Gpt2Model's outputs with them. Used by test/model-* and
 * test/engine-* tests.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { parseGpt2Config } from "../../lib/load/config";
import { loadGpt2Weights } from "../../lib/load/gpt2-checkpoint";
import { directorySource } from "../../lib/load/node-source";
import { parseSafetensors } from "../../lib/load/safetensors";
import type { Gpt2Config, Gpt2Weights, HostTensor } from "../../lib/load/types";
import type { Gpt2Model } from "../../lib/model/gpt2";
import type { Intervention } from "../../lib/model/intervention";

export const ROOT = path.resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");
export const GOLDEN_DIR = path.join(ROOT, "test/fixtures/golden");
export const RANDOM_MODEL_DIR = path.join(ROOT, "test/fixtures/random-gpt2-f16");
export const BUNDLED_MODEL_DIR = path.join(ROOT, "public/models/tiny-facts");

export interface GoldenCase {
  name: string;
  /** Prompt text (bundled model only); ids are what the reference ran. */
  text?: string;
  ids: number[][];
  activation?: Gpt2Config["activation"];
  interventions?: Intervention[];
  /** Hooks whose activations are stored as `<case>/<hook>`. */
  recorded: string[];
  /** Stored tensor key (without the case prefix) → shape. */
  tensors: Record<string, number[]>;
}

export interface GoldenManifest {
  model: string;
  /** sha256 of the model.safetensors the goldens were computed from. */
  modelSha256?: string;
  hooks: string[];
  cases: GoldenCase[];
}

export interface GoldenSet {
  manifest: GoldenManifest;
  tensors: Map<string, HostTensor>;
  get(caseName: string, key: string): HostTensor;
  case(name: string): GoldenCase;
}

export async function loadGolden(stem: string): Promise<GoldenSet> {
  const manifest = JSON.parse(
    await readFile(path.join(GOLDEN_DIR, `${stem}.json`), "utf8"),
  ) as GoldenManifest;
  const bytes = new Uint8Array(await readFile(path.join(GOLDEN_DIR, `${stem}.safetensors`)));
  const tensors = parseSafetensors(bytes, `${stem}.safetensors`);
  return {
    manifest,
    tensors,
    get(caseName, key) {
      const t = tensors.get(`${caseName}/${key}`);
      if (!t) throw new Error(`golden ${stem} has no tensor ${caseName}/${key}`);
      return t;
    },
    case(name) {
      const c = manifest.cases.find((x) => x.name === name);
      if (!c) throw new Error(`golden ${stem} has no case ${name}`);
      return c;
    },
  };
}

export async function loadModelDir(
  dir: string,
): Promise<{ config: Gpt2Config; weights: Gpt2Weights }> {
  const src = directorySource(dir);
  const config = parseGpt2Config(
    JSON.parse(new TextDecoder().decode(await src.read("config.json"))),
  );
  const weights = await loadGpt2Weights(src, config);
  return { config, weights };
}

/**
 * Throws unless the golden set was computed from the model.safetensors now in `dir`, so a
 * retrained model reads as "regenerate the goldens", not as a runtime bug.
 */
export async function assertGoldenMatchesModel(golden: GoldenSet, dir: string): Promise<void> {
  const sha = createHash("sha256")
    .update(await readFile(path.join(dir, "model.safetensors")))
    .digest("hex");
  if (sha !== golden.manifest.modelSha256) {
    throw new Error(
      `goldens were computed from another ${path.relative(ROOT, dir)}/model.safetensors ` +
        `(sha256 ${golden.manifest.modelSha256?.slice(0, 12)}, now ${sha.slice(0, 12)}): ` +
        "re-run python3 scripts/reference/make_goldens.py",
    );
  }
}

/** max |a − b|; Infinity on a length mismatch or any NaN. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return m;
}

/** Runs one golden case through the model; returns max |model − reference| per stored key. */
export async function compareCase(
  model: Gpt2Model,
  golden: GoldenSet,
  c: GoldenCase,
): Promise<Map<string, number>> {
  const { logits, activations } = model.forward({
    inputIds: c.ids,
    interventions: c.interventions,
    record: c.recorded,
  });
  const diffs = new Map<string, number>();
  try {
    const got = new Map<string, tf.Tensor>([["logits", logits], ...activations]);
    for (const [key, t] of got) {
      const want = golden.get(c.name, key);
      const sameShape = want.shape.join(",") === t.shape.join(",");
      diffs.set(key, sameShape ? maxAbsDiff(await t.data(), want.data) : Number.POSITIVE_INFINITY);
    }
    for (const key of c.recorded) if (!diffs.has(key)) diffs.set(key, Number.POSITIVE_INFINITY);
  } finally {
    tf.dispose([logits, ...activations.values()]);
  }
  return diffs;
}

/** The largest entry of a diff map, as [key, value]. */
export function worst(diffs: Map<string, number>): [string, number] {
  let best: [string, number] = ["", 0];
  for (const [k, v] of diffs) if (!(v <= best[1])) best = [k, v];
  return best;
}
