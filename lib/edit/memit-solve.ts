/**
 * The closed-form updates of MEMIT and AlphaEdit on the host, in float64 (what lib/edit/memit.ts
 * calls once it has the keys, the residuals and C). Conv1D layout: mlp.c_proj.weight is
 * [M, D] (M = d_mlp, D = d_model) and y = k W, so the papers' W [D, M] is our Wᵀ.
 *
 *   K  [M, n]  the requests' keys at the layer (columns), row-major
 *   R  [n, D]  the layer's share of each request's residual (rows)
 *   C  [M, M]  the second moment of keys over the corpus (lib/edit/cov.ts)
 *
 *   MEMIT      ΔW = (λC + K Kᵀ)⁻¹ K R                       (memit_main.py: adj_k = solve(λC +
 *              K Kᵀ, K); upd = resid @ adj_kᵀ, transposed for Conv1D)
 *   AlphaEdit  ΔW = (P (K Kᵀ + C_p) + L2·I)⁻¹ P K R         (AlphaEdit_main.py), P the
 *              projector onto C's eigenvectors whose eigenvalues are below the threshold
 *              (evaluate.py get_project), C_p = Σ K Kᵀ of the batches edited before
 *
 * Both are returned as factors a = (…)⁻¹ K or (…)⁻¹ P K [M, n] and b = R [n, D], ΔW = a b.
 */
import { cholesky, choleskySolveCols, luSolve } from "./linalg";
import { symEigen } from "./sym-eigen";

/** K Kᵀ [M, M] of K [M, n]. */
export function gram(K: Float64Array, M: number, n: number): Float64Array {
  const G = new Float64Array(M * M);
  for (let i = 0; i < M; i++) {
    for (let j = i; j < M; j++) {
      let s = 0;
      for (let c = 0; c < n; c++) s += K[i * n + c] * K[j * n + c];
      G[i * M + j] = s;
      G[j * M + i] = s;
    }
  }
  return G;
}

/** A thrown when λC + K Kᵀ has no Cholesky factor: the caller names the layer and corpus. */
export class NotPositiveDefinite extends Error {}

/** MEMIT's factor a = (λC + γ'I + K Kᵀ)⁻¹ K, with γ' = shrinkage · tr C / M (0 = MEMIT's). */
export function memitFactor(o: {
  C: Float64Array;
  K: Float64Array;
  M: number;
  n: number;
  lambda: number;
  shrinkage?: number;
}): Float64Array {
  const { C, K, M, n, lambda } = o;
  const A = gram(K, M, n);
  let tr = 0;
  for (let i = 0; i < M; i++) tr += C[i * M + i];
  const ridge = ((o.shrinkage ?? 0) * tr) / M;
  for (let i = 0; i < M * M; i++) A[i] += lambda * C[i];
  for (let i = 0; i < M; i++) A[i * M + i] += lambda * ridge;
  let L: Float64Array;
  try {
    L = cholesky(A, M);
  } catch (e) {
    throw new NotPositiveDefinite((e as Error).message);
  }
  return choleskySolveCols(L, M, K, n);
}

/** P = U Uᵀ over C's eigenvectors U whose eigenvalues are below `threshold`; dim = their count. */
export function nullProjector(
  C: Float64Array,
  M: number,
  threshold: number,
): { P: Float64Array; dim: number; values: Float64Array } {
  const { values, vectors } = symEigen(C, M);
  const keep: number[] = [];
  values.forEach((v, i) => {
    if (v < threshold) keep.push(i);
  });
  const P = new Float64Array(M * M);
  for (let i = 0; i < M; i++) {
    for (let j = i; j < M; j++) {
      let s = 0;
      for (const c of keep) s += vectors[i * M + c] * vectors[j * M + c];
      P[i * M + j] = s;
      P[j * M + i] = s;
    }
  }
  return { P, dim: keep.length, values };
}

/** AlphaEdit's factor a = (P (K Kᵀ + C_p) + L2·I)⁻¹ P K. */
export function alphaEditFactor(o: {
  P: Float64Array;
  K: Float64Array;
  /** Σ K Kᵀ of the batches before, or null for none. */
  Cp: Float64Array | null;
  M: number;
  n: number;
  L2: number;
}): Float64Array {
  const { P, K, Cp, M, n, L2 } = o;
  const G = gram(K, M, n);
  if (Cp) for (let i = 0; i < M * M; i++) G[i] += Cp[i];
  const A = matMul(P, G, M, M, M);
  for (let i = 0; i < M; i++) A[i * M + i] += L2;
  const PK = matMul(P, K, M, M, n);
  return luSolve(A, M, PK, n);
}

/** X [r, k] · Y [k, c] (row-major). */
export function matMul(
  X: Float64Array,
  Y: Float64Array,
  r: number,
  k: number,
  c: number,
): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let t = 0; t < k; t++) {
      const x = X[i * k + t];
      if (x === 0) continue;
      for (let j = 0; j < c; j++) out[i * c + j] += x * Y[t * c + j];
    }
  }
  return out;
}
