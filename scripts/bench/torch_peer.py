#!/usr/bin/python3
"""PyTorch peers for `npm run bench --peers` (scripts/bench/peers.ts), on a model directory
(config.json + model.safetensors, HF GPT-2 names) written by the benchmark. Debian's torch, one
thread (OpenBLAS: LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread).

  torch_peer.py trace  --model DIR --job FILE    ROME's causal trace loop, JSON on stdout
  torch_peer.py onnx   --model DIR --out FILE --batch B --tokens T
  torch_peer.py forward --model DIR --batch B --tokens T --repeat R
  torch_peer.py peak                               single-thread float32 matmul GFLOP/s

trace follows ROME's calculate_hidden_flow / trace_with_patch (kind "hidden"): for every token t
and layer l one batch of 1 clean + N noised rows, the noise added to the subject's token
embeddings of rows 1…N, the output of block l at token t of rows 1…N replaced by row 0's, and the
probability of the target at the last position averaged over rows 1…N. The noise is read from the
job file (the same values Causeway draws), so the scores can be compared number for number.
"""
import argparse
import json
import math
import struct
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)
torch.set_grad_enabled(False)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", f"{name}: {info['dtype']}"
        a, b = info["data_offsets"]
        out[name.removeprefix("transformer.")] = torch.from_numpy(
            np.frombuffer(data[a:b], dtype=np.float32).reshape(info["shape"]).copy()
        )
    return out


class Gpt2(torch.nn.Module):
    """GPT-2 (HF GPT2LMHeadModel maths: Conv1D weights, tanh GELU, tied unembedding)."""

    def __init__(self, model_dir):
        super().__init__()
        cfg = json.load(open(f"{model_dir}/config.json"))
        self.L, self.D, self.H = cfg["n_layer"], cfg["n_embd"], cfg["n_head"]
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)
        w = read_safetensors(f"{model_dir}/model.safetensors")
        self.w = w
        self.patch = None  # (layer, position, rows) for the trace

    def ln(self, x, p):
        return torch.nn.functional.layer_norm(x, (self.D,), self.w[p + ".weight"], self.w[p + ".bias"], self.eps)

    def block(self, l, x):
        w, B, T, D, H = self.w, x.shape[0], x.shape[1], self.D, self.H
        E = D // H
        p = f"h.{l}."
        qkv = self.ln(x, p + "ln_1") @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = qkv.split(D, dim=2)
        q, k, v = (t.view(B, T, H, E).transpose(1, 2) for t in (q, k, v))
        s = q @ k.transpose(-1, -2) / math.sqrt(E)
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        s = s.masked_fill(mask, -1e9)
        z = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
        x = x + z @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h = self.ln(x, p + "ln_2") @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"]
        h = torch.nn.functional.gelu(h, approximate="tanh")
        return x + h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]

    def forward(self, ids, noise=None, subject=None):
        """Logits at the last position [B, V]."""
        T = ids.shape[1]
        x = self.w["wte.weight"][ids]
        if noise is not None:  # rows 1… get noise on the subject's tokens (ROME)
            x[1:, subject[0] : subject[1]] += noise
        x = x + self.w["wpe.weight"][:T]
        for l in range(self.L):
            x = self.block(l, x)
            if self.patch is not None and self.patch[0] == l:
                t = self.patch[1]
                x[1:, t] = x[0, t]
        return self.ln(x[:, -1], "ln_f") @ self.w["wte.weight"].T


def trace(args):
    job = json.load(open(args.job))
    m = Gpt2(args.model)
    ids = torch.tensor(job["ids"])
    N, T = job["samples"], len(job["ids"])
    b, e = job["subject"]
    noise = torch.tensor(job["noise"], dtype=torch.float32).view(N, e - b, m.D)
    inp = ids.unsqueeze(0).repeat(N + 1, 1)
    target = job["target"]

    def prob(patch):
        m.patch = patch
        logits = m(inp, noise, (b, e))
        return logits.softmax(-1)[1:, target].mean().item()

    m(inp[:1])  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    m.patch = None
    high = m(inp[:1]).softmax(-1)[0, target].item()
    low = prob(None)
    scores = [[prob((l, t)) for l in range(m.L)] for t in range(T)]
    ms = (time.perf_counter() - t0) * 1000
    cpu_ms = (time.process_time() - c0) * 1000
    json.dump({"ms": ms, "cpu_ms": cpu_ms, "high": high, "low": low, "scores": scores, "forwards": T * m.L + 2}, sys.stdout)


def export_onnx(args):
    m = Gpt2(args.model)
    ids = torch.zeros(args.batch, args.tokens, dtype=torch.int64)
    torch.onnx.export(m, (ids,), args.out, input_names=["ids"], output_names=["logits"], opset_version=14)
    print(json.dumps({"out": args.out}))


def forward(args):
    m = Gpt2(args.model)
    V = m.w["wte.weight"].shape[0]
    ids = (torch.arange(args.batch * args.tokens) * 7919 % V).view(args.batch, args.tokens)
    m(ids)
    best = cpu = math.inf
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        logits = m(ids)
        best = min(best, (time.perf_counter() - t0) * 1000)
        cpu = min(cpu, (time.process_time() - c0) * 1000)
    json.dump({"ms": best, "cpu_ms": cpu, "logits0": logits[0, :8].tolist()}, sys.stdout)


def peak(_):
    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    json.dump({"gflops": 2 * n**3 / best / 1e9, "n": n, "threads": torch.get_num_threads()}, sys.stdout)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["trace", "onnx", "forward", "peak"])
    p.add_argument("--model")
    p.add_argument("--job")
    p.add_argument("--out")
    p.add_argument("--batch", type=int, default=11)
    p.add_argument("--tokens", type=int, default=10)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    {"trace": trace, "onnx": export_onnx, "forward": forward, "peak": peak}[a.cmd](a)


if __name__ == "__main__":
    main()
