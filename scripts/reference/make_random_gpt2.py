"""Writes a small random GPT-2 in HF layout for tests: test/fixtures/random-gpt2-f16/.

    python3 scripts/reference/make_random_gpt2.py     # then: python3 scripts/reference/make_goldens.py random

2 layers, d_model 32, 4 heads, vocab 500, n_positions 32, F16 weights with UNPREFIXED names
(`wte.weight`, `h.0.attn.c_attn.weight`, ...) and the `attn.bias` / `attn.masked_bias` buffers
old checkpoints carry (a loader must skip them). Deterministic (fixed seed).

Weights are scaled larger than GPT-2's init (std 0.02) so attention patterns are far from
uniform and every hook carries signal a wrong implementation would change.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from gpt2_ref import write_safetensors

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "random-gpt2-f16"

CONFIG = {
    "architectures": ["GPT2LMHeadModel"],
    "model_type": "gpt2",
    "activation_function": "gelu_new",
    "n_layer": 2,
    "n_head": 4,
    "n_embd": 32,
    "n_inner": None,
    "n_positions": 32,
    "n_ctx": 32,
    "vocab_size": 500,
    "layer_norm_epsilon": 1e-5,
    "bos_token_id": 0,
    "eos_token_id": 0,
    "torch_dtype": "float16",
}


def main() -> None:
    rng = np.random.default_rng(20240611)
    d, n_pos, vocab, n_layer = CONFIG["n_embd"], CONFIG["n_positions"], CONFIG["vocab_size"], CONFIG["n_layer"]
    d_mlp = 4 * d

    def normal(shape, std):
        return rng.normal(0.0, std, size=shape)

    t: dict[str, np.ndarray] = {}
    t["wte.weight"] = normal((vocab, d), 0.5)
    t["wpe.weight"] = normal((n_pos, d), 0.3)
    for layer in range(n_layer):
        p = f"h.{layer}."
        t[p + "ln_1.weight"] = 1.0 + normal((d,), 0.2)
        t[p + "ln_1.bias"] = normal((d,), 0.1)
        t[p + "attn.bias"] = np.tril(np.ones((n_pos, n_pos)))[None, None]  # [1, 1, n_pos, n_pos]
        t[p + "attn.masked_bias"] = np.array(-1e4)
        t[p + "attn.c_attn.weight"] = normal((d, 3 * d), 0.35)
        t[p + "attn.c_attn.bias"] = normal((3 * d,), 0.1)
        t[p + "attn.c_proj.weight"] = normal((d, d), 0.2)
        t[p + "attn.c_proj.bias"] = normal((d,), 0.05)
        t[p + "ln_2.weight"] = 1.0 + normal((d,), 0.2)
        t[p + "ln_2.bias"] = normal((d,), 0.1)
        t[p + "mlp.c_fc.weight"] = normal((d, d_mlp), 0.3)
        t[p + "mlp.c_fc.bias"] = normal((d_mlp,), 0.1)
        t[p + "mlp.c_proj.weight"] = normal((d_mlp, d), 0.15)
        t[p + "mlp.c_proj.bias"] = normal((d,), 0.05)
    t["ln_f.weight"] = 1.0 + normal((d,), 0.2)
    t["ln_f.bias"] = normal((d,), 0.1)

    OUT.mkdir(parents=True, exist_ok=True)
    write_safetensors(OUT / "model.safetensors", {k: v.astype(np.float16) for k, v in t.items()},
                      metadata={"format": "pt"})
    (OUT / "config.json").write_text(json.dumps(CONFIG, indent=2) + "\n")
    print(f"wrote {OUT}/config.json and model.safetensors")


if __name__ == "__main__":
    main()
