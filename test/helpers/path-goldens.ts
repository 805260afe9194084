/**
 * The path-patching goldens (scripts/reference/path_patch_ref.py → goldens.json on GPT-2 models,
 * path_patch_family_ref.py → family-goldens.json on Llama / NeoX), read once for every test that
 * checks path patching against them.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import type { Gpt2Model } from "../../lib/model/gpt2";
import { ROOT } from "../../scripts/reference/golden";
import { loadModelDir } from "./load-model-dir";

export interface PathGolden {
  name: string;
  model: string;
  /** family-goldens.json: the model's folder, from the repository root. */
  dir?: string;
  spec: {
    clean: number[];
    corrupt: number[];
    target: number;
    foil: number;
    sender: [number, number];
    inputs: ("q" | "k" | "v")[];
    receivers?: [number, number][];
  };
  clean_logit_diff: number;
  corrupt_logit_diff: number;
  /** [L][H]; null where a head is not a receiver (layers up to the sender's). */
  scores: (number | null)[][];
  joint?: number;
}

export interface PathGoldenFile {
  bundledSha256?: string;
  bundledLlamaSha256?: string;
  cases: PathGolden[];
}

/** The models of the cases that name a folder (`dir`), loaded once each, by case model name. */
export async function loadGoldenModels(
  cases: readonly { model: string; dir?: string }[],
): Promise<Map<string, Gpt2Model>> {
  const models = new Map<string, Gpt2Model>();
  for (const c of cases) {
    if (models.has(c.model) || c.dir === undefined) continue;
    models.set(c.model, await loadModelDir(path.join(ROOT, c.dir)));
  }
  return models;
}

export function readPathGoldens(file: "goldens.json" | "family-goldens.json"): PathGoldenFile {
  return JSON.parse(
    readFileSync(path.join(ROOT, "test/fixtures/path-patch", file), "utf8"),
  ) as PathGoldenFile;
}

/** One case of goldens.json by name. */
export function pathGolden(name: string): PathGolden {
  const c = readPathGoldens("goldens.json").cases.find((x) => x.name === name);
  if (!c) throw new Error(`no path-patch golden named ${name}`);
  return c;
}

const head = ([layer, head]: [number, number]) => ({ layer, head });

/** The golden's spec as runPathPatch takes it. */
export function pathSpecOf(c: PathGolden) {
  return {
    clean: c.spec.clean,
    corrupt: c.spec.corrupt,
    target: c.spec.target,
    foil: c.spec.foil,
    sender: head(c.spec.sender),
    inputs: c.spec.inputs,
    receivers: c.spec.receivers?.map(head),
  };
}

/**
 * The largest |got − want| over a golden's receivers; a cell the golden marks null (not a
 * receiver: the sender's layer or earlier) must be NaN in `got`.
 */
export function receiverGridDiff(got: number[][], want: (number | null)[][]): number {
  let d = 0;
  want.forEach((row, l) => {
    row.forEach((w, h) => {
      const g = got[l][h];
      if (w === null) expect(g, `L${l}H${h} is not a receiver`).toBeNaN();
      else d = Math.max(d, Math.abs(g - w));
    });
  });
  return d;
}
