"""Reference for lib/edit/loreft.ts training: LoReFT on absc reviews, in torch (float64).

    /usr/bin/python3 scripts/reference/loreft_train_ref.py   # torch 1.13 + numpy; writes
                                                             # test/fixtures/edit/loreft-train.json

Independent of Causeway's code: the GPT-2 forward is written here in torch (HF GPT2LMHeadModel
math, tanh GELU), one prompt at a time (no padding), the weights are read with
gpt2_ref.read_safetensors, the ids come from scripts/reference/encode.mts (the tokenizer
library), autograd gives the gradients and torch.optim.Adam (eps = 1e-7, tfjs' default) the
updates. What is shared with Causeway by construction (the documented recipe, re-implemented):
  - the training reviews: a Fisher-Yates shuffle of absc.train driven by
    trace_rng.GaussianRng(seed).next_uniform (j = floor(u (i + 1)), i from n - 1 down), first N;
  - R's initial value: GaussianRng(seed).next_normal, r x d per layer in layer order, rounded to
    float32, rows orthonormalised by modified Gram-Schmidt (float64), rounded to float32;
    W = R, b = 0.
The edit h <- h + R^T (W h + b - R h) acts on hook_resid_post of each layer at position T - 2;
the loss is the mean over reviews of -log P(label's first token) after the prompt; after each
Adam step R's rows are re-orthonormalised (modified Gram-Schmidt).

Recorded: the loss in each state 0 ... STEPS and R, W, b after the last update.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from gpt2_ref import read_safetensors  # noqa: E402
from trace_rng import GaussianRng  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "public/models/tiny-facts"
OUT = ROOT / "test/fixtures/edit/loreft-train.json"

LAYERS = [2, 3]
RANK, LR, SEED, STEPS, N_TRAIN = 4, 0.01, 3, 4, 6


def encode(texts: list[str]) -> list[list[int]]:
    out = subprocess.run(
        ["npx", "tsx", "scripts/reference/encode.mts", str(MODEL / "tokenizer.json"), *texts],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def shuffled(n: int, seed: int) -> list[int]:
    rng = GaussianRng(seed)
    idx = list(range(n))
    for i in range(n - 1, 0, -1):
        j = math.floor(rng.next_uniform() * (i + 1))
        idx[i], idx[j] = idx[j], idx[i]
    return idx


def orthonormal_rows(m: np.ndarray) -> np.ndarray:
    rows = m.astype(np.float64).copy()
    for i in range(rows.shape[0]):
        for k in range(i):
            rows[i] -= (rows[i] @ rows[k]) * rows[k]
        rows[i] /= np.linalg.norm(rows[i])
    return rows


def main() -> None:
    cfg = json.loads((MODEL / "config.json").read_text())
    D, H, L, eps = cfg["n_embd"], cfg["n_head"], cfg["n_layer"], cfg["layer_norm_epsilon"]
    E = D // H
    w = {k.replace("transformer.", ""): torch.tensor(v.astype(np.float64))
         for k, v in read_safetensors(MODEL / "model.safetensors").items()}
    absc = json.loads((MODEL / "dataset.json").read_text())["absc"]
    train = [absc["train"][i] for i in shuffled(len(absc["train"]), SEED)[:N_TRAIN]]
    labels = absc["labels"]
    label_ids = [ids[0] for ids in encode(labels)]
    rows = encode([ex["prompt"] for ex in train])
    targets = [label_ids[labels.index(ex["label"])] for ex in train]

    rng = GaussianRng(SEED)
    R, W, b = {}, {}, {}
    for layer in LAYERS:
        g = np.array([rng.next_normal() for _ in range(RANK * D)]).astype(np.float32).reshape(RANK, D)
        r0 = orthonormal_rows(g).astype(np.float32).astype(np.float64)
        R[layer] = torch.tensor(r0, requires_grad=True)
        W[layer] = torch.tensor(r0.copy(), requires_grad=True)
        b[layer] = torch.zeros(RANK, dtype=torch.float64, requires_grad=True)

    def ln(x, g_, b_):
        mu = x.mean(-1, keepdim=True)
        var = ((x - mu) ** 2).mean(-1, keepdim=True)
        return (x - mu) / torch.sqrt(var + eps) * g_ + b_

    def gelu(x):
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))

    def nll(row: list[int], target: int) -> torch.Tensor:
        T = len(row)
        x = w["wte.weight"][row] + w["wpe.weight"][:T]  # [T, D]
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        onehot = torch.zeros(T, 1, dtype=torch.float64)
        onehot[T - 2] = 1.0  # the "aspect" position
        for layer in range(L):
            p = f"h.{layer}."
            h = ln(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"])
            qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
            q, k, v = (qkv[:, i * D:(i + 1) * D].reshape(T, H, E).transpose(0, 1) for i in range(3))
            s = (q @ k.transpose(1, 2)) / math.sqrt(E)  # [H, T, T]
            s = s.masked_fill(~mask, float("-inf")).softmax(-1)
            z = (s @ v).transpose(0, 1).reshape(T, D)
            x = x + z @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
            h = gelu(ln(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"]) @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
            x = x + h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
            if layer in R:  # hook_resid_post: h + R^T (W h + b - R h) at T - 2
                delta = (x @ W[layer].T + b[layer] - x @ R[layer].T) @ R[layer]  # [T, D]
                x = x + onehot * delta
        logits = ln(x, w["ln_f.weight"], w["ln_f.bias"]) @ w["wte.weight"].T  # [T, V]
        return -logits[T - 1].log_softmax(-1)[target]

    def loss() -> torch.Tensor:
        return sum(nll(r, t) for r, t in zip(rows, targets)) / len(rows)

    params = [t for layer in LAYERS for t in (R[layer], W[layer], b[layer])]
    opt = torch.optim.Adam(params, lr=LR, eps=1e-7)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        value = loss()
        losses.append(value.item())
        value.backward()
        opt.step()
        with torch.no_grad():
            for layer in LAYERS:
                R[layer].copy_(torch.tensor(orthonormal_rows(R[layer].numpy())))
    with torch.no_grad():
        losses.append(loss().item())
    OUT.write_text(json.dumps({
        "layers": LAYERS, "rank": RANK, "lr": LR, "seed": SEED, "steps": STEPS, "n_train": N_TRAIN,
        "prompts": [ex["prompt"] for ex in train], "losses": losses,
        "learned": [{"layer": layer, "R": R[layer].detach().numpy().ravel().tolist(),
                     "W": W[layer].detach().numpy().ravel().tolist(),
                     "b": b[layer].detach().numpy().ravel().tolist()} for layer in LAYERS],
    }))
    print("losses", [round(x, 5) for x in losses])


if __name__ == "__main__":
    main()
