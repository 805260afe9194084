"""Reference for ROME's preserve with its cost bound (params.preserve_cost κ; lib/edit/rome-preserve.ts,
docs/edits.md "ROME on cases nobody tuned on"), in numpy float64, independent of Causeway's code.

    python3 scripts/reference/rome_preserve_cost_ref.py   # writes test/fixtures/edit/rome-preserve-cost.json

preserve λ: w(λ) = (C + (λ/n)·K Kᵀ)⁻¹ k*  (K = [k_o], n keys), ROME's w₀ = C⁻¹k*; here by an
explicit inverse (the app: Woodbury on C's Cholesky factor).

ΔW = u vᵀ with u = w/‖w‖, v = r/(uᵀk_u) writes (uᵀk′)·v at a key k′; over keys with second moment
C the mean square is  wᵀCw·‖r‖² / (wᵀk_u)²  (here computed as the quadratic form itself; the app
uses wᵀCw = wᵀk* − (λ/n)‖Kᵀw‖²). ρ(λ) is its ratio to ROME's (λ = 0). With κ > 0 the λ used is
the largest λ' ≤ λ with ρ(λ') ≤ κ: found here by bisection on ρ(λ') = κ to machine precision
after checking that ρ increases along a fine grid (above 1.01; below it, it may dip under 1).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "edit" / "rome-preserve-cost.json"


def direction(C: np.ndarray, K: np.ndarray, k_star: np.ndarray, lam: float) -> np.ndarray:
    n = K.shape[1]
    return np.linalg.inv(C + (lam / n) * K @ K.T) @ k_star


def cost(C, K, k_star, k_u, lam) -> float:
    def ms(w):
        return (w @ C @ w) / (w @ k_u) ** 2

    return ms(direction(C, K, k_star, lam)) / ms(direction(C, K, k_star, 0.0))


def main() -> None:
    rng = np.random.default_rng(7)
    d, n, lam = 12, 6, 10.0
    A = rng.normal(size=(d, 40))
    C = A @ A.T / 40 + 0.05 * np.eye(d)
    K = rng.normal(size=(d, n))
    # an update key with much in common with the prompts' other keys (the case that makes
    # preserve costly: wᵀk_u small), and k* the mean of it and a little more
    k_u = K @ rng.normal(size=n) * 0.6 + rng.normal(size=d) * 0.4
    k_star = k_u + rng.normal(size=d) * 0.1
    grid = np.geomspace(lam * 1e-6, lam, 400)
    rho = np.array([cost(C, K, k_star, k_u, x) for x in grid])
    # ρ dips a little below 1 at small λ (k_u is not k*, so w₀ is not the minimiser); above 1.01
    # it increases, so each κ ≥ 1.5 below has one crossing
    above = int(np.argmax(rho > 1.01))
    assert np.all(rho[above:] > 1.01) and np.all(np.diff(rho[above:]) > 0), "ρ is not increasing"
    cases = []
    for kappa in (1.5, 4.0, float(rho[-1]) * 2):
        if cost(C, K, k_star, k_u, lam) <= kappa:
            lam_star = lam
        else:
            lo, hi = lam * 1e-6, lam
            for _ in range(200):
                mid = np.sqrt(lo * hi)
                lo, hi = (mid, hi) if cost(C, K, k_star, k_u, mid) <= kappa else (lo, mid)
            lam_star = lo
        w = direction(C, K, k_star, lam_star)
        cases.append({"kappa": kappa, "lambda": lam_star, "rho": cost(C, K, k_star, k_u, lam_star),
                      "w": w.tolist()})
    OUT.write_text(json.dumps({
        "C": C.tolist(), "others": K.T.tolist(), "k_star": k_star.tolist(), "k_update": k_u.tolist(),
        "lambda": lam, "rho_at_lambda": float(rho[-1]), "w0": direction(C, K, k_star, 0.0).tolist(),
        "w_lambda": direction(C, K, k_star, lam).tolist(), "cases": cases,
    }, indent=1) + "\n")
    print(f"wrote {OUT}: ρ(λ={lam}) = {rho[-1]:.3f}; " + ", ".join(f"κ {c['kappa']:.3g} → λ {c['lambda']:.6g}" for c in cases))


if __name__ == "__main__":
    main()
