"""
Reference for the closed-form updates of MEMIT, AlphaEdit and BLUE (docs/edits.md "MEMIT,
AlphaEdit, BLUE"), independent of tfjs: numpy float64, numpy.linalg.solve / eigh instead of the
Cholesky, LU and Jacobi of lib/edit/linalg.ts. Follows the papers' code:

  MEMIT      kmeng01/memit memit_main.py: adj_k = solve(lam * C + K K^T, K); resid = targets /
             (len(layers) - i); upd = resid @ adj_k^T   (W [D, M]; our Conv1D weight is its
             transpose, so dW = adj_k @ resid^T = a @ b with a = adj_k [M, n], b = resid^T [n, D])
  AlphaEdit  jianghoucheng/AlphaEdit experiments/evaluate.py get_project: U, S = svd(C); P =
             U[:, S < threshold] U[:, S < threshold]^T; AlphaEdit_main.py: upd = solve(P (K K^T
             + cache_c) + L2 I, P K resid^T)   (already [M, D])
  BLUE       xpq-tech/BLUE hparams/*-blue.json: layers = [first, last] of the range; memit_main.py
             execute_memit_blue: each of them gets targets z at its own layer and resid = targets
             (not divided)

Writes test/fixtures/memit/solve.json (inputs and outputs); test/edit-memit-solve.test.ts checks
lib/edit/memit-solve.ts and lib/edit/memit-params.ts against it.

    /usr/bin/python3 scripts/reference/memit_ref.py
"""
import json
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def memit_delta(C, K, R, lam):
    adj_k = np.linalg.solve(lam * C + K @ K.T, K)  # [M, n]
    return adj_k, adj_k @ R  # R: [n, D] (resid^T)


def projector(C, threshold):
    U, S, _ = np.linalg.svd(C, full_matrices=False)
    idx = np.nonzero(S < threshold)[0]
    return U[:, idx] @ U[:, idx].T, len(idx), S


def alphaedit_delta(P, K, R, Cp, L2):
    M = K.shape[0]
    A = P @ (K @ K.T + Cp) + L2 * np.eye(M)
    a = np.linalg.solve(A, P @ K)  # [M, n]
    return a, a @ R


def blue_layers(layers, blue):
    return [layers[0], layers[-1]] if blue and len(layers) > 2 else list(layers)


def main():
    rng = np.random.default_rng(14)
    M, n, D, N = 12, 3, 5, 60
    # keys in an 8-dimensional subspace plus a little noise: C has 4 tiny eigenvalues (a null
    # space for AlphaEdit)
    basis = rng.normal(size=(8, M))
    samples = (rng.normal(size=(N, 8)) @ basis) * 0.5 + 1e-3 * rng.normal(size=(N, M))
    C = samples.T @ samples / N
    K = np.abs(rng.normal(size=(M, n)))
    R = rng.normal(size=(n, D))
    lam = 15.0
    a_memit, dw_memit = memit_delta(C, K, R, lam)
    threshold = 1e-3
    P, dim, S = projector(C, threshold)
    K_prev = np.abs(rng.normal(size=(M, 2)))
    Cp = K_prev @ K_prev.T
    L2 = 0.5
    a_alpha, dw_alpha = alphaedit_delta(P, K, R, Cp, L2)
    a_alpha0, dw_alpha0 = alphaedit_delta(P, K, R, np.zeros((M, M)), L2)
    # a C of 5 samples (rank 5 < 12): lam C + K K^T has rank <= 8, not positive definite
    few = np.abs(rng.normal(size=(5, M)))
    C_few = few.T @ few / 5
    out = {
        "M": M, "n": n, "D": D,
        "C": C.ravel().tolist(), "K": K.ravel().tolist(), "R": R.ravel().tolist(),
        "lambda": lam,
        "memit_a": a_memit.ravel().tolist(), "memit_dw": dw_memit.ravel().tolist(),
        "threshold": threshold, "null_dim": dim, "eigenvalues": sorted(S.tolist()),
        "P": P.ravel().tolist(),
        "K_prev": K_prev.ravel().tolist(), "L2": L2,
        "alpha_a": a_alpha.ravel().tolist(), "alpha_dw": dw_alpha.ravel().tolist(),
        "alpha_a_first": a_alpha0.ravel().tolist(),
        "C_few": C_few.ravel().tolist(),
        "blue": [
            {"layers": l, "blue": b, "moved": blue_layers(l, b)}
            for l in ([13, 14, 15, 16, 17], [0, 1], [3], [2, 4, 6])
            for b in (False, True)
        ],
    }
    path = os.path.join(ROOT, "test/fixtures/memit/solve.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print(f"wrote {path}: null space dim {dim}, eigenvalues {np.sort(S)[:5]}")


if __name__ == "__main__":
    main()
