"""Writes a small random GPT-2 in HF layout for tests: test/fixtures/random-gpt2-f16/.

    python3 scripts/reference/make_random_gpt2.py     # then: python3 scripts/reference/make_goldens.py random

2 layers, d_model 32, 4 heads, vocab 500, n_positions 32, F16 weights with UNPREFIXED names
(`wte.weight`, `h.0.attn.c_attn.weight`, ...) and the `attn.bias` / `attn.masked_bias` buffers
old checkpoints carry (a loader must skip them). Deterministic (fixed seed).

tokenizer.json is a GPT-2-style byte-level BPE whose token id is the byte value (0–255), plus
three merges (ids 257–259) and `<|endoftext|>` (256), so Engine.load can run on this model and
ASCII text without " t" or "he" in it encodes to its bytes.

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


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's printable stand-in for every byte (space → "Ġ", newline → "Ċ", ...)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs, strict=True)}


def tokenizer_json() -> dict:
    vocab = {ch: b for b, ch in bytes_to_unicode().items()}
    vocab["<|endoftext|>"] = 256
    merges = ["Ġ t", "h e", "Ġt he"]
    for i, m in enumerate(merges):
        vocab[m.replace(" ", "")] = 257 + i
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": 256, "content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": True, "special": True}
        ],
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": byte_level,
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                  "merges": merges},
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
    (OUT / "tokenizer.json").write_text(json.dumps(tokenizer_json(), ensure_ascii=False) + "\n")
    print(f"wrote {OUT}/config.json, model.safetensors and tokenizer.json")


if __name__ == "__main__":
    main()
