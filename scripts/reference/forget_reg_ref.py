"""Reference for the forgetting regulariser (lib/edit/forget.ts) and full fine-tuning
(lib/edit/finetune.ts), in torch (float64), on the seeded random GPT-2 of the edit tests.

    /usr/bin/python3 scripts/reference/forget_reg_ref.py   # torch + numpy; writes
                                                           # test/fixtures/edit/forget-reg.json

Independent of Causeway's code: the GPT-2 forward (HF GPT2LMHeadModel math, tanh GELU) is
written here, autograd gives every gradient and torch.optim.Adam (eps = 1e-7, tfjs' default)
the updates. Shared with Causeway by construction (the documented recipes, re-implemented):
  - the model: test/fixtures/edit/random-model.ts randomWeights(SMALL, 7), drawn here from
    trace_rng.GaussianRng(7) in the same order and rounded to float32; its 50-character tokenizer;
  - LoRA's A: N(0, 1/in) from GaussianRng(seed) in layer then module order, B = 0.

Recorded:
  importance  Ω of c_proj (wOut) of layers 0 and 1 and c_fc (wIn) of layer 1 (SI along STEPS SGD
              steps on the general texts' mean next-token NLL, Ω = ω / (Δ² + ξ), mean 1)
  penalty     Σ_l c_l R_l of given deltas (c_l = R_l / Σ R held constant) and its gradient
  lora        a LoRA edit (c_proj of layers 0-1, rank 2) trained with loss = suffix NLL +
              λ · penalty: the loss and the penalty in states 0 … K, the factors after K updates
  full        the same with ΔW trained directly (full fine-tuning of the layer range)
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from trace_rng import GaussianRng  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test/fixtures/edit/forget-reg.json"

L, H, D, M, NCTX, V, EPS = 2, 4, 32, 64, 32, 50, 1e-5
ALPHABET = "abcdefghijklmnopqrstuvwxyz .,?!:ABCDEFGHIJKLMNOPQR"
TEXTS = ["the cat sat on a mat.", "a dog ran far", "is it here? yes!", "big red box", "we go: now"]
IMP = {"steps": 3, "lr": 0.5, "xi": 1e-4, "batch": 2}
IMP_WEIGHTS = [(0, "wOut"), (1, "wOut"), (1, "wIn")]
PREFIX, SUFFIX = "the cat sat on the", " rug"
LAYERS, RANK, ALPHA, LR, SEED, STEPS, LAMBDA = [0, 1], 2, 2.0, 0.05, 3, 4, 2.0
FULL_LR = 0.01


def r7(xs, digits: int = 7) -> list[float]:
    """Values to 7 significant digits (the tests' tolerances are 1e-4 relative and looser);
    inputs the test feeds back (float32 values) to 9, which is exact for float32."""
    return [float(f"{x:.{digits}g}") for x in xs]


def encode(s: str) -> list[int]:
    return [max(0, ALPHABET.find(ch)) for ch in s]


def random_weights(seed: int = 7) -> dict:
    rng = GaussianRng(seed)

    def t(shape, std, mean=0.0):
        n = int(np.prod(shape))
        a = np.array([mean + std * rng.next_normal() for _ in range(n)], dtype=np.float32)
        return torch.tensor(a.astype(np.float64).reshape(shape))

    w = {"wte": t([V, D], 0.5), "wpe": t([NCTX, D], 0.1), "blocks": []}
    for _ in range(L):
        w["blocks"].append({
            "ln1g": t([D], 0.05, 1), "ln1b": t([D], 0.02),
            "wQkv": t([D, 3 * D], 0.2), "bQkv": t([3 * D], 0.02),
            "wO": t([D, D], 0.15), "bO": t([D], 0.02),
            "ln2g": t([D], 0.05, 1), "ln2b": t([D], 0.02),
            "wIn": t([D, M], 0.2), "bIn": t([M], 0.02),
            "wOut": t([M, D], 0.15), "bOut": t([D], 0.02),
        })
    w["lnFg"], w["lnFb"] = t([D], 0.05, 1), t([D], 0.02)
    return w


W = random_weights()


def ln(x, g, b):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + EPS) * g + b


def gelu(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def logits(row: list[int], over: dict) -> torch.Tensor:
    """[T, V] with weights (layer, name) replaced by over[(layer, name)]."""
    T = len(row)
    x = W["wte"][row] + W["wpe"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    E = D // H
    for layer, b in enumerate(W["blocks"]):
        g = lambda n: over.get((layer, n), b[n])  # noqa: E731
        h = ln(x, b["ln1g"], b["ln1b"])
        qkv = h @ g("wQkv") + b["bQkv"]
        q, k, v = (qkv[:, i * D:(i + 1) * D].reshape(T, H, E).transpose(0, 1) for i in range(3))
        s = ((q @ k.transpose(1, 2)) / math.sqrt(E)).masked_fill(~mask, float("-inf")).softmax(-1)
        x = x + (s @ v).transpose(0, 1).reshape(T, D) @ g("wO") + b["bO"]
        hm = gelu(ln(x, b["ln2g"], b["ln2b"]) @ g("wIn") + b["bIn"])
        x = x + hm @ g("wOut") + b["bOut"]
    return ln(x, W["lnFg"], W["lnFb"]) @ W["wte"].T


def mean_nll(rows: list[list[int]], over: dict) -> torch.Tensor:
    tot, n = 0.0, 0
    for r in rows:
        lp = logits(r, over).log_softmax(-1)
        tot = tot - sum(lp[t, r[t + 1]] for t in range(len(r) - 1))
        n += len(r) - 1
    return tot / n


def importance(keys: list) -> tuple[dict, float]:
    """Ω of the weights `keys` (only they move along the SGD path)."""
    rows = [encode(s)[:NCTX] for s in TEXTS]
    rows = [r for r in rows if len(r) > 1]
    w0 = {k: W["blocks"][k[0]][k[1]].clone() for k in keys}
    theta = {k: w0[k].clone().requires_grad_(True) for k in keys}
    omega = {k: torch.zeros_like(w0[k]) for k in keys}
    n = min(IMP["batch"], len(rows))
    for t in range(IMP["steps"]):
        batch = [rows[(t * IMP["batch"] + i) % len(rows)] for i in range(n)]
        loss = mean_nll(batch, theta)
        grads = torch.autograd.grad(loss, [theta[k] for k in keys])
        with torch.no_grad():
            for k, g in zip(keys, grads):
                step = -IMP["lr"] * g
                omega[k] += -g * step  # SI: −g · Δθ
                theta[k] += step
    raw = {k: omega[k] / ((theta[k].detach() - w0[k]) ** 2 + IMP["xi"]) for k in keys}
    mean = sum(r.sum() for r in raw.values()) / sum(r.numel() for r in raw.values())
    return {k: raw[k] / mean for k in keys}, float(mean)


def penalty(omega: dict, deltas: dict) -> torch.Tensor:
    layers = sorted({k[0] for k in deltas})
    R = torch.stack([sum((omega[k] * deltas[k] ** 2).sum() for k in deltas if k[0] == l) for l in layers])
    c = (R / torch.clamp(R.sum(), min=1e-30)).detach()
    return (c * R).sum()


def suffix_nll(over: dict) -> torch.Tensor:
    ids, sids = encode(PREFIX), encode(SUFFIX)
    lp = logits(ids + sids[:-1], over).log_softmax(-1)
    return -sum(lp[len(ids) - 1 + j, t] for j, t in enumerate(sids))


def train(omega: dict, params: list, delta_of, lr: float) -> dict:
    """Adam on suffix NLL + λ·penalty; delta_of() → {(layer, "wOut"): ΔW}."""
    def total():
        d = delta_of()
        over = {k: W["blocks"][k[0]][k[1]] + d[k] for k in d}
        p = penalty(omega, d)
        return suffix_nll(over) + LAMBDA * p, p

    opt = torch.optim.Adam(params, lr=lr, eps=1e-7)
    losses, pens = [], []
    for _ in range(STEPS):
        opt.zero_grad()
        loss, p = total()
        losses.append(loss.item())
        pens.append(p.item())
        loss.backward()
        opt.step()
    with torch.no_grad():
        loss, p = total()
    losses.append(loss.item())
    pens.append(p.item())
    return {"losses": losses, "penalties": pens}


def main() -> None:
    omega, raw_mean = importance(IMP_WEIGHTS)
    # the penalty and its gradient for fixed deltas (two layers, two weights in layer 1)
    rng = GaussianRng(11)
    deltas = {}
    for k in IMP_WEIGHTS:
        shape = W["blocks"][k[0]][k[1]].shape
        a = np.array([0.05 * rng.next_normal() for _ in range(shape.numel())], dtype=np.float32)
        deltas[k] = torch.tensor(a.astype(np.float64).reshape(shape), requires_grad=True)
    pen = penalty(omega, deltas)
    pgrads = torch.autograd.grad(pen, [deltas[k] for k in IMP_WEIGHTS])

    # the edits' own importance pass covers only their weights (c_proj of layers 0-1)
    lora_omega, _ = importance([(layer, "wOut") for layer in LAYERS])
    rng = GaussianRng(SEED)
    A, B = {}, {}
    for layer in range(LAYERS[0], LAYERS[1] + 1):
        a = np.array([rng.next_normal() / math.sqrt(M) for _ in range(M * RANK)], dtype=np.float32)
        A[layer] = torch.tensor(a.astype(np.float64).reshape(M, RANK), requires_grad=True)
        B[layer] = torch.zeros(RANK, D, dtype=torch.float64, requires_grad=True)
    scale = ALPHA / RANK
    lora = train(lora_omega, [t for l in A for t in (A[l], B[l])],
                 lambda: {(l, "wOut"): scale * (A[l] @ B[l]) for l in A}, LR)
    lora["factors"] = [{"layer": l, "module": "c_proj", "a": r7(A[l].detach().numpy().ravel()),
                        "b": r7(B[l].detach().numpy().ravel())} for l in A]

    Dw = {l: torch.zeros(M, D, dtype=torch.float64, requires_grad=True) for l in LAYERS}
    full = train(lora_omega, [Dw[l] for l in LAYERS], lambda: {(l, "wOut"): Dw[l] for l in LAYERS},
                 FULL_LR)
    full["deltas"] = [{"layer": l, "delta": r7(Dw[l].detach().numpy().ravel())} for l in LAYERS]

    OUT.write_text(json.dumps({
        "texts": TEXTS, "importance_params": IMP,
        "importance": [{"layer": k[0], "name": k[1], "omega": r7(omega[k].numpy().ravel())}
                       for k in IMP_WEIGHTS],
        "raw_mean": raw_mean,
        "penalty": {"deltas": [{"layer": k[0], "name": k[1], "delta": r7(deltas[k].detach().numpy().ravel(), 9)}
                               for k in IMP_WEIGHTS],
                    "value": pen.item(),
                    "grads": [r7(g.numpy().ravel()) for g in pgrads]},
        "edit": {"prefix": PREFIX, "suffix": SUFFIX, "prefix_ids": encode(PREFIX), "suffix_ids": encode(SUFFIX),
                 "layers": LAYERS, "rank": RANK, "alpha": ALPHA, "lr": LR, "full_lr": FULL_LR,
                 "seed": SEED, "steps": STEPS, "lambda": LAMBDA},
        "lora": lora, "full": full,
    }))
    print("raw mean", raw_mean, "penalty", pen.item())
    print("lora", [round(x, 5) for x in lora["losses"]], [round(x, 5) for x in lora["penalties"]])
    print("full", [round(x, 5) for x in full["losses"]], [round(x, 5) for x in full["penalties"]])


if __name__ == "__main__":
    main()
