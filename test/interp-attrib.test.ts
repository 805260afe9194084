/**
 * Head scores, logit lens, direct logit attribution and attribution patching
 * (lib/interp/{head-scores,logit-lens,dla,attribution}.ts) against the numpy reference
 * (scripts/reference/attrib_ref.py → test/fixtures/attrib/goldens.json) on the random F16 GPT-2
 * and the bundled tiny-facts model; DLA's sum; gradients by finite differences; errors; tensors.
 */
import "../lib/model/backends-node";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../lib/engine";
import { type AttributionScores, attributionPatching, pearson } from "../lib/interp/attribution";
import { directLogitAttribution } from "../lib/interp/dla";
import { HEAD_SCORE_DEFINITIONS, HEAD_SCORE_NAMES, headScores } from "../lib/interp/head-scores";
import { logitLens } from "../lib/interp/logit-lens";
import { runPatch } from "../lib/interp/patch";
import { TraceError } from "../lib/interp/spec";
import { selectBackend } from "../lib/model/backend";
import { ROOT } from "../scripts/reference/golden";
import { BUNDLED_DIR, loadEngine, maxDiff } from "./interp-helpers";

const TOL = 1e-4;

// biome-ignore lint/suspicious/noExplicitAny: plain JSON written by attrib_ref.py
type Golden = { name: string; type: string; model: string; spec: any } & Record<string, any>;
const goldens = JSON.parse(
  readFileSync(path.join(ROOT, "test/fixtures/attrib/goldens.json"), "utf8"),
) as { bundledSha256: string; cases: Golden[] };
const byName = (name: string) => goldens.cases.find((c) => c.name === name) as Golden;
const ofType = (type: string) => goldens.cases.filter((c) => c.type === type);

const engines: Record<string, Engine> = {};
const tensors = () => tf.memory().numTensors;

beforeAll(async () => {
  await selectBackend(["wasm"]);
  const sha = createHash("sha256")
    .update(readFileSync(path.join(BUNDLED_DIR, "model.safetensors")))
    .digest("hex");
  if (sha !== goldens.bundledSha256)
    throw new Error(
      "attrib goldens are for another tiny-facts: re-run scripts/reference/attrib_ref.py",
    );
  engines["random-gpt2-f16"] = await loadEngine("random-gpt2-f16");
  engines["tiny-facts"] = await loadEngine(BUNDLED_DIR);
});
afterAll(() => {
  for (const e of Object.values(engines)) e.dispose();
});

describe("head scores (numpy reference)", () => {
  for (const c of ofType("heads")) {
    it(`${c.name}: every score within ${TOL}`, async () => {
      const before = tensors();
      const r = await headScores(engines[c.model], c.spec);
      expect(tensors()).toBe(before);
      expect(r.repeat.ids).toEqual(c.repeat_ids); // the same seeded random tokens
      if (c.subject_range) expect(r.subject_range).toEqual(c.subject_range);
      for (const name of HEAD_SCORE_NAMES) {
        const d = maxDiff(r.scores[name], c.scores[name]);
        console.log(`${c.name} ${name}: max |Δ| ${d.toExponential(2)}`);
        expect(d, name).toBeLessThan(TOL);
        expect(HEAD_SCORE_DEFINITIONS[name].length).toBeGreaterThan(20);
      }
    });
  }

  it("without a subject the subject score is null; a one-token prompt has no previous token", async () => {
    const r = await headScores(engines["random-gpt2-f16"], { prompt: [5], repeatLength: 4 });
    expect(r.scores.subject).toBeNull();
    expect(r.scores.previous_token).toBeNull();
    expect(r.scores.induction).toHaveLength(2);
  });

  it("refuses a repeated sequence longer than half the context", async () => {
    await expect(
      headScores(engines["random-gpt2-f16"], { prompt: [1, 2], repeatLength: 17 }),
    ).rejects.toThrow(/from 2 to 16/);
  });

  it("refuses repeated sequences whose patterns would not fit at once", async () => {
    // GPT-2-small-sized: 64 × 12 heads × 12 layers × 1024² weights
    const big = { ...engines["random-gpt2-f16"].model.config, nCtx: 1024, nHead: 12, nLayer: 12 };
    const host = { model: { config: big } } as unknown as Engine;
    await expect(
      headScores(host, { prompt: [1, 2], repeatLength: 512, repeatBatch: 64 }),
    ).rejects.toThrow(/attention weights/);
  });
});

describe("logit lens (numpy reference)", () => {
  for (const c of ofType("lens")) {
    it(`${c.name}: p(target) and top-k within ${TOL}`, async () => {
      const before = tensors();
      const r = await logitLens(engines[c.model], c.spec);
      expect(tensors()).toBe(before);
      if (c.input_ids) expect(r.input_ids).toEqual(c.input_ids);
      expect(r.target.id).toBe(c.target);
      expect(r.layers).toHaveLength(engines[c.model].model.config.nLayer + 1);
      const dp = maxDiff(r.target_prob, c.target_prob);
      console.log(`${c.name}: p(target) max |Δ| ${dp.toExponential(2)}`);
      expect(dp).toBeLessThan(TOL);
      const probs = r.top.map((row) => row.map((cell) => cell.map((x) => x.prob)));
      expect(maxDiff(probs, c.top_prob)).toBeLessThan(TOL);
      // ids agree wherever the reference's k-th and (k+1)-th are not a near tie
      const ids = r.top.map((row) => row.map((cell) => cell.map((x) => x.id)));
      expect(ids[ids.length - 1][0][0]).toBe(c.top_ids[ids.length - 1][0][0]);
      let checked = 0;
      for (const [i, row] of (c.top_ids as number[][][]).entries()) {
        for (const [t, cell] of row.entries()) {
          const p = c.top_prob[i][t] as number[];
          if (p.every((v, j) => j === 0 || p[j - 1] - v > 1e-4)) {
            expect(ids[i][t]).toEqual(cell);
            checked++;
          }
        }
      }
      expect(checked).toBeGreaterThan(0);
    });
  }

  it("refuses a multi-token target and a bad top-k", async () => {
    const e = engines["tiny-facts"];
    await expect(logitLens(e, { prompt: "Ralkrok lives in", topK: 0 })).rejects.toThrow(TraceError);
    await expect(
      logitLens(e, { prompt: "Ralkrok lives in", target: " Ralkrok Stennos" }),
    ).rejects.toThrow(/single token/);
  });
});

describe("direct logit attribution (numpy reference)", () => {
  for (const c of ofType("dla")) {
    it(`${c.name}: every term within ${TOL}; terms sum to the logit difference within 1e-4`, async () => {
      const before = tensors();
      const r = await directLogitAttribution(engines[c.model], c.spec);
      expect(tensors()).toBe(before);
      expect(Math.abs(r.logit_diff - c.logit_diff)).toBeLessThan(TOL);
      const dh = maxDiff(r.heads, c.heads);
      console.log(
        `${c.name}: heads max |Δ| ${dh.toExponential(2)}, sum − LD ${(r.total - r.logit_diff).toExponential(2)}`,
      );
      expect(dh).toBeLessThan(TOL);
      expect(maxDiff(r.mlp, c.mlp)).toBeLessThan(TOL);
      expect(maxDiff(r.attn_bias, c.attn_bias)).toBeLessThan(TOL);
      for (const k of ["embed", "pos_embed", "ln_final_bias", "final_scale"] as const)
        expect(Math.abs(r[k] - c[k]), k).toBeLessThan(TOL);
      // the decomposition is exact: heads + biases + MLPs + embeddings + LN bias = LD
      const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
      const total =
        sum(r.heads.flat()) +
        sum(r.attn_bias) +
        sum(r.mlp) +
        r.embed +
        r.pos_embed +
        r.ln_final_bias;
      expect(Math.abs(total - r.total)).toBeLessThan(1e-9);
      expect(Math.abs(total - r.logit_diff)).toBeLessThan(1e-4);
    });
  }

  it("refuses the same target and foil, and a position outside the prompt", async () => {
    const e = engines["random-gpt2-f16"];
    await expect(
      directLogitAttribution(e, { prompt: [1, 2, 3], target: 4, foil: 4 }),
    ).rejects.toThrow(/same token/);
    await expect(
      directLogitAttribution(e, { prompt: [1, 2, 3], target: 4, foil: 5, position: 3 }),
    ).rejects.toThrow(/outside/);
  });
});

const SITES: (keyof AttributionScores)[] = [
  "resid_pre",
  "attn_out",
  "mlp_out",
  "head_out",
  "head_out_pos",
];

describe("attribution patching (numpy reference: central differences in float64)", () => {
  const byModel = new Map<string, Golden[]>();
  for (const c of ofType("attrib")) byModel.set(c.model, [...(byModel.get(c.model) ?? []), c]);
  for (const [model, cases] of byModel) {
    it(`${model}: estimates within ${TOL} of the reference's directional derivatives`, async () => {
      const before = tensors();
      const { site: _, ...spec } = cases[0].spec;
      const r = await attributionPatching(engines[model], spec);
      expect(tensors()).toBe(before);
      for (const c of cases) {
        const site = c.spec.site as keyof AttributionScores;
        const d = maxDiff(r.scores[site], c.scores);
        console.log(`${c.name}: max |Δ| ${d.toExponential(2)}`);
        expect(d, site).toBeLessThan(TOL);
      }
    });
  }

  it("correlation with exact patching equals the reference's on the same grid", async () => {
    const c = byName("random-attrib-head_out_pos");
    const e = engines[c.model];
    const { site: _, ...spec } = c.spec;
    const est = await attributionPatching(e, spec);
    const exact = await runPatch(e, { ...spec, site: "head_out_pos" });
    const r = pearson(est.scores.head_out_pos.flat(2), (exact.scores as number[][][]).flat(2));
    expect(Math.abs(r - c.correlation)).toBeLessThan(1e-4);
    for (const site of SITES) expect(est.scores[site]).toHaveLength(e.model.config.nLayer);
  });

  it("gradients agree with finite differences of the model itself (tfjs, float32)", async () => {
    // LD along the (clean − corrupt) direction at one cell, from two forwards with ±ε added
    const c = byName("random-attrib-resid_pre");
    const e = engines[c.model];
    const { site: _, ...spec } = c.spec;
    const est = await attributionPatching(e, spec);
    const L = e.model.config.nLayer;
    const hook = `blocks.${L - 1}.hook_resid_pre`;
    const t = c.spec.clean.length - 1;
    const rec = (ids: number[]) => e.model.forward({ inputIds: [ids], record: [hook] });
    const cl = rec(c.spec.clean);
    const co = rec(c.spec.corrupt);
    const T = c.spec.clean.length;
    const D = e.model.config.dModel;
    const delta = tf.tidy(() =>
      cl.activations
        .get(hook)!
        .sub(co.activations.get(hook)!)
        .reshape([T, D])
        .slice([t, 0], [1, D]),
    );
    const eps = 0.01;
    const ld = async (sign: number) => {
      const v = tf.tidy(() => delta.mul(sign * eps).reshape([D]));
      const out = e.model.forward({
        inputIds: [c.spec.corrupt],
        interventions: [{ hook, op: "add", positions: [t], value: v }],
        logitPositions: "last",
      });
      const d = await out.logits.data();
      tf.dispose([v, out.logits]);
      return d[c.spec.target] - d[c.spec.foil];
    };
    const fd = (await ld(1)) - (await ld(-1));
    const denom = est.clean_logit_diff - est.corrupt_logit_diff;
    const numeric = fd / (2 * eps) / denom;
    tf.dispose([
      delta,
      cl.logits,
      co.logits,
      ...cl.activations.values(),
      ...co.activations.values(),
    ]);
    console.log(`finite difference ${numeric}, gradient ${est.scores.resid_pre[L - 1][t]}`);
    expect(Math.abs(numeric - est.scores.resid_pre[L - 1][t])).toBeLessThan(2e-4); // measured 1.9e-5
    expect(Math.abs(est.scores.resid_pre[L - 1][t])).toBeGreaterThan(1e-3); // not a trivial zero
  });

  it("refuses prompts of different lengths", async () => {
    await expect(
      attributionPatching(engines["random-gpt2-f16"], {
        clean: [1, 2, 3],
        corrupt: [1, 2],
        target: 4,
        foil: 5,
      }),
    ).rejects.toThrow(/same number of tokens/);
  });
});
