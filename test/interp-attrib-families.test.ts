/**
 * Logit lens, direct logit attribution and attribution patching on the rotary families, against numpy
 * (scripts/reference/attrib_family_ref.py → test/fixtures/attrib/family-goldens.json: llama_ref /
 * neox_ref forwards in float64, DLA with the family's own final norm and unembedding, attribution
 * patching as central differences along clean − corrupt): the bundled tiny-facts-llama (untied
 * lm_head, RMSNorm, GQA) and random Llama GQA, tied Llama, sharded Qwen2, parallel Pythia and
 * sequential GPT-NeoX fixtures. Every term within 1e-4; the DLA terms sum to the logit difference
 * within 1e-4; no tensors left.
 */
import "../lib/model/backends-node";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AttributionScores,
  attributionPatching,
  compareWithPatching,
} from "../lib/interp/attribution";
import { type DlaResult, directLogitAttribution } from "../lib/interp/dla";
import { logitLens } from "../lib/interp/logit-lens";
import { loadWeights, readModelConfig } from "../lib/load/model-files";
import { directorySource } from "../lib/load/node-source";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { ROOT } from "../scripts/reference/golden";
import { maxDiff } from "./interp-helpers";

const TOL = 1e-4;

type DlaGolden = { position: number } & Pick<
  DlaResult,
  | "logit_diff"
  | "heads"
  | "attn_bias"
  | "mlp"
  | "embed"
  | "pos_embed"
  | "ln_final_bias"
  | "final_scale"
  | "final_norm"
>;
interface Case {
  name: string;
  dir: string;
  clean: number[];
  corrupt: number[];
  dla_target: number;
  dla_foil: number;
  dla: DlaGolden[];
  attrib_target: number;
  attrib_foil: number;
  attrib: Record<
    string,
    { scores: number[][] | number[][][]; exact: number[][] | number[][][]; correlation: number }
  >;
  lens: { target: number; target_prob: number[][]; top_ids: number[][][]; top_prob: number[][][] };
}
const goldens = JSON.parse(
  readFileSync(path.join(ROOT, "test/fixtures/attrib/family-goldens.json"), "utf8"),
) as { bundledLlamaSha256: string; cases: Case[] };

const models = new Map<string, Gpt2Model>();
const tensors = () => tf.memory().numTensors;
const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);

beforeAll(async () => {
  await selectBackend(["wasm"]);
  const sha = createHash("sha256")
    .update(readFileSync(path.join(ROOT, "public/models/tiny-facts-llama/model.safetensors")))
    .digest("hex");
  if (sha !== goldens.bundledLlamaSha256) {
    throw new Error(
      "attrib family goldens are for another tiny-facts-llama: rerun python3 scripts/reference/attrib_family_ref.py",
    );
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

describe.each(goldens.cases.map((c) => [c.name, c] as const))("%s", (name, c) => {
  for (const g of c.dla) {
    it(`DLA at position ${g.position}: every term within ${TOL}, summing to the logit difference`, async () => {
      const host = { model: models.get(name)! };
      const before = tensors();
      const r = await directLogitAttribution(host, {
        prompt: c.clean,
        target: c.dla_target,
        foil: c.dla_foil,
        position: g.position,
      });
      expect(tensors()).toBe(before);
      expect(r.final_norm).toBe(g.final_norm);
      expect(Math.abs(r.logit_diff - g.logit_diff)).toBeLessThan(TOL);
      const dh = maxDiff(r.heads, g.heads);
      const total =
        sum(r.heads.flat()) +
        sum(r.attn_bias) +
        sum(r.mlp) +
        r.embed +
        r.pos_embed +
        r.ln_final_bias;
      console.log(
        `${name} DLA@${g.position}: heads max |Δ| ${dh.toExponential(2)}, sum − LD ${(total - r.logit_diff).toExponential(2)}`,
      );
      expect(dh).toBeLessThan(TOL);
      expect(maxDiff(r.mlp, g.mlp)).toBeLessThan(TOL);
      expect(maxDiff(r.attn_bias, g.attn_bias)).toBeLessThan(TOL);
      for (const k of ["embed", "pos_embed", "ln_final_bias", "final_scale"] as const)
        expect(Math.abs(r[k] - g[k]), k).toBeLessThan(TOL);
      expect(Math.abs(total - r.total)).toBeLessThan(1e-9);
      expect(Math.abs(total - r.logit_diff)).toBeLessThan(1e-4);
    });
  }

  it(`attribution patching: ${Object.keys(c.attrib).join(", ")} within ${TOL} of the reference's directional derivatives`, async () => {
    const host = { model: models.get(name)! };
    const before = tensors();
    const r = await attributionPatching(host, {
      clean: c.clean,
      corrupt: c.corrupt,
      target: c.attrib_target,
      foil: c.attrib_foil,
    });
    expect(tensors()).toBe(before);
    for (const [site, g] of Object.entries(c.attrib)) {
      const d = maxDiff(r.scores[site as keyof AttributionScores], g.scores);
      console.log(`${name} attrib ${site}: max |Δ| ${d.toExponential(2)}`);
      expect(d, site).toBeLessThan(TOL);
    }
  });
});

describe.each(goldens.cases.map((c) => [c.name, c] as const))("%s logit lens", (name, c) => {
  it(`p(target) and the top-5 probabilities within ${TOL}, decoded with the family's final norm`, async () => {
    const model = models.get(name)!;
    const before = tensors();
    const r = await logitLens({ model }, { prompt: c.clean, topK: 5 });
    expect(tensors()).toBe(before);
    expect(r.target.id).toBe(c.lens.target);
    expect(r.target_prob).toHaveLength(model.config.nLayer + 1);
    const dp = maxDiff(r.target_prob, c.lens.target_prob);
    console.log(`${name} lens: p(target) max |Δ| ${dp.toExponential(2)}`);
    expect(dp).toBeLessThan(TOL);
    const probs = r.top.map((row) => row.map((cell) => cell.map((x) => x.prob)));
    expect(maxDiff(probs, c.lens.top_prob)).toBeLessThan(TOL);
  });
});

describe("exact patching beside the estimate on a parallel NeoX block", () => {
  it("head_out: exact scores and their correlation with the estimate match numpy", async () => {
    const c = goldens.cases.find((x) => x.name === "pythia-parallel-f16")!;
    const host = { model: models.get(c.name)! };
    const spec = {
      clean: c.clean,
      corrupt: c.corrupt,
      target: c.attrib_target,
      foil: c.attrib_foil,
    };
    const est = await attributionPatching(host, spec);
    const [cmp] = await compareWithPatching(host, spec, est, ["head_out"]);
    expect(maxDiff(cmp.exact, c.attrib.head_out.exact)).toBeLessThan(TOL);
    expect(Math.abs(cmp.correlation - c.attrib.head_out.correlation)).toBeLessThan(1e-3);
  });
});
