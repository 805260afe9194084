/**
 * Small dense linear algebra on the host in float64, for what tfjs lacks (it has no Cholesky or
 * solve): ROME's C⁻¹k* and the probes' Newton steps. Matrices are row-major Float64Arrays.
 */

/**
 * Cholesky factor L (lower triangular, A = L Lᵀ) of a symmetric positive-definite n×n matrix.
 * Throws if A is not positive definite (a pivot ≤ 0), which shrinkage prevents.
 */
export function cholesky(a: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let d = a[rowJ + j];
    for (let k = 0; k < j; k++) d -= L[rowJ + k] * L[rowJ + k];
    if (!(d > 0)) throw new Error(`matrix is not positive definite (pivot ${j}: ${d})`);
    const ljj = Math.sqrt(d);
    L[rowJ + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let s = a[rowI + j];
      for (let k = 0; k < j; k++) s -= L[rowI + k] * L[rowJ + k];
      L[rowI + j] = s / ljj;
    }
  }
  return L;
}

/** Solves (L Lᵀ) x = b given the Cholesky factor L. */
export function choleskySolve(L: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    const row = i * n;
    for (let k = 0; k < i; k++) s -= L[row + k] * y[k];
    y[i] = s / L[row + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
  return x;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** Mean of rows (each a vector of equal length). */
export function meanOf(rows: ArrayLike<number>[]): Float64Array {
  const n = rows[0]?.length ?? 0;
  const m = new Float64Array(n);
  for (const r of rows) for (let i = 0; i < n; i++) m[i] += r[i];
  for (let i = 0; i < n; i++) m[i] /= Math.max(1, rows.length);
  return m;
}

/**
 * Solves A X = B for a general n×n A (row-major) and B with `cols` columns (row-major n×cols),
 * by LU with partial pivoting. Throws when A is singular (a pivot below 1e-300).
 */
export function luSolve(a: Float64Array, n: number, b: Float64Array, cols: number): Float64Array {
  const A = Float64Array.from(a);
  const X = Float64Array.from(b);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(A[i * n + k]) > Math.abs(A[p * n + k])) p = i;
    if (!(Math.abs(A[p * n + k]) > 1e-300)) throw new Error(`matrix is singular (column ${k})`);
    if (p !== k) {
      for (let j = 0; j < n; j++) [A[k * n + j], A[p * n + j]] = [A[p * n + j], A[k * n + j]];
      for (let j = 0; j < cols; j++)
        [X[k * cols + j], X[p * cols + j]] = [X[p * cols + j], X[k * cols + j]];
    }
    const pivot = A[k * n + k];
    for (let i = k + 1; i < n; i++) {
      const f = A[i * n + k] / pivot;
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) A[i * n + j] -= f * A[k * n + j];
      for (let j = 0; j < cols; j++) X[i * cols + j] -= f * X[k * cols + j];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let j = 0; j < cols; j++) {
      let s = X[i * cols + j];
      for (let k = i + 1; k < n; k++) s -= A[i * n + k] * X[k * cols + j];
      X[i * cols + j] = s / A[i * n + i];
    }
  }
  return X;
}

/** Cholesky solve of L Lᵀ X = B for B with `cols` columns (row-major n×cols). */
export function choleskySolveCols(
  L: Float64Array,
  n: number,
  b: Float64Array,
  cols: number,
): Float64Array {
  const X = new Float64Array(n * cols);
  const col = new Float64Array(n);
  for (let j = 0; j < cols; j++) {
    for (let i = 0; i < n; i++) col[i] = b[i * cols + j];
    const x = choleskySolve(L, n, col);
    for (let i = 0; i < n; i++) X[i * cols + j] = x[i];
  }
  return X;
}
