"""Reference for lib/edit/absc-train.ts: the ABSC recipe's objective, gradient and training, in torch.

    /usr/bin/python3 scripts/reference/absc_joint_ref.py   # torch 1.13 + numpy; writes
                                                          # test/fixtures/edit/absc-joint.json

Independent of Causeway's code: the GPT-2 forward is written here in torch (float64, HF
GPT2LMHeadModel math), one review at a time (no padding), weights read with
gpt2_ref.read_safetensors, ids from scripts/reference/encode.mts (the tokenizer library),
gradients by autograd, updates by torch.optim.Adam (eps = 1e-7, tfjs' default). Shared with
Causeway by construction (the documented recipe, re-implemented):
  - the training reviews: dataset.json absc_domains.restaurant.train, Fisher-Yates shuffled by
    trace_rng.GaussianRng(seed) (loreft_train_ref.shuffled), first N_TRAIN;
  - LoReFT's R: GaussianRng(seed).next_normal, r x d per layer, float32, orthonormal rows (modified
    Gram-Schmidt), W = R, b = 0; the edit h <- h + R^T (W h + b - R h) at hook_resid_post, position T - 2;
  - LoRA's A [H E, r]: GaussianRng(seed + 1).next_normal / sqrt(H E), float32, layer by layer, B = 0,
    scale 1: attn.c_proj.weight <- W + A B;
  - the loss: mean over reviews of -log softmax(logits[T - 1])[label's token]; R re-orthonormalised
    after every Adam step.
Methods: joint (LoReFT + LoRA on attn.c_proj at LAYERS), lora_all (LoRA on every layer's attn.c_proj),
ft_layer (every parameter of block LAYERS[0]: ln_1, c_attn, attn.c_proj, ln_2, c_fc, mlp.c_proj, biases).

Recorded per method: the loss in states 0 ... STEPS; for joint also the gradient of the loss at
step 0 with respect to R, W, b, A, B; for every method the gradient norm of each trained tensor at
step 0.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from gpt2_ref import read_safetensors  # noqa: E402
from loreft_train_ref import encode, orthonormal_rows, shuffled  # noqa: E402
from trace_rng import GaussianRng  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "public/models/tiny-facts"
OUT = ROOT / "test/fixtures/edit/absc-joint.json"

LAYERS = [2]
RANK, LR, SEED, STEPS, N_TRAIN = 4, 0.01, 3, 3, 6
FULL = ["ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
        "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
        "mlp.c_proj.weight", "mlp.c_proj.bias"]


def main() -> None:
    cfg = json.loads((MODEL / "config.json").read_text())
    D, H, L, eps = cfg["n_embd"], cfg["n_head"], cfg["n_layer"], cfg["layer_norm_epsilon"]
    E = D // H
    w0 = {k.replace("transformer.", ""): torch.tensor(v.astype(np.float64))
          for k, v in read_safetensors(MODEL / "model.safetensors").items()}
    doms = json.loads((MODEL / "dataset.json").read_text())["absc_domains"]
    pool = doms[doms["train_domain"]]["train"]
    train = [pool[i] for i in shuffled(len(pool), SEED)[:N_TRAIN]]
    labels = doms["labels"]
    label_ids = [ids[0] for ids in encode(labels)]
    rows = encode([ex["prompt"] for ex in train])
    targets = [label_ids[labels.index(ex["label"])] for ex in train]

    def ln(x, g_, b_):
        mu = x.mean(-1, keepdim=True)
        var = ((x - mu) ** 2).mean(-1, keepdim=True)
        return (x - mu) / torch.sqrt(var + eps) * g_ + b_

    def gelu(x):
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))

    def nll(w, reft, row, target):
        T = len(row)
        x = w["wte.weight"][row] + w["wpe.weight"][:T]  # [T, D]
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        at = torch.zeros(T, 1, dtype=torch.float64)
        at[T - 2] = 1.0  # the aspect position
        for layer in range(L):
            p = f"h.{layer}."
            h = ln(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"])
            qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
            q, k, v = (qkv[:, i * D:(i + 1) * D].reshape(T, H, E).transpose(0, 1) for i in range(3))
            s = ((q @ k.transpose(1, 2)) / math.sqrt(E)).masked_fill(~mask, float("-inf")).softmax(-1)
            z = (s @ v).transpose(0, 1).reshape(T, D)  # [T, H E]
            x = x + z @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
            h = gelu(ln(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"]) @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
            x = x + h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
            if layer in reft:
                R, W, b = reft[layer]
                x = x + at * ((x @ W.T + b - x @ R.T) @ R)
        logits = ln(x, w["ln_f.weight"], w["ln_f.bias"]) @ w["wte.weight"].T  # [T, V]
        return -logits[T - 1].log_softmax(-1)[target]

    def run(method: str) -> dict:
        reft, lora, full = {}, {}, {}
        if method == "joint":
            rng = GaussianRng(SEED)
            for layer in LAYERS:
                g = np.array([rng.next_normal() for _ in range(RANK * D)]).astype(np.float32).reshape(RANK, D)
                r0 = orthonormal_rows(g).astype(np.float32).astype(np.float64)
                reft[layer] = (torch.tensor(r0, requires_grad=True), torch.tensor(r0.copy(), requires_grad=True),
                               torch.zeros(RANK, dtype=torch.float64, requires_grad=True))
        if method in ("joint", "lora_all"):
            rng = GaussianRng(SEED + 1)
            for layer in (LAYERS if method == "joint" else range(L)):
                a = (np.array([rng.next_normal() for _ in range(D * RANK)]) / math.sqrt(D)).astype(np.float32)
                lora[layer] = (torch.tensor(a.astype(np.float64).reshape(D, RANK), requires_grad=True),
                               torch.zeros(RANK, D, dtype=torch.float64, requires_grad=True))
        if method == "ft_layer":
            full = {f"h.{LAYERS[0]}.{n}": w0[f"h.{LAYERS[0]}.{n}"].clone().requires_grad_(True) for n in FULL}

        def loss():
            w = dict(w0)
            w.update(full)
            for layer, (a, b) in lora.items():
                k = f"h.{layer}.attn.c_proj.weight"
                w[k] = w0[k] + a @ b
            return sum(nll(w, reft, r, t) for r, t in zip(rows, targets)) / len(rows)

        named = {**{f"reft.{layer}.{n}": t for layer, ts in reft.items() for n, t in zip("RWb", ts)},
                 **{f"lora.{layer}.{n}": t for layer, ts in lora.items() for n, t in zip("AB", ts)},
                 **{f"full.{k}": t for k, t in full.items()}}
        opt = torch.optim.Adam(list(named.values()), lr=LR, eps=1e-7)
        losses, out = [], {}
        for step in range(STEPS):
            opt.zero_grad()
            value = loss()
            losses.append(value.item())
            value.backward()
            if step == 0:
                out["grad_norms"] = {k: t.grad.norm().item() for k, t in named.items()}
                if method == "joint":
                    out["grads"] = {k: t.grad.numpy().ravel().tolist() for k, t in named.items()}
            opt.step()
            with torch.no_grad():
                for R, _, _ in reft.values():
                    R.copy_(torch.tensor(orthonormal_rows(R.numpy())))
        with torch.no_grad():
            losses.append(loss().item())
        out["losses"] = losses
        out["params"] = sum(t.numel() for t in named.values())
        print(method, "params", out["params"], "losses", [round(x, 5) for x in losses])
        return out

    OUT.write_text(json.dumps({
        "layers": LAYERS, "rank": RANK, "lr": LR, "seed": SEED, "steps": STEPS, "n_train": N_TRAIN,
        "prompts": [ex["prompt"] for ex in train],
        "methods": {m: run(m) for m in ("joint", "lora_all", "ft_layer")},
    }))


if __name__ == "__main__":
    main()
