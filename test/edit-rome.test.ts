/**
 * ROME's mathematics on a small random GPT-2 (test/fixtures/edit/random-model.ts), through the
 * whole pipeline (templates, k*, the optimisation of δ, the rank-one update, the edited view):
 *   k W′ + b = v* for the update key (bare prompt's key, or k* with update_key "mean")
 *   ΔW = W′ − W has rank one
 *   keys k′ with uᵀk′ = 0, i.e. (C⁻¹k*)ᵀk′ = 0, give the same MLP output as before
 * with C = I and with C estimated from text (shrunk, solved by Cholesky), plus: the Cholesky
 * solve's residual, the optimisation lowering the loss, the gradient-friendly blocks equal to
 * Gpt2Model.block (values and gradients), and no tensor left behind.
 */
import "../lib/model/backends-node";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import { secondMoment, solveShrunk } from "../lib/edit/cov";
import { GradBlocks } from "../lib/edit/grad-blocks";
import { cholesky, choleskySolve } from "../lib/edit/linalg";
import { computeRome, covTexts, type RomeComputation, rankOneUpdate } from "../lib/edit/rome";
import type { RomeEdit } from "../lib/edit/types";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { ROOT } from "../scripts/reference/golden";
import { charTokenizer, randomWeights, SMALL } from "./fixtures/edit/random-model";

let model: Gpt2Model;
const tok = charTokenizer;
const TEXTS = [
  "the cat sat on the mat.",
  "a dog ran far away, fast!",
  "who is there? nobody is.",
  "rain falls on the quiet hills",
  "big red apples are sweet",
  "lights went out at night.",
  "she sings, he listens",
  "old maps show lost roads",
];
const dataset = { general_text: [...TEXTS, ...TEXTS.map((t) => t.toUpperCase())] };

const recipe = (over: Partial<RomeEdit["params"]> = {}): RomeEdit => ({
  kind: "rome",
  site: { layer: 0 },
  params: {
    prompt: "{} lives in",
    subject: "bob",
    target_new: "x",
    steps: 12,
    context: { lengths: [4, 6], per_length: 2 },
    preserve: 0, // ROME's own u = C⁻¹k*, which these tests check
    ...over,
  },
});

async function read(t: tf.Tensor): Promise<Float64Array> {
  return Float64Array.from(await t.data());
}

/** k W + b of layer 0's MLP output projection in a model (view). */
async function mlpOut(m: Gpt2Model, k: ArrayLike<number>): Promise<Float64Array> {
  const y = tf.tidy(() =>
    tf
      .matMul(
        tf.tensor2d(Float32Array.from(k), [1, k.length]),
        m.blockWeight(0, "wOut") as tf.Tensor2D,
      )
      .add(m.blockWeight(0, "bOut")),
  );
  const d = await read(y);
  y.dispose();
  return d;
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const maxOf = (a: ArrayLike<number>) => Math.max(...Array.from(a, Math.abs));

beforeAll(async () => {
  await selectBackend(["wasm"]);
  model = Gpt2Model.fromWeights(SMALL, randomWeights());
});
afterAll(() => model?.dispose());

describe("linear algebra", () => {
  it("Cholesky solves an SPD system", () => {
    const n = 6;
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) A[i * n + j] = 1 / (1 + Math.abs(i - j)) + (i === j ? n : 0);
    const b = Float64Array.from({ length: n }, (_, i) => i - 2.5);
    const x = choleskySolve(cholesky(A, n), n, b);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += A[i * n + j] * x[j];
      expect(Math.abs(s - b[i])).toBeLessThan(1e-12);
    }
    expect(() => cholesky(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(/positive definite/);
  });

  it("rankOneUpdate: k(W + u vᵀ) = target, u unit, orthogonal keys untouched", () => {
    const M = 5;
    const D = 3;
    const W = Array.from({ length: M * D }, (_, i) => Math.sin(i + 1));
    const k = [0.3, -1, 2, 0.5, 0.1];
    const kW = Array.from({ length: D }, (_, j) =>
      k.reduce((s, ki, i) => s + ki * W[i * D + j], 0),
    );
    const target = [1, 2, 3];
    const cinvK = [1, 0.5, -0.2, 0.3, 0.9];
    const { u, v } = rankOneUpdate(cinvK, k, kW, target);
    const uk = u.reduce((s, x, i) => s + x * k[i], 0);
    for (let j = 0; j < D; j++) expect(kW[j] + uk * v[j]).toBeCloseTo(target[j], 12);
    expect(Math.hypot(...u)).toBeCloseTo(1, 12);
    // k′ ⟂ u: its product with u vᵀ is zero
    const kp = [1, 1, 1, 1, 1];
    const proj = kp.reduce((s, x, i) => s + x * u[i], 0);
    const kOrth = kp.map((x, i) => x - proj * u[i]);
    expect(Math.abs(kOrth.reduce((s, x, i) => s + x * u[i], 0))).toBeLessThan(1e-12);
  });
});

describe("the update against numpy (scripts/reference/rome_ref.py)", () => {
  it("u = C⁻¹k*/‖C⁻¹k*‖ and v = (v* − kW − b)/(uᵀk), for C = I and for the shrunk second moment", () => {
    const ref = JSON.parse(
      readFileSync(path.join(ROOT, "test/fixtures/edit/rome-update.json"), "utf8"),
    );
    const { N, M, D, gamma } = ref as { N: number; M: number; D: number; gamma: number };
    const K = ref.K as number[][];
    const C = new Float64Array(M * M);
    for (const row of K)
      for (let i = 0; i < M; i++) for (let j = 0; j < M; j++) C[i * M + j] += (row[i] * row[j]) / N;
    const W = ref.W as number[][];
    const k = ref.k as number[];
    const out = Array.from(
      { length: D },
      (_, j) => k.reduce((s, ki, i) => s + ki * W[i][j], 0) + ref.b[j],
    );
    for (const [name, cinvK] of [
      ["identity", ref.k_star as number[]],
      ["shrunk", Array.from(solveShrunk({ C, n: M, tokens: N }, gamma, ref.k_star))],
    ] as const) {
      const { u, v } = rankOneUpdate(cinvK, k, out, ref.target);
      expect(maxAbs(u, ref[name].u), `${name} u`).toBeLessThan(1e-10);
      expect(maxAbs(v, ref[name].v), `${name} v`).toBeLessThan(1e-9);
    }
  });
});

describe("ROME on a random 2-layer model", () => {
  const runs = new Map<string, RomeComputation>();
  const run = async (name: string, over: Partial<RomeEdit["params"]>) => {
    const before = tf.memory().numTensors;
    const r = await computeRome(model, tok, recipe(over), { dataset });
    expect(tf.memory().numTensors, "computeRome leaves no tensor behind").toBe(before);
    runs.set(name, r);
    return r;
  };

  for (const cov of ["identity", "general_text"] as const) {
    for (const key of ["bare", "mean"] as const) {
      it(`C = ${cov}, update key ${key}: W′k = v*, rank one, uᵀk′ = 0 keys untouched`, async () => {
        const r = await run(`${cov}-${key}`, { cov, update_key: key, shrinkage: 0.05 });
        const e = r.edit;
        expect(e.site.layer).toBe(0);
        expect(e.learned!.u).toHaveLength(SMALL.dMlp);
        expect(e.learned!.v).toHaveLength(SMALL.dModel);
        const k = key === "bare" ? r.kUpdate : r.kStar;
        expect(maxAbs(k, r.kUpdate)).toBe(0);

        const before = tf.memory().numTensors;
        const edited = applyEdits(model, [e]);
        const view = edited.weights;
        // W′k + b = v*
        const out = await mlpOut(view, k);
        const err = maxAbs(out, r.vStar);
        console.log(
          `${cov}/${key}: |W′k + b − v*|∞ = ${err.toExponential(2)} (|v*|∞ ${maxOf(r.vStar).toFixed(3)})`,
        );
        expect(err).toBeLessThan(1e-4 * Math.max(1, maxOf(r.vStar)));

        // ΔW = W′ − W has rank one: every row is a multiple of the largest row
        const dW = tf.tidy(() => view.blockWeight(0, "wOut").sub(model.blockWeight(0, "wOut")));
        const d = await read(dW);
        dW.dispose();
        const [M, D] = [SMALL.dMlp, SMALL.dModel];
        let best = 0;
        let bestNorm = 0;
        for (let i = 0; i < M; i++) {
          let n = 0;
          for (let j = 0; j < D; j++) n += d[i * D + j] ** 2;
          if (n > bestNorm) [best, bestNorm] = [i, n];
        }
        expect(bestNorm).toBeGreaterThan(0);
        let resid = 0;
        for (let i = 0; i < M; i++) {
          let c = 0;
          for (let j = 0; j < D; j++) c += d[i * D + j] * d[best * D + j];
          c /= bestNorm;
          for (let j = 0; j < D; j++)
            resid = Math.max(resid, Math.abs(d[i * D + j] - c * d[best * D + j]));
        }
        expect(resid).toBeLessThan(1e-5 * Math.sqrt(bestNorm));

        // keys with uᵀk′ = 0 are untouched; u ∝ C⁻¹k* (∝ k* for C = I)
        const u = e.learned!.u;
        const cinvK =
          cov === "identity"
            ? r.kStar
            : solveShrunk(await secondMoment(model, tok, dataset.general_text, 0), 0.05, r.kStar);
        const nC = Math.hypot(...cinvK);
        expect(
          maxAbs(
            u,
            Array.from(cinvK, (x) => x / nC),
          ),
        ).toBeLessThan(1e-9);
        for (let trial = 0; trial < 3; trial++) {
          const kp = Array.from({ length: M }, (_, i) => Math.cos(i * (trial + 2)) + 0.5);
          const p = kp.reduce((s, x, i) => s + x * u[i], 0);
          const kOrth = kp.map((x, i) => x - p * u[i]);
          const [a, b] = [await mlpOut(view, kOrth), await mlpOut(model, kOrth)];
          expect(maxAbs(a, b)).toBeLessThan(2e-5 * Math.max(1, maxOf(b)));
        }
        // and a key that is not orthogonal does change
        const [a, b] = [await mlpOut(view, r.kStar), await mlpOut(model, r.kStar)];
        expect(maxAbs(a, b)).toBeGreaterThan(1e-3);
        edited.dispose();
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }

  it("the estimated C is solved exactly: (C + γ·tr C/d·I)·C⁻¹k* = k*", async () => {
    const mom = await secondMoment(model, tok, dataset.general_text, 0);
    const k =
      runs.get("general_text-bare")?.kStar ??
      Float64Array.from({ length: SMALL.dMlp }, (_, i) => i % 3);
    const x = solveShrunk(mom, 0.05, k);
    const n = mom.n;
    let tr = 0;
    for (let i = 0; i < n; i++) tr += mom.C[i * n + i];
    let err = 0;
    for (let i = 0; i < n; i++) {
      let s = (0.05 * tr * x[i]) / n;
      for (let j = 0; j < n; j++) s += mom.C[i * n + j] * x[j];
      err = Math.max(err, Math.abs(s - k[i]));
    }
    expect(err).toBeLessThan(1e-9 * Math.max(1, maxOf(k)));
    const tokens = dataset.general_text.reduce((s, t) => s + t.length, 0);
    expect(mom.tokens).toBe(tokens);
  });

  it("C's corpus: general text, or general text plus the known facts as sentences", async () => {
    const facts = { ...dataset, known_facts: [{ prompt: "bob lives in", attribute: " x" }] };
    expect(covTexts(facts, "general_text")).toEqual(dataset.general_text);
    expect(covTexts(facts, "general_text+facts")).toEqual([
      ...dataset.general_text,
      "bob lives in x.",
    ]);
    expect(() => covTexts(dataset, "general_text+facts")).toThrow(/known_facts/);
    expect(() => covTexts({}, "general_text")).toThrow(/general_text/);
    const r = await computeRome(model, tok, recipe({ cov: "general_text+facts", steps: 2 }), {
      dataset: facts,
    });
    const info = r.edit.learned!.info!;
    expect(info.cov).toBe("general_text+facts");
    expect(info.cov_tokens).toBe(
      dataset.general_text.reduce((n, t) => n + t.length, 0) + "bob lives in x.".length,
    );
  });

  it("the optimisation lowers the loss and the edit raises P(new)", async () => {
    const r = runs.get("identity-bare") ?? (await run("x", { cov: "identity" }));
    const losses = r.edit.learned!.info!.losses;
    expect(losses.length).toBeGreaterThan(1);
    expect(losses.at(-1)!.nll).toBeLessThan(losses[0].nll);
    expect(losses[0].kl).toBeCloseTo(0, 6); // δ = 0 at the first step
    const ids = tok.encode("bob lives in");
    const target = tok.encode(" x")[0];
    const edited = applyEdits(model, [r.edit]);
    const p = async (m: { forward: Gpt2Model["forward"] }) => {
      const t = tf.tidy(() =>
        tf.softmax(m.forward({ inputIds: [ids], logitPositions: "last" }).logits).reshape([-1]),
      );
      const d = await t.data();
      t.dispose();
      return d[target];
    };
    const [pb, pa] = [await p(model), await p(edited)];
    console.log(`random model: P(" x") ${pb.toFixed(4)} → ${pa.toFixed(4)}`);
    expect(pa).toBeGreaterThan(pb);
    edited.dispose();
  });

  it("steps stop early when the loss is below early_stop, and report every step", async () => {
    const seen: number[] = [];
    const r = await computeRome(
      model,
      tok,
      recipe({ cov: "identity", early_stop: 1e9, steps: 5 }),
      {
        onStep: (s) => seen.push(s.step),
      },
    );
    expect(seen).toEqual([0]);
    expect(r.edit.learned!.info!.delta_norm).toBe(0); // stopped before any step
  });
});

describe("gradient-friendly blocks", () => {
  it("equal Gpt2Model.block in values and gradients, with interventions", async () => {
    const ids = [tok.encode("hello there, you"), tok.encode("abcdefghijklmnop")];
    const B = ids.length;
    const T = ids[0].length;
    const plan = model.hooks({
      interventions: [
        { hook: "blocks.1.attn.hook_z", op: "scale", heads: [2], value: 0.5 },
        {
          hook: "blocks.1.hook_resid_mid",
          op: "add",
          positions: [3],
          value: new Array(32).fill(0.1),
        },
      ],
    });
    const before = tf.memory().numTensors;
    const { logits, activations } = model.forward({
      inputIds: ids,
      record: ["blocks.0.hook_resid_post"],
    });
    logits.dispose();
    const r0 = activations.get("blocks.0.hook_resid_post") as tf.Tensor3D;
    const gb = new GradBlocks(model, 1);
    const w = tf.tidy(() => tf.randomNormal([B, T, 32], 0, 1, "float32", 3));
    const f = (fast: boolean) => (x: tf.Tensor) => {
      const r = x as tf.Tensor3D;
      const out = fast ? gb.run(r, plan) : model.block(1, r, { hooks: plan }).resid;
      return out.mul(w).sum();
    };
    const [ya, yb] = [tf.tidy(() => f(true)(r0)), tf.tidy(() => f(false)(r0))];
    const [ga, gbr] = [tf.grad(f(true))(r0), tf.grad(f(false))(r0)];
    const [va, vb, da, db] = await Promise.all([ya.data(), yb.data(), ga.data(), gbr.data()]);
    expect(Math.abs(va[0] - vb[0])).toBeLessThan(1e-4 * Math.max(1, Math.abs(vb[0])));
    expect(maxAbs(da, db)).toBeLessThan(1e-4 * Math.max(1, maxOf(db)));
    tf.dispose([ya, yb, ga, gbr, w, r0]);
    gb.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
