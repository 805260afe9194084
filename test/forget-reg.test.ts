/**
 * The forgetting regulariser (lib/edit/forget.ts) and full fine-tuning (lib/edit/finetune.ts)
 * against torch (scripts/reference/forget_reg_ref.py → test/fixtures/edit/forget-reg.json) on the
 * seeded random GPT-2 of the edit tests: the importance Ω (SI along 3 SGD steps on general text),
 * the hierarchical penalty and its gradient, and 4 Adam steps of a LoRA edit and of a full
 * fine-tuning edit with loss = suffix NLL + λ·penalty (losses, penalties, what was learned).
 */
import "../lib/model/backends-node";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeImportance, type ForgetWeight, forgettingPenalty } from "../lib/edit/forget";
import { learnLora } from "../lib/edit/lora";
import type { LoraEdit } from "../lib/edit/types";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { charTokenizer, randomWeights, SMALL } from "./fixtures/edit/random-model";

interface Golden {
  texts: string[];
  importance_params: { steps: number; lr: number; xi: number; batch: number };
  importance: (ForgetWeight & { omega: number[] })[];
  raw_mean: number;
  penalty: {
    deltas: (ForgetWeight & { delta: number[] })[];
    value: number;
    grads: number[][];
  };
  edit: {
    prefix: string;
    suffix: string;
    prefix_ids: number[];
    suffix_ids: number[];
    layers: [number, number];
    rank: number;
    alpha: number;
    lr: number;
    full_lr: number;
    seed: number;
    steps: number;
    lambda: number;
  };
  lora: { losses: number[]; penalties: number[]; factors: { a: number[]; b: number[] }[] };
  full: { losses: number[]; penalties: number[]; deltas: { delta: number[] }[] };
}

const G: Golden = JSON.parse(
  readFileSync(path.join(import.meta.dirname, "fixtures/edit/forget-reg.json"), "utf8"),
);
const tok = charTokenizer;
let model: Gpt2Model;

/** max |a − b| / max(1, |b|) over the elements. */
const relErr = (a: ArrayLike<number>, b: readonly number[]) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < b.length; i++)
    m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
};

const edit = (full: boolean): LoraEdit => ({
  kind: "lora",
  site: { layers: G.edit.layers },
  params: {
    prefix: G.edit.prefix,
    suffix: G.edit.suffix,
    rank: G.edit.rank,
    alpha: G.edit.alpha,
    modules: ["c_proj"],
    steps: G.edit.steps,
    lr: full ? G.edit.full_lr : G.edit.lr,
    seed: G.edit.seed,
    epsilon: 1e6, // no cap: the last state is kept
    eval_prompts: ["the dog sat on the"],
    ...(full ? { full: true } : {}),
    forget: { lambda: G.edit.lambda, ...G.importance_params },
  },
});

describe("forgetting regulariser vs torch (random GPT-2)", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    model = Gpt2Model.fromWeights(SMALL, randomWeights());
  });
  afterAll(() => model?.dispose());

  it("the tokenizer gives the reference's ids", () => {
    expect(tok.encode(G.edit.prefix)).toEqual(G.edit.prefix_ids);
    expect(tok.encode(G.edit.suffix)).toEqual(G.edit.suffix_ids);
  });

  it("element-wise importance Ω (SI along SGD steps on general text, mean 1)", async () => {
    const before = tf.memory().numTensors;
    const imp = await computeImportance({
      model,
      tok,
      weights: G.importance.map(({ layer, name }) => ({ layer, name })),
      texts: G.texts,
      params: { lambda: 1, ...G.importance_params },
    });
    expect(Math.abs(imp.rawMean - G.raw_mean) / G.raw_mean).toBeLessThan(1e-4);
    for (const [i, g] of G.importance.entries()) {
      expect(imp.weights[i]).toMatchObject({ layer: g.layer, name: g.name });
      expect(relErr(await imp.weights[i].omega.data(), g.omega)).toBeLessThan(1e-3);
    }
    // the golden is not flat: the importance tells elements apart
    const om = G.importance[0].omega;
    expect(Math.max(...om) / Math.min(...om)).toBeGreaterThan(100);
    imp.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("the hierarchical penalty Σ_l c_l R_l and its gradient", async () => {
    const imp = await computeImportance({
      model,
      tok,
      weights: G.importance.map(({ layer, name }) => ({ layer, name })),
      texts: G.texts,
      params: { lambda: 1, ...G.importance_params },
    });
    const ds = G.penalty.deltas.map((d) => {
      const w = model.blockWeight(d.layer, d.name);
      return tf.tensor2d(d.delta, w.shape as [number, number]);
    });
    const f = (...xs: tf.Tensor[]) =>
      forgettingPenalty(
        imp,
        G.penalty.deltas.map((d, i) => ({ layer: d.layer, name: d.name, delta: xs[i] })),
      );
    const { value, grads } = tf.valueAndGrads(f)(ds);
    expect(Math.abs((await value.data())[0] - G.penalty.value) / G.penalty.value).toBeLessThan(
      1e-4,
    );
    for (const [i, g] of grads.entries()) {
      const scale = Math.max(...G.penalty.grads[i].map(Math.abs));
      const got = await g.data();
      const err = Math.max(...G.penalty.grads[i].map((x, j) => Math.abs(got[j] - x)));
      expect(err / scale).toBeLessThan(1e-4);
    }
    tf.dispose([value, ...grads, ...ds]);
    imp.dispose();
  });

  /** Learns the edit with the regulariser; its losses and penalties must follow torch's. */
  const learnAgainst = async (full: boolean, g: { losses: number[]; penalties: number[] }) => {
    const e = await learnLora(model, tok, edit(full), { dataset: { general_text: G.texts } });
    const info = e.learned!.info!;
    expect(info.forget?.lambda).toBe(G.edit.lambda);
    expect(
      relErr(
        info.losses.map((l) => l.loss),
        g.losses,
      ),
    ).toBeLessThan(2e-3);
    const penalties = info.losses.map((l) => l.penalty ?? Number.NaN);
    expect(relErr(penalties, g.penalties)).toBeLessThan(2e-3);
    return e;
  };

  it("LoRA with the regulariser follows torch's Adam trajectory", async () => {
    const e = await learnAgainst(false, G.lora);
    for (const [i, f] of e.learned!.factors.entries()) {
      expect(relErr(f.a, G.lora.factors[i].a)).toBeLessThan(2e-3);
      expect(relErr(f.b, G.lora.factors[i].b)).toBeLessThan(2e-3);
    }
  });

  it("full fine-tuning of the layer range with the regulariser follows torch", async () => {
    const e = await learnAgainst(true, G.full);
    // ΔW stored exactly: c_proj [64, 32] → A = ΔW [64, 32], B = I [32, 32], rank 32, s = 1
    expect(e.params).toMatchObject({ full: true, rank: 32, alpha: 32 });
    expect(e.learned!.info!.params).toBe(2 * 64 * 32);
    for (const [i, f] of e.learned!.factors.entries()) {
      expect(relErr(f.a, G.full.deltas[i].delta)).toBeLessThan(2e-3);
      expect(f.b.filter((x, j) => x !== (j % 33 === 0 ? 1 : 0))).toEqual([]);
    }
  });
});
