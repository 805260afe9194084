/**
 * MEMIT's, AlphaEdit's and BLUE's update rules against the numpy reference
 * (scripts/reference/memit_ref.py → test/fixtures/memit/solve.json): MEMIT's factor
 * (λC + K Kᵀ)⁻¹ K and ΔW = a R, AlphaEdit's projector onto C's small-eigenvalue eigenvectors and
 * its update with and without an earlier batch's keys, which layers BLUE moves, and MEMIT's
 * residual spread. Plus the properties that make them what they are: AlphaEdit's ΔW leaves keys
 * in C's large-eigenvalue space untouched; a C that is not positive definite is refused.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { updatedLayers } from "../lib/edit/memit-params";
import {
  alphaEditFactor,
  gram,
  matMul,
  memitFactor,
  NotPositiveDefinite,
  nullProjector,
} from "../lib/edit/memit-solve";
import { symEigen } from "../lib/edit/sym-eigen";
import { ROOT } from "../scripts/reference/golden";
import { relErr } from "./helpers/rel-err";

const g = JSON.parse(readFileSync(path.join(ROOT, "test/fixtures/memit/solve.json"), "utf8"));
const { M, n, D } = g as { M: number; n: number; D: number };
const f64 = (x: number[]) => Float64Array.from(x);
const C = f64(g.C);
const K = f64(g.K);
const R = f64(g.R);

describe("MEMIT's closed form", () => {
  it("a = (λC + K Kᵀ)⁻¹ K and ΔW = a R match numpy", () => {
    const a = memitFactor({ C, K, M, n, lambda: g.lambda });
    expect(relErr(a, g.memit_a)).toBeLessThan(1e-9);
    expect(relErr(matMul(a, R, M, n, D), g.memit_dw)).toBeLessThan(1e-9);
  });

  it("refuses a C that makes λC + K Kᵀ singular (5 samples, d_mlp 12)", () => {
    expect(() => memitFactor({ C: f64(g.C_few), K, M, n, lambda: g.lambda })).toThrow(
      NotPositiveDefinite,
    );
    // shrinkage makes it positive definite again
    expect(() =>
      memitFactor({ C: f64(g.C_few), K, M, n, lambda: g.lambda, shrinkage: 0.01 }),
    ).not.toThrow();
  });
});

describe("AlphaEdit", () => {
  it("the null-space projector matches numpy's (SVD of C, eigenvalues below the threshold)", () => {
    const { P, dim } = nullProjector(C, M, g.threshold);
    expect(dim).toBe(g.null_dim);
    expect(dim).toBe(4);
    expect(relErr(P, g.P)).toBeLessThan(1e-7);
    const { values } = symEigen(C, M);
    expect(relErr(Float64Array.from(values).sort(), g.eigenvalues)).toBeLessThan(1e-9);
  });

  it("the update matches numpy, with and without an earlier batch's keys (cache_c)", () => {
    const P = f64(g.P);
    const Kp = f64(g.K_prev);
    const Cp = gram(Kp, M, 2);
    const a = alphaEditFactor({ P, K, Cp, M, n, L2: g.L2 });
    expect(relErr(a, g.alpha_a)).toBeLessThan(1e-9);
    expect(relErr(matMul(a, R, M, n, D), g.alpha_dw)).toBeLessThan(1e-9);
    const a0 = alphaEditFactor({ P, K, Cp: null, M, n, L2: g.L2 });
    expect(relErr(a0, g.alpha_a_first)).toBeLessThan(1e-9);
    expect(relErr(a0, g.alpha_a)).toBeGreaterThan(1e-3); // the earlier keys change it
  });

  it("keys in C's large-eigenvalue space see no change: kᵀ ΔW = 0", () => {
    const { values, vectors } = symEigen(C, M);
    const dw = matMul(f64(g.alpha_a), R, M, n, D);
    let worst = 0;
    let scale = 0;
    for (let c = 0; c < M; c++) {
      if (values[c] < g.threshold) continue;
      const k = Float64Array.from({ length: M }, (_, i) => vectors[i * M + c]);
      const out = matMul(k, dw, 1, M, D);
      worst = Math.max(worst, ...Array.from(out, Math.abs));
      scale = Math.max(scale, ...Array.from(dw, Math.abs));
    }
    expect(worst / scale).toBeLessThan(1e-9);
  });
});

describe("BLUE", () => {
  it("BLUE moves the first and last layer of the range; MEMIT all of them", () => {
    for (const c of g.blue as { layers: number[]; blue: boolean; moved: number[] }[]) {
      expect(updatedLayers(c.layers, c.blue)).toEqual(c.moved);
    }
  });
});
