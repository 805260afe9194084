/**
 * The body of the exported Python script (lib/export/python.ts puts the session's data in front
 * of it, and the family forwards of python-forwards.ts after it).
 * Self-contained: torch (+ numpy-free), optional transformers. Independent of the app's code: its
 * own safetensors reader (single file or shards), the trace's interventions at TransformerLens
 * hooks, and the app's seeded Gaussian stream (lib/interp/rng.ts, as
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


def read_checkpoint(folder):
    """Every float tensor of model.safetensors, or of the shards model.safetensors.index.json lists."""
    single = os.path.join(folder, "model.safetensors")
    if os.path.exists(single):
        return read_safetensors(single)
    with open(os.path.join(folder, "model.safetensors.index.json")) as f:
        shards = sorted(set(json.load(f)["weight_map"].values()))
    out = {}
    for shard in shards:
        out.update(read_safetensors(os.path.join(folder, shard)))
    return out


def normalise(cfg, weights):
    """GPT-2's names without "transformer." (its attention mask buffers and tied lm_head dropped);
    the other families' hub names as they are."""
    if family_of(cfg) != "gpt2":
        return weights
    out = {}
    for name, t in weights.items():
        if name.startswith("transformer."):
            name = name[len("transformer."):]
        if name.endswith(".attn.bias") or name.endswith(".attn.masked_bias") or name == "lm_head.weight":
            continue
        out[name] = t
    return out


def load_model(ref):
    """(config dict, weights) from a folder (config.json + safetensors, single or sharded), else via transformers."""
    if os.path.isdir(ref):
        with open(os.path.join(ref, "config.json")) as f:
            cfg = json.load(f)
        return cfg, normalise(cfg, read_checkpoint(ref))
    try:
        from transformers import AutoModelForCausalLM
    except ImportError:
        sys.exit(f"{ref!r} is not a folder and transformers is not installed: pip install transformers, "
                 "or pass --model a folder holding config.json and model.safetensors")
    hf = AutoModelForCausalLM.from_pretrained(ref, revision=REVISION)
    cfg = hf.config.to_dict()
    return cfg, normalise(cfg, {k: v.detach().float() for k, v in hf.state_dict().items()})


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
    fam = family_of(cfg)
    T, L, D = len(INPUT_IDS), cfg[N_LAYER[fam]], cfg[D_MODEL[fam]]
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
            sigma = NOISE * float(w[EMBED[fam]].double().std(unbiased=False))
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
    ap.add_argument("--logits", action="store_true",
                    help="instead of tracing, write the (edited) model's logits [T][V] of the prompt's ids")
    args = ap.parse_args()
    global DTYPE
    DTYPE = torch.float64 if args.dtype == "float64" else torch.float32
    cfg, w = load_model(args.model)
    w = {k: v.to(args.device, DTYPE) for k, v in w.items()}
    for edit in ROME_EDITS:
        apply_rome(cfg, w, edit)
    if args.logits:
        with torch.no_grad():
            logits = forward(cfg, w, torch.tensor([INPUT_IDS], device=args.device), {})[0]
        results = [{"input_ids": INPUT_IDS, "logits": logits.tolist()}]
    else:
        results = [trace(cfg, w, kind, args.device) for kind in KINDS]
    for r in results:
        want = EXPECTED.get(r.get("kind"))
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

`;
