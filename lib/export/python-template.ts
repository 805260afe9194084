/**
 * The body of the exported Python script (lib/export/python.ts puts the session's data in front
 * of it). Self-contained: torch (+ numpy-free), optional transformers. Independent of the app's
 * code: its own safetensors reader, GPT-2 forward (HF GPT2LMHeadModel maths) with the trace's
 * interventions, and the app's seeded Gaussian stream (lib/interp/rng.ts, as
 * scripts/reference/trace_rng.py) so the noise is the app's, bit for bit.
 */
export const PYTHON_BODY = String.raw`
import argparse
import json
import math
import os
import struct
import sys

import torch

M32 = 0xFFFFFFFF


class GaussianRng:
    """Causeway's seeded stream: splitmix32 x4 -> xoshiro128** -> 53-bit uniforms -> Box-Muller."""

    def __init__(self, seed):
        s = seed & M32
        st = []
        for _ in range(4):
            s = (s + 0x9E3779B9) & M32
            z = s
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
            st.append((z ^ (z >> 16)) & M32)
        self.a, self.b, self.c, self.d = st
        self.spare = None

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (32 - k))) & M32

    def next_uint32(self):
        result = (self._rotl((self.b * 5) & M32, 7) * 9) & M32
        t = (self.b << 9) & M32
        self.c ^= self.a
        self.d ^= self.b
        self.b ^= self.c
        self.a ^= self.d
        self.c ^= t
        self.d = self._rotl(self.d, 11)
        return result

    def next_uniform(self):
        hi = self.next_uint32() >> 5
        lo = self.next_uint32() >> 6
        return (hi * 67108864 + lo) / 9007199254740992

    def next_normal(self):
        if self.spare is not None:
            z, self.spare = self.spare, None
            return z
        u1 = self.next_uniform()
        u2 = self.next_uniform()
        r = math.sqrt(-2.0 * math.log(1.0 - u1))
        th = 2.0 * math.pi * u2
        self.spare = r * math.sin(th)
        return r * math.cos(th)


def gaussian_array(seed, count, scale):
    """The first count normals x scale, each rounded to float32 (as the app's gaussianArray)."""
    rng = GaussianRng(seed)
    return torch.tensor([scale * rng.next_normal() for _ in range(count)], dtype=torch.float64).to(torch.float32)


# ---------------------------------------------------------------- loading

DTYPES = {"F32": torch.float32, "F16": torch.float16, "F64": torch.float64}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        buf = bytearray(data[a:b])
        if meta["dtype"] == "BF16":
            t = torch.frombuffer(buf, dtype=torch.int16).to(torch.int32) << 16
            t = t.view(torch.float32)
        elif meta["dtype"] in DTYPES:
            t = torch.frombuffer(buf, dtype=DTYPES[meta["dtype"]]) if len(buf) else torch.zeros(0)
        else:
            continue
        out[name] = t.reshape(meta["shape"]).to(torch.float32)
    return out


def normalise(weights):
    out = {}
    for name, t in weights.items():
        if name.startswith("transformer."):
            name = name[len("transformer."):]
        if name.endswith(".attn.bias") or name.endswith(".attn.masked_bias") or name == "lm_head.weight":
            continue
        out[name] = t
    return out


def load_model(ref):
    """(config dict, weights) from a folder (config.json + model.safetensors), else via transformers."""
    if os.path.isdir(ref):
        with open(os.path.join(ref, "config.json")) as f:
            cfg = json.load(f)
        return cfg, normalise(read_safetensors(os.path.join(ref, "model.safetensors")))
    try:
        from transformers import GPT2LMHeadModel
    except ImportError:
        sys.exit(f"{ref!r} is not a folder and transformers is not installed: pip install transformers, "
                 "or pass --model a folder holding config.json and model.safetensors")
    hf = GPT2LMHeadModel.from_pretrained(ref, revision=REVISION)
    return hf.config.to_dict(), normalise({k: v.detach().float() for k, v in hf.state_dict().items()})


# ---------------------------------------------------------------- GPT-2 with hooks

def gelu(x, kind):
    if kind in ("gelu_new", "gelu_pytorch_tanh"):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def forward(cfg, w, ids, hooks):
    """logits [B, T, V]. hooks[name](x) may return a replacement for the activation (TransformerLens
    names: hook_embed, blocks.{l}.hook_attn_out, blocks.{l}.hook_mlp_out, blocks.{l}.hook_resid_post)."""
    def hook(name, x):
        f = hooks.get(name)
        return x if f is None else f(x)

    B, T = ids.shape
    D, H = cfg["n_embd"], cfg["n_head"]
    E = D // H
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    act = cfg.get("activation_function", "gelu_new")
    ln = torch.nn.functional.layer_norm
    x = hook("hook_embed", w["wte.weight"][ids]) + w["wpe.weight"][:T]
    mask = torch.ones(T, T, dtype=torch.bool, device=ids.device).tril()
    for l in range(cfg["n_layer"]):
        p = f"h.{l}."
        h = ln(x, (D,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = (t.reshape(B, T, H, E).transpose(1, 2) for t in qkv.split(D, dim=-1))
        s = (q @ k.transpose(-1, -2)) / math.sqrt(E)
        s = s.masked_fill(~mask, float("-inf"))
        z = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
        a = hook(f"blocks.{l}.hook_attn_out", z @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"])
        x = x + a
        h = ln(x, (D,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        m = gelu(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"], act)
        m = hook(f"blocks.{l}.hook_mlp_out", m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"])
        x = hook(f"blocks.{l}.hook_resid_post", x + m)
    x = ln(x, (D,), w["ln_f.weight"], w["ln_f.bias"], eps)
    return x @ w["wte.weight"].T


# ---------------------------------------------------------------- causal trace (ROME)

def window_layers(layer, window, n_layer):
    return list(range(max(0, layer - window // 2), min(n_layer, layer + (window + 1) // 2)))


def target_prob(logits, T, target):
    """[B] probability of the target continuation, teacher forced."""
    p = torch.ones(logits.shape[0], dtype=logits.dtype, device=logits.device)
    for i, tok in enumerate(target):
        p = p * logits[:, T - 1 + i].softmax(-1)[:, tok]
    return p


def trace(cfg, w, kind, device):
    T, L, D = len(INPUT_IDS), cfg["n_layer"], cfg["n_embd"]
    clean = torch.tensor([INPUT_IDS + TARGET_IDS[:-1]], device=device)
    acts = {}

    def keep(name):
        def f(x):
            acts[name] = x.detach().clone()
            return x
        return f

    names = [f"blocks.{l}.{h}" for l in range(L) for h in ("hook_resid_post", "hook_mlp_out", "hook_attn_out")]
    with torch.no_grad():
        high = float(target_prob(forward(cfg, w, clean, {n: keep(n) for n in names}), T, TARGET_IDS)[0])
        if CORRUPT_IDS is None:
            b, e = SUBJECT
            sigma = NOISE * float(w["wte.weight"].double().std(unbiased=False))
            noise = gaussian_array(SEED, SAMPLES * (e - b) * D, sigma).to(device, DTYPE).reshape(SAMPLES, e - b, D)
            rows = clean.repeat(SAMPLES, 1)

            def corrupt(x):
                x = x.clone()
                x[:, b:e] += noise
                return x
            base = {"hook_embed": corrupt}
        else:
            rows = torch.tensor([CORRUPT_IDS + TARGET_IDS[:-1]], device=device)
            base = {}
        low = float(target_prob(forward(cfg, w, rows, base), T, TARGET_IDS).mean())
        scores = [[0.0] * L for _ in range(T)]
        for t in range(T):
            for layer in range(L):
                if kind == "hidden":
                    sites = [f"blocks.{layer}.hook_resid_post"]
                else:
                    hook = "hook_mlp_out" if kind == "mlp" else "hook_attn_out"
                    sites = [f"blocks.{j}.{hook}" for j in window_layers(layer, WINDOW, L)]
                hooks = dict(base)
                for name in sites:
                    def restore(x, name=name, t=t):
                        x = x.clone()
                        x[:, t] = acts[name][0, t]
                        return x
                    hooks[name] = restore
                scores[t][layer] = float(target_prob(forward(cfg, w, rows, hooks), T, TARGET_IDS).mean())
    return {"kind": kind, "answer": ANSWER, "low_score": low, "high_score": high, "input_tokens": INPUT_TOKENS,
            "input_ids": INPUT_IDS, "subject_range": list(SUBJECT) if SUBJECT else None, "window": WINDOW,
            "scores": scores}


def main():
    ap = argparse.ArgumentParser(description="Recompute a Causeway causal trace with torch.")
    ap.add_argument("--model", default=MODEL, help="folder with config.json + model.safetensors, or a hub id")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--out", help="write the results as JSON here (default: stdout)")
    args = ap.parse_args()
    global DTYPE
    DTYPE = torch.float64 if args.dtype == "float64" else torch.float32
    cfg, w = load_model(args.model)
    w = {k: v.to(args.device, DTYPE) for k, v in w.items()}
    for edit in ROME_EDITS:
        # ROME's rank-one update of mlp.c_proj.weight [d_mlp, d_model]: W += u v^T
        u = torch.tensor(edit["u"], dtype=DTYPE, device=args.device)
        v = torch.tensor(edit["v"], dtype=DTYPE, device=args.device)
        w[f"h.{edit['layer']}.mlp.c_proj.weight"] = w[f"h.{edit['layer']}.mlp.c_proj.weight"] + torch.outer(u, v)
    results = [trace(cfg, w, kind, args.device) for kind in KINDS]
    for r in results:
        want = EXPECTED.get(r["kind"])
        if want is not None:
            d = max((abs(a - b) for ra, rb in zip(r["scores"], want) for a, b in zip(ra, rb) if b is not None),
                    default=0.0)
            print(f"{r['kind']}: max |recomputed - app| = {d:.2e}", file=sys.stderr)
    text = json.dumps(results if len(results) > 1 else results[0], indent=1)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
`;
