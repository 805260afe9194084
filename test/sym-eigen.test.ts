/**
 * lib/edit/sym-eigen.ts (tridiagonal QL) on matrices the numpy golden of
 * test/edit-memit-solve.test.ts does not cover: a = V diag(λ) Vᵀ with orthonormal V for a
 * 64×64 covariance with a near-null space (as AlphaEdit's C has), repeated eigenvalues, a zero
 * and a 1×1 matrix; and the eigenvalues of a matrix built from known ones.
 */
import { describe, expect, it } from "vitest";
import { symEigen } from "../lib/edit/sym-eigen";

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  };
}

/** max |a − V diag(λ) Vᵀ| / max |a| and max |VᵀV − I|. */
function residuals(a: Float64Array, n: number) {
  const { values, vectors: V } = symEigen(a, n);
  let rec = 0;
  let orth = 0;
  let scale = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let o = 0;
      for (let k = 0; k < n; k++) {
        s += V[i * n + k] * values[k] * V[j * n + k];
        o += V[k * n + i] * V[k * n + j];
      }
      rec = Math.max(rec, Math.abs(s - a[i * n + j]));
      orth = Math.max(orth, Math.abs(o - (i === j ? 1 : 0)));
      scale = Math.max(scale, Math.abs(a[i * n + j]));
    }
  }
  return { rec: scale > 0 ? rec / scale : rec, orth, values };
}

/** XᵀX / m for m random rows, with the columns from `rank` on shrunk 100× (a near-null space). */
function covariance(n: number, m: number, rank: number, seed: number): Float64Array {
  const r = lcg(seed);
  const C = new Float64Array(n * n);
  for (let k = 0; k < m; k++) {
    const x = Float64Array.from({ length: n }, (_, i) => r() * (i < rank ? 1 : 0.01));
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) C[i * n + j] += (x[i] * x[j]) / m;
  }
  return C;
}

describe("symEigen", () => {
  it("reconstructs a 64×64 covariance with orthonormal eigenvectors", () => {
    const { rec, orth } = residuals(covariance(64, 200, 40, 7), 64);
    expect(rec).toBeLessThan(1e-12);
    expect(orth).toBeLessThan(1e-12);
  });

  it("finds known eigenvalues of Q diag(λ) Qᵀ, repeated ones included", () => {
    const n = 24;
    const want = Float64Array.from({ length: n }, (_, i) => (i < 6 ? 2 : i < 9 ? 1e-6 : i - 10));
    // Q: Gram–Schmidt of random vectors
    const r = lcg(3);
    const Q: Float64Array[] = [];
    while (Q.length < n) {
      const v = Float64Array.from({ length: n }, r);
      for (const q of Q) {
        let d = 0;
        for (let k = 0; k < n; k++) d += v[k] * q[k];
        for (let k = 0; k < n; k++) v[k] -= d * q[k];
      }
      const norm = Math.hypot(...v);
      Q.push(v.map((x) => x / norm));
    }
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        for (let k = 0; k < n; k++) a[i * n + j] += Q[k][i] * want[k] * Q[k][j];
    const { rec, orth, values } = residuals(a, n);
    expect(rec).toBeLessThan(1e-12);
    expect(orth).toBeLessThan(1e-12);
    const got = Float64Array.from(values).sort();
    const sorted = Float64Array.from(want).sort();
    for (let i = 0; i < n; i++) expect(Math.abs(got[i] - sorted[i])).toBeLessThan(1e-12);
  });

  it("handles zero, diagonal and 1×1 matrices", () => {
    const zero = symEigen(new Float64Array(9), 3);
    expect(Array.from(zero.values)).toEqual([0, 0, 0]);
    expect(residuals(new Float64Array(9), 3).orth).toBe(0);
    const diag = new Float64Array(9);
    diag[0] = 3;
    diag[4] = -1;
    diag[8] = 3;
    const d = residuals(diag, 3);
    expect(Array.from(d.values).sort()).toEqual([-1, 3, 3]);
    expect(d.rec).toBeLessThan(1e-15);
    expect(Array.from(symEigen(Float64Array.of(2.5), 1).values)).toEqual([2.5]);
  });
});
