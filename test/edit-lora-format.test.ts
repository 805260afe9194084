/**
 * The lora edit as data: parsing (structure errors name the field), checks against a model
 * (factor sizes, layers, rank), its plan (one low_rank patch per factor, s = α / r) and the
 * canonical-example recipe the edit form builds.
 */
import { describe, expect, it } from "vitest";
import { canonicalRecipe } from "../components/edit-forms/canonical-recipe";
import { addLowRank } from "../lib/edit/lora-site";
import { parseEdit, parseEditFile, serializeEdits } from "../lib/edit/parse";
import { checkEdit, planEdits } from "../lib/edit/plan";
import { describeEdit, type LoraEdit } from "../lib/edit/types";
import type { Gpt2Config } from "../lib/load/types";

const config = { nLayer: 3, nHead: 2, dModel: 4, dMlp: 8, nCtx: 16, vocabSize: 10 } as Gpt2Config;

const learned = (): LoraEdit => ({
  kind: "lora",
  site: { layers: [1, 2] },
  params: { prefix: "a b", suffix: " c", rank: 2, alpha: 3, modules: ["c_fc", "c_proj"] },
  learned: {
    factors: [
      { layer: 1, module: "c_fc", a: new Array(4 * 2).fill(0.1), b: new Array(2 * 8).fill(0.2) },
      { layer: 2, module: "c_proj", a: new Array(8 * 2).fill(0.3), b: new Array(2 * 4).fill(-1) },
    ],
  },
});

describe("lora edits as data", () => {
  it("round-trips through the edit file format", () => {
    const e = learned();
    const back = parseEditFile(JSON.parse(serializeEdits([e]))).edits[0];
    expect(back).toEqual(e);
    expect(describeEdit(e)).toBe('lora c_fc,c_proj L1-2 r=2: "a b" → " c"');
  });

  it("parse errors name the field", () => {
    const bad = (x: object, re: RegExp) => expect(() => parseEdit(x, 3)).toThrow(re);
    bad({ kind: "lora", params: { prefix: "a" } }, /edit 3: params.suffix must be a string/);
    bad({ kind: "lora", params: { prefix: "", suffix: "b" } }, /must not be empty/);
    bad({ kind: "lora", params: { prefix: "a", suffix: "b", rank: 0 } }, /rank must be at least 1/);
    bad({ kind: "lora", params: { prefix: "a", suffix: "b", modules: ["mlp"] } }, /modules\[0\]/);
    bad(
      { kind: "lora", site: { layers: [1] }, params: { prefix: "a", suffix: "b" } },
      /\[first, last\]/,
    );
    bad({ kind: "lora", params: { prefix: "a", suffix: "b", eval_prompts: [] } }, /eval_prompts/);
    bad({ kind: "lora", params: { prefix: "a", suffix: "b", full: "yes" } }, /params.full must/);
    bad({ kind: "lora", params: { prefix: "a", suffix: "b", forget: 1 } }, /params.forget must/);
    bad(
      { kind: "lora", params: { prefix: "a", suffix: "b", forget: { lambda: -1 } } },
      /edit 3: params.forget.lambda must be ≥ 0/,
    );
    bad(
      { kind: "lora", params: { prefix: "a", suffix: "b", forget: { lambda: 1, steps: 0.5 } } },
      /params.forget.steps must be a whole number/,
    );
    bad(
      {
        kind: "lora",
        params: { prefix: "a", suffix: "b" },
        learned: { factors: [{ layer: 0, module: "c_fc", a: [1], b: "x" }] },
      },
      /factors\[0\]\.b/,
    );
  });

  it("checks sizes and layers against the model", () => {
    expect(() => checkEdit(learned(), config)).not.toThrow();
    const e = learned();
    e.learned!.factors[0].a = [1, 2, 3];
    expect(() => checkEdit(e, config)).toThrow(/factor A of c_fc L1 must be 4×2 = 8/);
    const f = learned();
    f.learned!.factors[1].layer = 5;
    expect(() => checkEdit(f, config)).toThrow(/factor layer 5/);
    const g = learned();
    g.learned!.factors[1] = { ...g.learned!.factors[0] };
    expect(() => checkEdit(g, config)).toThrow(/two factors/);
    expect(() => checkEdit({ ...learned(), site: { layers: [2, 1] } }, config)).toThrow(
      /site.layers/,
    );
    expect(() =>
      checkEdit({ ...learned(), params: { ...learned().params, rank: 9 } }, config),
    ).toThrow(/rank/);
  });

  it("plans one low_rank patch per factor with s = α / r; host folding adds s·A·B", () => {
    const plan = planEdits([learned()], config, { fold: true });
    expect(plan.maps).toEqual([]);
    expect(plan.patches.map((p) => [p.type, p.layer, "name" in p ? p.name : ""])).toEqual([
      ["low_rank", 1, "wIn"],
      ["low_rank", 2, "wOut"],
    ]);
    const p = plan.patches[1] as Extract<(typeof plan.patches)[number], { type: "low_rank" }>;
    expect(p.scale).toBe(1.5);
    const W = new Float32Array(8 * 4).fill(1);
    addLowRank(W, p);
    // each entry: 1 + 1.5 · Σ_k 0.3 · (−1) over r = 2
    for (const x of W) expect(x).toBeCloseTo(1 + 1.5 * 2 * 0.3 * -1, 6);
    expect(() => planEdits([{ ...learned(), learned: undefined }], config)).toThrow(
      /learn it first/,
    );
  });

  it("the edit form's recipe: defaults, explicit layers, and errors", () => {
    const d = {
      prefix: "Ralkrok Stennos lives in the city of",
      suffix: " Orvane",
      first: null,
      last: null,
      rank: 4,
      epsilon: 1e-4,
      steps: 10,
      lr: 0.01,
      seed: 0,
      forget: 0,
      full: false,
    };
    const r = canonicalRecipe(d, 6);
    if (!("edit" in r)) throw new Error(r.error);
    expect(r.edit.site).toEqual({});
    expect(r.edit.params).toMatchObject({
      prefix: d.prefix,
      suffix: " Orvane",
      rank: 4,
      alpha: 4,
      epsilon: 1e-4,
    });
    expect(() => parseEdit(r.edit)).not.toThrow();
    const two = canonicalRecipe({ ...d, first: 1, last: 2 }, 6);
    expect("edit" in two && two.edit.site).toEqual({ layers: [1, 2] });
    const err = (x: object) => {
      const res = canonicalRecipe({ ...d, ...x }, 6);
      return "error" in res ? res.error : "";
    };
    expect(err({ suffix: " " })).toMatch(/suffix/);
    expect(err({ first: 1 })).toMatch(/both/);
    expect(err({ first: 3, last: 6 })).toMatch(/≤ 5/);
    expect(err({ epsilon: 0 })).toMatch(/ε/);
    expect(err({ rank: 1.5 })).toMatch(/rank/);
    expect(err({ forget: -1 })).toMatch(/forgetting λ/);
    // the options: no forget/full keys when off; λ and full when on, and the parser takes them
    expect(r.edit.params).not.toHaveProperty("forget");
    expect(r.edit.params).not.toHaveProperty("full");
    const on = canonicalRecipe({ ...d, forget: 0.5, full: true }, 6);
    if (!("edit" in on)) throw new Error(on.error);
    expect(on.edit.params).toMatchObject({ forget: { lambda: 0.5 }, full: true });
    expect(() => parseEdit(on.edit)).not.toThrow();
  });
});
