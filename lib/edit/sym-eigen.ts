/**
 * Eigen-decomposition of a symmetric matrix in float64: Householder reduction to tridiagonal
 * form, then the implicit QL algorithm (EISPACK's tred2 + tql2, as in the public-domain JAMA
 * EigenvalueDecomposition). O(n³) with a small constant: d_mlp 512 takes about a second, where
 * cyclic Jacobi needed a minute (AlphaEdit's null-space projector, lib/edit/memit-solve.ts).
 */

/** Tridiagonal QL iterations allowed per eigenvalue before giving up (2–3 are typical). */
const MAX_QL_ITERATIONS = 100;

/**
 * Eigenvalues of the symmetric n×n matrix `a` (row-major) and its eigenvectors as the columns of
 * `vectors` (row-major), a = V diag(λ) Vᵀ. Only the lower triangle of `a` is read.
 */
export function symEigen(
  a: Float64Array,
  n: number,
): { values: Float64Array; vectors: Float64Array } {
  if (n === 0) return { values: new Float64Array(0), vectors: new Float64Array(0) };
  const V = new Float64Array(n * n); // row-major; becomes the orthogonal Q of a = Q T Qᵀ
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) V[i * n + j] = a[i * n + j];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) V[i * n + j] = V[j * n + i];
  const d = new Float64Array(n); // diagonal of T, then the eigenvalues
  const e = new Float64Array(n); // sub-diagonal of T
  tridiagonalize(V, d, e, n);
  // QL rotates pairs of columns of V: work on Vᵀ so that each rotation reads two rows.
  const W = transpose(V, n);
  tridiagonalQl(W, d, e, n);
  return { values: d, vectors: transpose(W, n) };
}

function transpose(x: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = x[i * n + j];
  return t;
}

/** tred2: V (n×n, holding a) becomes Q; d, e the diagonal and sub-diagonal (e[0] = 0). */
function tridiagonalize(V: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      // the Householder vector of row i, scaled for stability
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // apply the similarity transform to the rest of the matrix
      for (let j = 0; j < i; j++) {
        f = d[j];
        V[j * n + i] = f;
        g = e[j] + V[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j] * d[k];
          e[k] += V[k * n + j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) V[k * n + j] -= f * e[k] + g * d[k];
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  // accumulate the transformations into Q
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i];
    V[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1] * V[k * n + j];
        for (let k = 0; k <= i; k++) V[k * n + j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j];
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/**
 * tql2: the eigenvalues of the tridiagonal (d, e) into d; W = Qᵀ (row k = column k of Q) is
 * rotated along, so that its rows end as the eigenvectors.
 */
function tridiagonalQl(W: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    // find a small sub-diagonal element: T splits there
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > MAX_QL_ITERATIONS) {
          throw new Error(`symEigen: no convergence after ${MAX_QL_ITERATIONS} QL iterations`);
        }
        // implicit shift
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        // implicit QL transformation
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const ri = i * n;
          const ri1 = (i + 1) * n;
          for (let k = 0; k < n; k++) {
            const w1 = W[ri1 + k];
            const w0 = W[ri + k];
            W[ri1 + k] = s * w0 + c * w1;
            W[ri + k] = c * w0 - s * w1;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}
