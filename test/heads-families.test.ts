/**
 * Head scores and the all-heads patterns on the other families, against numpy
 * (scripts/reference/heads_family_ref.py: attrib_ref's head scores with llama_ref / neox_ref's
 * forwards): the bundled tiny-facts-llama (with its BOS) and random GQA Llama (BF16) and parallel
 * Pythia (F16) fixtures. Every score within 1e-4; the previous-token, first-token and subject
 * scores recomputed from allHeadPatterns' [L, H, T, T] (what the app's grid draws) within 1e-4;
 * no tensors left.
 */
import "../lib/model/backends-node";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allHeadPatterns } from "../lib/interp/head-patterns";
import { HEAD_SCORE_NAMES, headScores } from "../lib/interp/head-scores";
import { loadWeights, readModelConfig } from "../lib/load/model-files";
import { directorySource } from "../lib/load/node-source";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { ROOT } from "../scripts/reference/golden";
import { maxDiff } from "./interp-helpers";

const TOL = 1e-4;

interface Case {
  name: string;
  dir: string;
  ids: number[];
  subject: [number, number];
  spec: { repeatLength: number; repeatBatch: number; seed: number };
  repeat_ids: number[][];
  scores: Record<string, number[][]>;
}
const goldens = JSON.parse(
  readFileSync(path.join(ROOT, "test/fixtures/heads/family-goldens.json"), "utf8"),
) as { bundledLlamaSha256: string; cases: Case[] };

const models = new Map<string, Gpt2Model>();
beforeAll(async () => {
  await selectBackend(["wasm"]);
  const sha = createHash("sha256")
    .update(readFileSync(path.join(ROOT, "public/models/tiny-facts-llama/model.safetensors")))
    .digest("hex");
  if (sha !== goldens.bundledLlamaSha256) {
    throw new Error("heads goldens are for another tiny-facts-llama: rerun heads_family_ref.py");
  }
  for (const c of goldens.cases) {
    const source = directorySource(path.join(ROOT, c.dir));
    const config = await readModelConfig(source);
    models.set(c.name, Gpt2Model.fromWeights(config, await loadWeights(source, config)));
  }
});
afterAll(() => {
  for (const m of models.values()) m.dispose();
});

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe.each(goldens.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
  it("head scores and the grid's patterns match numpy", async () => {
    const host = { model: models.get(c.name) as Gpt2Model };
    const before = tf.memory().numTensors;
    const r = await headScores(host, { prompt: c.ids, subject: c.subject, ...c.spec });
    const shown = await allHeadPatterns(host, c.ids);
    expect(tf.memory().numTensors).toBe(before);
    expect(r.repeat.ids).toEqual(c.repeat_ids);
    for (const name of HEAD_SCORE_NAMES) {
      const d = maxDiff(r.scores[name], c.scores[name]);
      console.log(`${c.name} ${name}: max |Δ| ${d.toExponential(2)}`);
      expect(d, name).toBeLessThan(TOL);
    }
    const { nLayer: L, nHead: H } = shown;
    const T = c.ids.length;
    const a = shown.patterns as Float32Array;
    expect(a.length).toBe(L * H * T * T);
    const mean = (queries: number[], keys: (q: number) => number[]) =>
      Array.from({ length: L }, (_, l) =>
        Array.from({ length: H }, (_, h) => {
          let s = 0;
          for (const q of queries) for (const k of keys(q)) s += a[((l * H + h) * T + q) * T + k];
          return s / queries.length;
        }),
      );
    const [b, e] = c.subject;
    expect(
      maxDiff(
        mean(range(1, T), (q) => [q - 1]),
        c.scores.previous_token,
      ),
    ).toBeLessThan(TOL);
    expect(
      maxDiff(
        mean(range(1, T), () => [0]),
        c.scores.first_token,
      ),
    ).toBeLessThan(TOL);
    expect(
      maxDiff(
        mean([T - 1], () => range(b, e)),
        c.scores.subject,
      ),
    ).toBeLessThan(TOL);
  });
});
