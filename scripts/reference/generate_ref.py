"""Golden token ids for lib/edit/generate.ts, computed independently in numpy (float64).

    python3 scripts/reference/generate_ref.py      # writes test/fixtures/generate/bundled.json

On the bundled model (public/models/tiny-facts), for prompts given as token ids (encoded by
scripts/reference/encode.mts, the tokenizer library, not Causeway's code):

  greedy    argmax of the last position's logits (ties: lower id), the whole sequence re-run
            through gpt2_ref.forward at every step
  sampled   weights exp((l - max) / temperature) over the top-k ids in descending-logit order
            (ties: lower id), one uniform u from trace_rng.GaussianRng(seed).next_uniform() per
            token, the first id whose cumulative weight exceeds u * total
  lora      greedy decoding of the model with a LoRA edit folded into its weights,
            W += (alpha / rank) * A @ B on mlp.c_proj of layers 0-1 (A, B drawn here by numpy's
            own generator and stored in the fixture), plus that model's last-position logits
  stop      at max_new tokens, at <|endoftext|> (id from config eos_token_id; not kept), or when
            the sequence fills the context

The fixture also records, for every generated token, the margin that makes it robust to
float32-vs-float64 differences (greedy: top-1 minus top-2 logit; sampled: the distance of
u * total from the nearest cumulative-weight boundary, relative to the total).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from gpt2_ref import forward, load_model  # noqa: E402
from trace_rng import GaussianRng  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "public/models/tiny-facts"
OUT = ROOT / "test/fixtures/generate/bundled.json"

PROMPTS = [
    "Ralkrok Stennos lives in the city of",
    "Once upon a time, a kind dog",
    "Review: The food was",
]
SAMPLED = [  # (prompt index, seed, temperature, top_k)
    (1, 7, 1.0, 0),
    (1, 11, 0.8, 20),
    (2, 3, 1.3, 5),
]
MAX_NEW = 12
LORA = {"layers": [0, 1], "rank": 2, "alpha": 6.0, "seed": 1234, "std_a": 0.3, "std_b": 0.3}


def encode(prompts: list[str]) -> list[list[int]]:
    out = subprocess.run(
        ["npx", "tsx", "scripts/reference/encode.mts", str(MODEL / "tokenizer.json"), *prompts],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def last_logits(cfg, w, seq: list[int]) -> np.ndarray:
    logits, _ = forward(cfg, w, [seq])
    return logits[0, -1]  # [V]


def generate(cfg, w, ids, eos, sample=None):
    seq = list(ids)
    new, margins = [], []
    rng = GaussianRng(sample[0]) if sample else None
    stop = "max_new"
    while len(new) < MAX_NEW:
        if len(seq) >= cfg.n_ctx:
            stop = "context"
            break
        l = last_logits(cfg, w, seq)
        if sample is None:
            order = np.lexsort((np.arange(l.size), -l))
            tok = int(order[0])
            margins.append(float(l[order[0]] - l[order[1]]))
        else:
            _, temperature, top_k = sample
            order = np.lexsort((np.arange(l.size), -l))
            keep = order[:top_k] if top_k > 0 else order
            wts = np.exp((l[keep] - l[keep[0]]) / temperature)
            total = wts.sum()
            u = rng.next_uniform() * total
            cum = np.cumsum(wts)
            j = int(np.searchsorted(cum, u, side="right"))
            j = min(j, keep.size - 1)
            tok = int(keep[j])
            margins.append(float(np.min(np.abs(cum - u)) / total))
        if tok == eos:
            stop = "eos"
            break
        seq.append(tok)
        new.append(tok)
    return {"ids": new, "stop": stop, "min_margin": min(margins) if margins else None}


def main() -> None:
    cfg, w = load_model(MODEL)
    eos = json.loads((MODEL / "config.json").read_text())["eos_token_id"]
    ids = encode(PROMPTS)
    greedy = [{"prompt": p, "prompt_ids": i, **generate(cfg, w, i, eos)} for p, i in zip(PROMPTS, ids)]
    sampled = [
        {"prompt": PROMPTS[k], "prompt_ids": ids[k], "seed": s, "temperature": t, "top_k": kk,
         **generate(cfg, w, ids[k], eos, (s, t, kk))}
        for k, s, t, kk in SAMPLED
    ]
    # LoRA folded into the weights, factors from numpy's generator (independent of Causeway's rng)
    gen = np.random.default_rng(LORA["seed"])
    scale = LORA["alpha"] / LORA["rank"]
    wl = dict(w)
    factors = []
    for layer in range(LORA["layers"][0], LORA["layers"][1] + 1):
        name = f"h.{layer}.mlp.c_proj.weight"
        rows, cols = w[name].shape
        a = (gen.standard_normal((rows, LORA["rank"])) * LORA["std_a"]).astype(np.float32)
        b = (gen.standard_normal((LORA["rank"], cols)) * LORA["std_b"]).astype(np.float32)
        wl[name] = w[name] + scale * (a.astype(np.float64) @ b.astype(np.float64))
        factors.append({"layer": layer, "module": "c_proj", "a": a.ravel().tolist(), "b": b.ravel().tolist()})
    lora = {
        "rank": LORA["rank"], "alpha": LORA["alpha"], "layers": LORA["layers"], "factors": factors,
        "prompt": PROMPTS[0], "prompt_ids": ids[0],
        "last_logits_original": last_logits(cfg, w, ids[0]).astype(np.float32).tolist(),
        "last_logits": last_logits(cfg, wl, ids[0]).astype(np.float32).tolist(),
        **generate(cfg, wl, ids[0], eos),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"max_new": MAX_NEW, "eos_id": eos, "greedy": greedy, "sampled": sampled, "lora": lora}))
    for g in greedy + sampled + [lora]:
        print(g["prompt"][:30], g["ids"], g["stop"], f"margin {g['min_margin']:.2e}")


if __name__ == "__main__":
    main()
