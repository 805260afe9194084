"""Reference for lib/edit/lora.ts training: LoRA on one canonical example, in torch (float64).

    /usr/bin/python3 scripts/reference/lora_ref.py    # torch 1.13 + numpy; writes
                                                      # test/fixtures/edit/lora-train.json

Independent of Causeway's code: the GPT-2 forward is written here in torch (HF GPT2LMHeadModel
math, tanh GELU), the weights are read with gpt2_ref.read_safetensors, the prompt ids come from
scripts/reference/encode.mts (the tokenizer library), autograd gives the gradients and
torch.optim.Adam (eps = 1e-7, tfjs' default) the updates. Only A's initial values are shared
with Causeway by construction: N(0, 1/in) from trace_rng.GaussianRng(seed).next_normal(),
rounded to float32, in layer then module order; B starts at 0.

Recorded: the summed suffix NLL in each state 0 … STEPS (state k = after k updates) and the
factors after the last update.
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
OUT = ROOT / "test/fixtures/edit/lora-train.json"

PREFIX = "Ralkrok Stennos lives in the city of"
SUFFIX = " Orvane"
LAYERS = [0, 1]
RANK, ALPHA, LR, SEED, STEPS = 4, 4.0, 0.01, 0, 4


def encode(texts: list[str]) -> list[list[int]]:
    out = subprocess.run(
        ["npx", "tsx", "scripts/reference/encode.mts", str(MODEL / "tokenizer.json"), *texts],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    cfg = json.loads((MODEL / "config.json").read_text())
    D, H, L, eps = cfg["n_embd"], cfg["n_head"], cfg["n_layer"], cfg["layer_norm_epsilon"]
    E = D // H
    w = {k.replace("transformer.", ""): torch.tensor(v.astype(np.float64))
         for k, v in read_safetensors(MODEL / "model.safetensors").items()}
    ids, sids = encode([PREFIX, SUFFIX])
    row = ids + sids[:-1]
    T = len(row)

    rng = GaussianRng(SEED)
    A, B = {}, {}
    for layer in range(LAYERS[0], LAYERS[1] + 1):
        rows, cols = w[f"h.{layer}.mlp.c_proj.weight"].shape
        a = np.array([rng.next_normal() / math.sqrt(rows) for _ in range(rows * RANK)]).astype(np.float32)
        A[layer] = torch.tensor(a.astype(np.float64).reshape(rows, RANK), requires_grad=True)
        B[layer] = torch.zeros(RANK, cols, dtype=torch.float64, requires_grad=True)
    scale = ALPHA / RANK

    def ln(x, g, b):
        mu = x.mean(-1, keepdim=True)
        var = ((x - mu) ** 2).mean(-1, keepdim=True)
        return (x - mu) / torch.sqrt(var + eps) * g + b

    def gelu(x):
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))

    def nll() -> torch.Tensor:
        x = w["wte.weight"][row] + w["wpe.weight"][:T]  # [T, D]
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
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
            wout = w[p + "mlp.c_proj.weight"]
            if layer in A:
                wout = wout + scale * (A[layer] @ B[layer])
            x = x + h @ wout + w[p + "mlp.c_proj.bias"]
        logits = ln(x, w["ln_f.weight"], w["ln_f.bias"]) @ w["wte.weight"].T  # [T, V]
        lp = logits.log_softmax(-1)
        return -sum(lp[len(ids) - 1 + j, t] for j, t in enumerate(sids))

    params = [t for layer in A for t in (A[layer], B[layer])]
    opt = torch.optim.Adam(params, lr=LR, eps=1e-7)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = nll()
        losses.append(loss.item())
        loss.backward()
        opt.step()
    with torch.no_grad():
        losses.append(nll().item())
    OUT.write_text(json.dumps({
        "prefix": PREFIX, "suffix": SUFFIX, "layers": LAYERS, "rank": RANK, "alpha": ALPHA,
        "lr": LR, "seed": SEED, "steps": STEPS, "losses": losses,
        "factors": [{"layer": layer, "module": "c_proj",
                     "a": A[layer].detach().numpy().ravel().tolist(),
                     "b": B[layer].detach().numpy().ravel().tolist()} for layer in A],
    }))
    print("losses", [round(x, 5) for x in losses])


if __name__ == "__main__":
    main()
