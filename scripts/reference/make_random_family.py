"""Small random Llama-family and GPT-NeoX checkpoints in the hub's own layout, with goldens.

    python3 scripts/reference/make_random_family.py          # (re)writes test/fixtures/families/

Each test/fixtures/families/<name>/ holds config.json (real HF field names), model.safetensors
(or model.safetensors.index.json + shards) with real HF tensor names, and golden.json +
golden.safetensors: logits and every hook for two prompts of token ids (no tokenizer), and
logits plus four hooks for a batch of two rows, computed
in float64 by llama_ref.py / neox_ref.py from the weights as stored (F16/BF16 rounded), stored as
float32 `<case>/logits` and `<case>/<hook>` (the format of make_goldens.py). golden.json's
`files` records the sha256 of each weight file, so a test can tell stale goldens from a bug.

Deterministic (fixed seeds). Weights are scaled larger than real init so attention patterns are
far from uniform and every hook carries signal a wrong implementation would change.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Callable

import llama_ref
import neox_ref
import numpy as np
from gpt2_ref import write_safetensors

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "families"
MAX_DIR_BYTES = 200_000
Normal = Callable[[tuple[int, ...], float], np.ndarray]  # (shape, std) → N(0, std²) samples

BASE = {"vocab_size": 96, "hidden_size": 32, "num_hidden_layers": 2, "max_position_embeddings": 64,
        "bos_token_id": 1, "eos_token_id": 2, "initializer_range": 0.02, "use_cache": True}  # fmt: skip

# name → (config.json, dtype, shards)
FIXTURES: dict[str, tuple[dict, str, int]] = {
    # GQA 4 query heads / 2 K/V heads, head_dim given (12 ≠ 32 / 4), llama3 rope scaling that puts
    # the 6 frequencies in all three of its bands, untied lm_head
    "llama-gqa-bf16": ({
        **BASE, "architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "bfloat16",
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 12, "intermediate_size": 48,
        "hidden_act": "silu", "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "attention_bias": False,
        "mlp_bias": False, "tie_word_embeddings": False,
        "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 64},
    }, "bf16", 1),
    # multi-head (no num_key_value_heads), tied head, old-style linear scaling, q/k/v/o biases
    "llama-tied-f16": ({
        **BASE, "architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "float16",
        "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "silu", "rms_norm_eps": 1e-6,
        "rope_theta": 500.0, "rope_scaling": {"type": "linear", "factor": 2.0}, "attention_bias": True,
        "tie_word_embeddings": True,
    }, "f16", 1),
    # qwen2: q/k/v biases, one K/V head for 4 query heads, tied, sliding window present but off, sharded
    "qwen2-sharded-bf16": ({
        **BASE, "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "torch_dtype": "bfloat16",
        "num_attention_heads": 4, "num_key_value_heads": 1, "intermediate_size": 48, "hidden_act": "silu",
        "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "rope_scaling": None, "use_sliding_window": False,
        "sliding_window": 64, "max_window_layers": 2, "tie_word_embeddings": True,
    }, "bf16", 2),
    # mistral without a sliding window, GQA, untied
    "mistral-f16": ({
        **BASE, "architectures": ["MistralForCausalLM"], "model_type": "mistral", "torch_dtype": "float16",
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8, "intermediate_size": 48,
        "hidden_act": "silu", "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "sliding_window": None,
        "tie_word_embeddings": False,
    }, "f16", 1),
    # Pythia layout: parallel residual, rotary_pct 0.25 (4 of 16 head features), exact GELU, the
    # old mask / inv_freq buffers a loader must skip
    "pythia-parallel-f16": ({
        **BASE, "architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox", "torch_dtype": "float16",
        "num_attention_heads": 2, "intermediate_size": 128, "hidden_act": "gelu", "layer_norm_eps": 1e-5,
        "rotary_pct": 0.25, "rotary_emb_base": 10000, "use_parallel_residual": True,
        "tie_word_embeddings": False, "max_position_embeddings": 32,  # smaller mask buffers
    }, "f16", 1),
    # sequential residual, newer field names (partial_rotary_factor, rope_theta), tanh GELU
    "neox-sequential-bf16": ({
        **BASE, "architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox", "torch_dtype": "bfloat16",
        "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "gelu_new", "layer_norm_eps": 1e-5,
        "partial_rotary_factor": 0.5, "rope_theta": 1000.0, "use_parallel_residual": False,
        "attention_bias": True, "tie_word_embeddings": False,
    }, "bf16", 1),
}  # fmt: skip


def to_dtype(x: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "f16":
        return x.astype(np.float16)
    # bfloat16: round-to-nearest-even on the float32 bits; the 16-bit payload travels as float16
    # bits (write_safetensors has no bfloat16) and retag_bf16 relabels it afterwards
    bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return bits.astype(np.uint16).view(np.float16)


def llama_weights(cfg: dict, nrm: Normal) -> dict[str, np.ndarray]:
    d, h = cfg["hidden_size"], cfg["num_attention_heads"]
    hkv = cfg.get("num_key_value_heads") or h
    e = cfg.get("head_dim") or d // h
    f, v = cfg["intermediate_size"], cfg["vocab_size"]
    qkv_bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
    o_bias = cfg["model_type"] == "llama" and cfg.get("attention_bias", False)
    t = {"model.embed_tokens.weight": nrm((v, d), 1.0)}
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        t[p + "input_layernorm.weight"] = 1.0 + nrm((d,), 0.2)
        for name, rows in (("q_proj", h * e), ("k_proj", hkv * e), ("v_proj", hkv * e)):
            t[p + f"self_attn.{name}.weight"] = nrm((rows, d), 0.35)
            if qkv_bias:
                t[p + f"self_attn.{name}.bias"] = nrm((rows,), 0.2)
        t[p + "self_attn.o_proj.weight"] = nrm((d, h * e), 0.2)
        if o_bias:
            t[p + "self_attn.o_proj.bias"] = nrm((d,), 0.1)
        t[p + "post_attention_layernorm.weight"] = 1.0 + nrm((d,), 0.2)
        t[p + "mlp.gate_proj.weight"] = nrm((f, d), 0.3)
        t[p + "mlp.up_proj.weight"] = nrm((f, d), 0.3)
        t[p + "mlp.down_proj.weight"] = nrm((d, f), 0.15)
    t["model.norm.weight"] = 1.0 + nrm((d,), 0.2)
    if not cfg.get("tie_word_embeddings", False):
        t["lm_head.weight"] = nrm((v, d), 0.5)
    return t


def neox_weights(cfg: dict, nrm: Normal) -> dict[str, np.ndarray]:
    d, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    n_pos = cfg["max_position_embeddings"]
    head_dim = d // cfg["num_attention_heads"]
    t = {"gpt_neox.embed_in.weight": nrm((v, d), 1.0)}
    for layer in range(cfg["num_hidden_layers"]):
        p = f"gpt_neox.layers.{layer}."
        t[p + "input_layernorm.weight"] = 1.0 + nrm((d,), 0.2)
        t[p + "input_layernorm.bias"] = nrm((d,), 0.1)
        t[p + "post_attention_layernorm.weight"] = 1.0 + nrm((d,), 0.2)
        t[p + "post_attention_layernorm.bias"] = nrm((d,), 0.1)
        if "rotary_pct" in cfg:  # the buffers old Pythia checkpoints carry
            t[p + "attention.bias"] = np.tril(np.ones((n_pos, n_pos), dtype=bool))[None, None]
            t[p + "attention.masked_bias"] = np.array(-1e9, dtype=np.float32)
            r = int(head_dim * cfg["rotary_pct"])
            inv = 1.0 / cfg["rotary_emb_base"] ** (np.arange(0, r, 2) / r)
            t[p + "attention.rotary_emb.inv_freq"] = inv.astype(np.float32)
        t[p + "attention.query_key_value.weight"] = nrm((3 * d, d), 0.35)
        t[p + "attention.query_key_value.bias"] = nrm((3 * d,), 0.2)
        t[p + "attention.dense.weight"] = nrm((d, d), 0.2)
        t[p + "attention.dense.bias"] = nrm((d,), 0.1)
        t[p + "mlp.dense_h_to_4h.weight"] = nrm((f, d), 0.3)
        t[p + "mlp.dense_h_to_4h.bias"] = nrm((f,), 0.1)
        t[p + "mlp.dense_4h_to_h.weight"] = nrm((d, f), 0.15)
        t[p + "mlp.dense_4h_to_h.bias"] = nrm((d,), 0.05)
    t["gpt_neox.final_layer_norm.weight"] = 1.0 + nrm((d,), 0.2)
    t["gpt_neox.final_layer_norm.bias"] = nrm((d,), 0.1)
    t["embed_out.weight"] = nrm((v, d), 0.5)
    return t


def write_weights(out: Path, tensors: dict[str, np.ndarray], dtype: str, shards: int) -> None:
    stored = {k: (to_dtype(a, dtype) if a.dtype == np.float64 else a) for k, a in tensors.items()}
    if shards == 1:
        write_safetensors(out / "model.safetensors", stored, metadata={"format": "pt"})
        if dtype == "bf16":
            retag_bf16(out / "model.safetensors")
        return
    names = list(stored)
    parts = np.array_split(np.arange(len(names)), shards)
    weight_map = {}
    for i, idx in enumerate(parts):
        file = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        write_safetensors(out / file, {names[j]: stored[names[j]] for j in idx}, metadata={"format": "pt"})
        if dtype == "bf16":
            retag_bf16(out / file)
        weight_map.update({names[j]: file for j in idx})
    total = sum(a.nbytes for a in stored.values())
    index = {"metadata": {"total_size": int(total)}, "weight_map": weight_map}
    (out / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")


def retag_bf16(path: Path) -> None:
    """write_safetensors has no bfloat16: the payloads it wrote as F16 become BF16."""
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    for name, meta in header.items():
        if name != "__metadata__" and meta["dtype"] == "F16":
            meta["dtype"] = "BF16"
    hj = json.dumps(header, separators=(",", ":")).encode()
    hj += b" " * ((8 - len(hj) % 8) % 8)  # offsets are relative to the data, so only the length moves
    path.write_bytes(len(hj).to_bytes(8, "little") + hj + raw[8 + n :])


def make(name: str, cfg: dict, dtype: str, shards: int, seed: int) -> None:
    out = OUT / name
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*"):
        old.unlink()
    rng = np.random.default_rng(seed)
    neox = cfg["model_type"] == "gpt_neox"

    def nrm(shape: tuple[int, ...], std: float) -> np.ndarray:
        return rng.normal(0.0, std, size=shape)

    write_weights(out, (neox_weights if neox else llama_weights)(cfg, nrm), dtype, shards)
    (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")

    if neox:
        rcfg, w = neox_ref.load_neox(out)
        fwd, hooks = neox_ref.forward, neox_ref.neox_hook_names(rcfg.n_layer, rcfg.parallel)
    else:
        rcfg, w = llama_ref.load_llama(out)
        fwd, hooks = llama_ref.forward, llama_ref.llama_hook_names(rcfg.n_layer)
    tensors: dict[str, np.ndarray] = {}
    cases = []
    # two single prompts with every hook; a batch of two rows with a few (batching, GQA heads)
    batch_hooks = ["blocks.0.attn.hook_rot_k", "blocks.1.attn.hook_pattern", "blocks.1.attn.hook_z",
                   "blocks.1.hook_resid_post"]  # fmt: skip
    for case, rows, t, record in (("p0", 1, 6, hooks), ("p1", 1, 11, hooks), ("batch2", 2, 8, batch_hooks)):
        ids = [[int(x) for x in rng.integers(0, cfg["vocab_size"], size=t)] for _ in range(rows)]
        logits, acts = fwd(rcfg, w, ids)
        assert sorted(acts) == sorted(hooks), f"{name}: hooks fired differ from the hook list"
        shapes = {"logits": list(logits.shape)}
        tensors[f"{case}/logits"] = logits.astype(np.float32)
        for h in record:
            tensors[f"{case}/{h}"] = acts[h].astype(np.float32)
            shapes[h] = list(acts[h].shape)
        cases.append({"name": case, "ids": ids, "recorded": record, "tensors": shapes})
    write_safetensors(out / "golden.safetensors", tensors)
    manifest = {
        "generator": "scripts/reference/make_random_family.py (llama_ref.py / neox_ref.py, float64 computed, float32 stored)",
        "model": str(out.relative_to(ROOT)),
        "files": {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in llama_ref.checkpoint_files(out)},
        "hooks": hooks,
        "cases": cases,
    }
    (out / "golden.json").write_text(json.dumps(manifest, indent=1) + "\n")
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"wrote {out.relative_to(ROOT)}/ ({size} bytes)")
    if size > MAX_DIR_BYTES:
        sys.exit(f"{out} is {size} bytes, over the {MAX_DIR_BYTES}-byte fixture budget")


def main() -> None:
    for i, (name, (cfg, dtype, shards)) in enumerate(FIXTURES.items()):
        make(name, cfg, dtype, shards, seed=1100 + i)


if __name__ == "__main__":
    main()
