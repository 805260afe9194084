/**
 * ROME's direction w = C⁻¹k* with the prompts' own other keys added to C (params.preserve λ;
 * docs/edits.md "ROME on cases nobody tuned on"): w = (C + (λ/n)·Σ_o k_o k_oᵀ)⁻¹ k*, where k_o
 * are the MLP keys of layer l at every prompt position but the subject's last (the subject's
 * other pieces, the rest of the prompt, the templates' prefixes), n their number. ΔW = u vᵀ
 * writes (uᵀk_o)·v at those positions; the term makes uᵀk_o small, as C does for the corpus's
 * keys (the least-squares reading of ROME: keep W k unchanged for the keys C stands for). λ
 * weighs the prompts' key moment against the corpus's (MEMIT's mom2_update_weight mixes C and
 * K Kᵀ the same way). Solved by Woodbury with C⁻¹ (the cached Cholesky factor):
 *   A⁻¹k = S k − S K (n/λ·I + Kᵀ S K)⁻¹ Kᵀ S k,   S = C⁻¹, K = [k_o] (d_mlp × n)
 */
import { cholesky, choleskySolve, dot } from "./linalg";

export function solvePreserving(o: {
  /** S k = C⁻¹k (k itself for C = I). */
  solve: (k: Float64Array) => Float64Array;
  kStar: Float64Array;
  others: readonly Float64Array[];
  lambda: number;
}): Float64Array {
  const Sk = o.solve(o.kStar);
  const n = o.others.length;
  if (!(o.lambda > 0) || n === 0) return Sk;
  const SK = o.others.map((k) => o.solve(k)); // n × d_mlp
  const G = new Float64Array(n * n); // n/λ·I + Kᵀ S K
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const g = dot(o.others[i], SK[j]);
      G[i * n + j] = g;
      G[j * n + i] = g;
    }
    G[i * n + i] += n / o.lambda;
  }
  const x = choleskySolve(
    cholesky(G, n),
    n,
    o.others.map((k) => dot(k, Sk)),
  );
  const w = Float64Array.from(Sk);
  SK.forEach((s, j) => {
    for (let i = 0; i < w.length; i++) w[i] -= s[i] * x[j];
  });
  return w;
}
