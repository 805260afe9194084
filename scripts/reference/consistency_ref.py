"""Independent numpy/scipy reference for the semantic-consistency probe and direction
(lib/edit/consistency-probe.ts, lib/edit/consistency-metric.ts; docs/recipes.md).

    /usr/bin/python3 scripts/reference/consistency_ref.py   # writes test/fixtures/consistency/probe.json

The fixture is small and random (numpy seed 0): facts of two relations, four phrasings each, the
model's "answers" per phrasing and last-token head outputs [L][prompt][H*E]. One head (L1H1)
carries a planted signal: its output's first coordinate is 2 on facts the "model" answers alike
under every phrasing, 0 otherwise, plus noise. The reference recomputes, without the TypeScript:

  labels       pair (i<j) consistent iff both answers are the same token
  metric       consistency = agreeing pairs / pairs, accuracy = answers equal to the truth
  split        validation facts: the first ceil(0.2 n) of a seeded Fisher-Yates shuffle
               (trace_rng.py's stream, as lib/edit/probe.ts shuffled)
  balancing    per (split, relation:i-j) stratum keep min(#cons, #incons) of each label, picked
               by shuffled(len, seed + counter), counter over strata in first-appearance order
  probe        per head, L2 logistic regression on the standardised concatenation
               [z(p_i); z(p_j)] (objective sum log(1+exp(-s f)) + 0.5 |w|^2, bias unpenalised),
               solved here with scipy's L-BFGS, not the TypeScript's Newton/Cholesky; accuracy on
               the validation facts' pairs
  direction    b = mean(members of consistent pairs) - mean(members of inconsistent pairs),
               theta = b/|b|, sigma = population std of <a, theta> over both member sets
  format       the same probe on a one-hot of the stratum alone
"""

from __future__ import annotations

import json
import math
import os
import sys

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, os.path.dirname(__file__))
from trace_rng import shuffled  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "consistency", "probe.json")
L, H, E = 2, 2, 3
N_PROMPTS = 4
SEED = 3
VAL_RATIO = 0.2


def val_facts(n: int) -> set[int]:
    n_val = 0 if n < 2 else min(n - 1, max(1, math.ceil(VAL_RATIO * n)))
    return set(shuffled(n, SEED)[:n_val])


def fit_logistic(X: np.ndarray, y: np.ndarray):
    mean = X.mean(0)
    std = X.std(0)
    std[std == 0] = 1
    Z = (X - mean) / std
    d = Z.shape[1]
    s = 2 * y - 1

    def f(theta):
        m = s * (Z @ theta[:d] + theta[d])
        loss = np.logaddexp(0, -m).sum() + 0.5 * theta[:d] @ theta[:d]
        r = -s / (1 + np.exp(m))
        g = np.concatenate([Z.T @ r + theta[:d], [r.sum()]])
        return loss, g

    res = minimize(f, np.zeros(d + 1), jac=True, method="L-BFGS-B", options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 10000})
    return res.x, mean, std


def acc(fit, X, y) -> float:
    theta, mean, std = fit
    d = len(mean)
    pred = (((X - mean) / std) @ theta[:d] + theta[d] > 0).astype(int)
    return float((pred == y).mean())


def main() -> None:
    rng = np.random.default_rng(0)
    relations = ["R1"] * 24 + ["R2"] * 16
    n = len(relations)
    alike = rng.random(n) < 0.5
    answer_id = rng.integers(0, 3, n)
    top1 = np.where(alike[:, None], answer_id[:, None], rng.integers(0, 3, (n, N_PROMPTS)))
    acts = rng.normal(size=(L, n * N_PROMPTS, H * E))
    acts[1, :, H * E - E] += np.repeat(2.0 * alike, N_PROMPTS)  # L1H1's first coordinate
    acts = acts.astype(np.float32).astype(np.float64)  # the TypeScript reads float32 activations

    pairs = []
    for f in range(n):
        for i in range(N_PROMPTS):
            for j in range(i + 1, N_PROMPTS):
                pairs.append({"fact": f, "i": i, "j": j, "consistent": bool(top1[f, i] == top1[f, j]),
                              "stratum": f"{relations[f]}:{i}-{j}"})
    consistency = sum(p["consistent"] for p in pairs) / len(pairs)
    accuracy = float((top1 == answer_id[:, None]).mean())

    vf = val_facts(n)
    strata: dict[str, dict[str, list[int]]] = {}
    for k, p in enumerate(pairs):
        key = ("val" if p["fact"] in vf else "train") + "\0" + p["stratum"]
        strata.setdefault(key, {"cons": [], "incons": []})["cons" if p["consistent"] else "incons"].append(k)
    keep: list[int] = []
    counter = 0
    for s in strata.values():
        m = min(len(s["cons"]), len(s["incons"]))
        for lst in (s["cons"], s["incons"]):
            order = shuffled(len(lst), SEED + counter)
            counter += 1
            keep += [lst[i] for i in order[:m]]
    bal = [pairs[k] for k in sorted(keep)]
    y = np.array([int(p["consistent"]) for p in bal])
    is_val = np.array([p["fact"] in vf for p in bal])

    def z(l, h, p, which):
        return acts[l, p["fact"] * N_PROMPTS + p[which], h * E:(h + 1) * E]

    accuracy_grid, train_grid, directions = [], [], []
    for l in range(L):
        accuracy_grid.append([])
        train_grid.append([])
        directions.append([])
        for h in range(H):
            X = np.array([np.concatenate([z(l, h, p, "i"), z(l, h, p, "j")]) for p in bal])
            fit = fit_logistic(X[~is_val], y[~is_val])
            accuracy_grid[l].append(acc(fit, X[is_val], y[is_val]))
            train_grid[l].append(acc(fit, X[~is_val], y[~is_val]))
            pos = np.array([z(l, h, p, w) for p in bal if p["consistent"] for w in ("i", "j")])
            neg = np.array([z(l, h, p, w) for p in bal if not p["consistent"] for w in ("i", "j")])
            b = pos.mean(0) - neg.mean(0)
            nb = float(np.linalg.norm(b))
            theta = b / nb
            proj = np.concatenate([pos, neg]) @ theta
            directions[l].append({"direction": theta.tolist(), "norm": nb, "sigma": float(proj.std())})
    strata_list = list(dict.fromkeys(p["stratum"] for p in bal))
    F = np.array([[1.0 if p["stratum"] == s else 0.0 for s in strata_list] for p in bal])
    fmt = acc(fit_logistic(F[~is_val], y[~is_val]), F[is_val], y[is_val])

    out = {
        "note": "written by scripts/reference/consistency_ref.py; do not edit",
        "dims": {"L": L, "H": H, "E": E, "prompts": N_PROMPTS},
        "seed": SEED,
        "val_ratio": VAL_RATIO,
        "relations": relations,
        "answer_id": answer_id.tolist(),
        "top1": top1.tolist(),
        "acts": acts.tolist(),
        "expected": {
            "consistency": consistency,
            "accuracy": accuracy,
            "pairs": len(pairs),
            "balanced": [[p["fact"], p["i"], p["j"]] for p in bal],
            "val_facts": sorted(vf),
            "probe_accuracy": accuracy_grid,
            "train_accuracy": train_grid,
            "directions": directions,
            "format_accuracy": fmt,
        },
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as fh:
        json.dump(out, fh)
    print(f"wrote {OUT}: {len(bal)} balanced pairs of {len(pairs)}; probe accuracy {accuracy_grid}; format {fmt:.3f}")


if __name__ == "__main__":
    main()
