"""
Reference for ROME's rank-one update (docs/methods.md §4; kmeng01/rome rome_main.py / compute_u.py),
independent of tfjs: numpy float64, numpy.linalg.solve instead of Cholesky.

Writes test/fixtures/edit/rome-update.json: random keys K (N x M), their uncentred second moment
C = K^T K / N, shrinkage gamma, a subject key k*, an update key k, W (M x D, Conv1D layout), b and
a target v*, and for C = I and for the shrunk C:
    u = C^-1 k* / |C^-1 k*|,   v = (v* - (k W + b)) / (u . k)
so that k (W + u v^T) + b = v*.  test/edit-rome.test.ts checks lib/edit against it.

    /usr/bin/python3 scripts/reference/rome_ref.py
"""
import json
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def update(cinv_k, k, W, b, target):
    u = cinv_k / np.linalg.norm(cinv_k)
    v = (target - (k @ W + b)) / (u @ k)
    return u, v


def main():
    rng = np.random.default_rng(0)
    N, M, D, gamma = 40, 12, 5, 0.05
    K = np.abs(rng.normal(size=(N, M))) * rng.uniform(0.2, 2.0, size=M)  # GELU outputs are mostly >= 0
    C = K.T @ K / N
    Cs = C + gamma * np.trace(C) / M * np.eye(M)
    k_star = K[:5].mean(axis=0)
    k = K[0]
    W = rng.normal(scale=0.3, size=(M, D))
    b = rng.normal(scale=0.1, size=D)
    target = k @ W + b + rng.normal(size=D)
    out = {
        "N": N, "M": M, "D": D, "gamma": gamma,
        "K": K.tolist(), "k_star": k_star.tolist(), "k": k.tolist(),
        "W": W.tolist(), "b": b.tolist(), "target": target.tolist(),
    }
    for name, cinv_k in (("identity", k_star), ("shrunk", np.linalg.solve(Cs, k_star))):
        u, v = update(cinv_k, k, W, b, target)
        assert np.allclose(k @ (W + np.outer(u, v)) + b, target)
        out[name] = {"u": u.tolist(), "v": v.tolist()}
    path = os.path.join(ROOT, "test/fixtures/edit/rome-update.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
