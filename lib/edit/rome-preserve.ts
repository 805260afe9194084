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
 *
 * The price (params.preserve_cost κ): ΔW writes (uᵀk′)·v at a corpus key k′, v = r / (uᵀk_u)
 * (r = v* − out(k_u), k_u the update key), so its mean square over C's corpus is
 *   E[(wᵀk′)²]·‖r‖² / (wᵀk_u)² = wᵀCw·‖r‖² / (wᵀk_u)²,
 * which ROME's w₀ = C⁻¹k* keeps small. When the prompts' keys leave little of k_u along w (wᵀk_u
 * small), v and ‖ΔW‖ grow and so does what the edit writes on every other text. With κ > 0, λ
 * is lowered until that mean square is at most κ times ROME's (ρ(λ) ≤ κ below; r cancels). With
 * A = C + P, P = (λ/n)·K Kᵀ and w = A⁻¹k*: C w = k* − P w, so wᵀCw = wᵀk* − (λ/n)·‖Kᵀw‖².
 */
import { cholesky, choleskySolve, dot } from "./linalg";

export interface PreservingDirection {
  w: Float64Array;
  /** The λ used: the asked one, or lower where preserve_cost bound it (0: ROME's direction). */
  lambda: number;
}

/** Bisection steps on log λ when the cost bounds λ (each an n × n Cholesky, n ≈ 100–300). */
const BISECTION_STEPS = 30;
/** The smallest λ tried, relative to the asked one; below it ROME's own direction is used. */
const MIN_LAMBDA_FRACTION = 1e-6;

interface PreserveInputs {
  /** S k = C⁻¹k (k itself for C = I). */
  solve: (k: Float64Array) => Float64Array;
  kStar: Float64Array;
  others: readonly Float64Array[];
}

/**
 * The direction at any λ from one solve per key, and ρ(λ): the mean square write on C's corpus
 * at λ relative to ROME's (λ = 0), for the update key k_u.
 */
export function preserver(o: PreserveInputs) {
  const Sk = o.solve(o.kStar);
  const n = o.others.length;
  const SK = o.others.map((k) => o.solve(k)); // n × d_mlp
  const gram = new Float64Array(n * n); // Kᵀ S K
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const g = dot(o.others[i], SK[j]);
      gram[i * n + j] = g;
      gram[j * n + i] = g;
    }
  }
  const KtSk = o.others.map((k) => dot(k, Sk));
  /** w(λ) = (C + (λ/n)·K Kᵀ)⁻¹k* (λ > 0, n > 0). */
  const at = (lambda: number): Float64Array => {
    const G = Float64Array.from(gram); // n/λ·I + Kᵀ S K
    for (let i = 0; i < n; i++) G[i * n + i] += n / lambda;
    const x = choleskySolve(cholesky(G, n), n, KtSk);
    const w = Float64Array.from(Sk);
    SK.forEach((s, j) => {
      for (let i = 0; i < w.length; i++) w[i] -= s[i] * x[j];
    });
    return w;
  };
  /** ρ(λ) for w = w(λ) and the update key k_u. */
  const ratio = (lambda: number, w: Float64Array, ku: Float64Array): number => {
    const rome = dot(Sk, o.kStar) / dot(Sk, ku) ** 2;
    const kw = o.others.reduce((a, k) => a + dot(k, w) ** 2, 0);
    return (dot(w, o.kStar) - (lambda / n) * kw) / dot(w, ku) ** 2 / rome;
  };
  return { Sk, n, at, ratio };
}

export function solvePreserving(
  o: PreserveInputs & {
    lambda: number;
    /** κ > 0: λ lowered until the corpus write's mean square is ≤ κ × ROME's; 0: no bound. */
    cost?: number;
    /** The update key k_u (needed with cost > 0). */
    kUpdate?: Float64Array;
  },
): PreservingDirection {
  if (!(o.lambda > 0) || o.others.length === 0) return { w: o.solve(o.kStar), lambda: 0 };
  const { Sk, at, ratio } = preserver(o);
  const w = at(o.lambda);
  const ku = o.kUpdate;
  const kappa = o.cost ?? 0;
  if (!(kappa > 0) || !ku || ratio(o.lambda, w, ku) <= kappa) return { w, lambda: o.lambda };
  let lo = o.lambda * MIN_LAMBDA_FRACTION;
  let wLo = at(lo);
  if (!(ratio(lo, wLo, ku) <= kappa)) return { w: Sk, lambda: 0 };
  let hi = o.lambda;
  for (let s = 0; s < BISECTION_STEPS; s++) {
    const mid = Math.sqrt(lo * hi);
    const wMid = at(mid);
    if (ratio(mid, wMid, ku) <= kappa) {
      lo = mid;
      wLo = wMid;
    } else {
      hi = mid;
    }
  }
  return { w: wLo, lambda: lo };
}
