"""Independent numpy reference for the Llama family: model_type `llama`, `mistral`, `qwen2`.

Plain numpy, float64, written from the architecture's definition (HF transformers'
modeling_llama / modeling_mistral / modeling_qwen2 semantics), no torch and no tfjs:

    resid = embed_tokens[ids]
    for each layer:  x = RMSNorm(resid; input_layernorm)            x / sqrt(mean(x²) + eps) * w
                     q, k, v = x @ Wq.T (+bq), x @ Wk.T (+bk), x @ Wv.T (+bv)      (nn.Linear)
                     q, k = rope(q, pos), rope(k, pos)              half-split ("rotate_half") pairs
                     pattern = softmax(causal(q k^T / sqrt(head_dim)))   K/V head = h // (H / Hkv)
                     resid += concat_h(pattern v) @ Wo.T (+bo)
                     x = RMSNorm(resid; post_attention_layernorm)
                     resid += (silu(x @ Wgate.T) * (x @ Wup.T)) @ Wdown.T
    logits = RMSNorm(resid; norm) @ lm_head.T                      (lm_head = embed_tokens if tied)

Options: `rope_theta`; `rope_scaling` {rope_type|type: "linear" | "llama3" | "default"} with HF's
inv_freq formulas (computed here in float64; HF computes them in float32, a difference of about
1e-7 relative); `num_key_value_heads` (GQA); `head_dim` when the config gives it; `tie_word_embeddings`;
qwen2's q/k/v biases (always on, o_proj without); llama's `attention_bias` (q/k/v/o biases); mistral
and qwen2 only without a sliding window.

Hook names and shapes follow TransformerLens (HookedTransformer on Llama/Mistral/Qwen2 checkpoints):

    hook_embed                      [B, T, D]       (no hook_pos_embed: rotary models have none)
    blocks.{l}.hook_resid_pre       [B, T, D]
    blocks.{l}.ln1.hook_normalized  [B, T, D]       norm output AFTER its weight: what q/k/v read
    blocks.{l}.attn.hook_q          [B, T, H, E]    before rotary, bias included
    blocks.{l}.attn.hook_k          [B, T, Hkv, E]  before rotary; GQA keeps Hkv heads (TL default,
    blocks.{l}.attn.hook_v          [B, T, Hkv, E]  ungroup_grouped_query_attention=False)
    blocks.{l}.attn.hook_rot_q      [B, T, H, E]    after rotary (what the scores use)
    blocks.{l}.attn.hook_rot_k      [B, T, Hkv, E]  after rotary
    blocks.{l}.attn.hook_pattern    [B, H, Tq, Tk]
    blocks.{l}.attn.hook_z          [B, T, H, E]    per query head
    blocks.{l}.hook_attn_out        [B, T, D]
    blocks.{l}.hook_resid_mid       [B, T, D]
    blocks.{l}.ln2.hook_normalized  [B, T, D]
    blocks.{l}.mlp.hook_pre         [B, T, dMlp]    gate_proj output (the activation's input)
    blocks.{l}.mlp.hook_pre_linear  [B, T, dMlp]    up_proj output
    blocks.{l}.mlp.hook_post        [B, T, dMlp]    silu(pre) * pre_linear (what down_proj reads)
    blocks.{l}.hook_mlp_out         [B, T, D]
    blocks.{l}.hook_resid_post      [B, T, D]
    ln_final.hook_normalized        [B, T, D]       after the final norm's weight (what lm_head reads)

One deliberate difference from TransformerLens: its RMSNorm fires hook_normalized BEFORE
multiplying by the weight (its LayerNorm fires after weight and bias); here every
`*.hook_normalized` is the norm's full output, so it is always exactly what the next layer reads,
for RMSNorm and LayerNorm alike.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from gpt2_ref import apply_interventions, read_safetensors

Hook = Callable[[str, np.ndarray], np.ndarray]

# ----------------------------------------------------------------------------- checkpoint


def read_checkpoint(model_dir: str | Path) -> dict[str, np.ndarray]:
    """Every tensor of model.safetensors, or of the shards model.safetensors.index.json lists."""
    model_dir = Path(model_dir)
    single = model_dir / "model.safetensors"
    if single.exists():
        return read_safetensors(single)
    index = json.loads((model_dir / "model.safetensors.index.json").read_text())
    out: dict[str, np.ndarray] = {}
    for shard in sorted(set(index["weight_map"].values())):
        out.update(read_safetensors(model_dir / shard))
    missing = set(index["weight_map"]) - set(out)
    if missing:
        raise ValueError(f"shards lack {sorted(missing)[:3]}")
    return out


def checkpoint_files(model_dir: str | Path) -> list[Path]:
    model_dir = Path(model_dir)
    if (model_dir / "model.safetensors").exists():
        return [model_dir / "model.safetensors"]
    index = json.loads((model_dir / "model.safetensors.index.json").read_text())
    return [model_dir / s for s in sorted(set(index["weight_map"].values()))]


# ----------------------------------------------------------------------------- rotary


def rope_inv_freq(rotary_dim: int, theta: float, scaling: dict | None) -> np.ndarray:
    """inv_freq [rotary_dim / 2] as HF's ROPE_INIT_FUNCTIONS compute it (default, linear, llama3)."""
    inv = 1.0 / theta ** (np.arange(0, rotary_dim, 2, dtype=np.float64) / rotary_dim)
    kind = None if scaling is None else (scaling.get("rope_type") or scaling.get("type"))
    if kind in (None, "default"):
        return inv
    factor = float(scaling["factor"])
    if kind == "linear":
        return inv / factor  # same as dividing the positions by `factor`
    if kind == "llama3":
        low, high = float(scaling["low_freq_factor"]), float(scaling["high_freq_factor"])
        old_ctx = float(scaling["original_max_position_embeddings"])
        low_wavelen, high_wavelen = old_ctx / low, old_ctx / high
        wavelen = 2 * math.pi / inv
        # long wavelengths (low frequencies) are slowed by `factor`; short ones kept; in between,
        # a linear blend in old_ctx / wavelen
        scaled = np.where(wavelen > low_wavelen, inv / factor, inv)
        smooth = (old_ctx / wavelen - low) / (high - low)
        blended = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelen >= high_wavelen) & (wavelen <= low_wavelen)
        return np.where(medium, blended, scaled)
    raise ValueError(f"rope_scaling type {kind!r} is not supported")


def apply_rotary(x: np.ndarray, positions: np.ndarray, inv_freq: np.ndarray) -> np.ndarray:
    """x [B, T, H, E] rotated in its first 2·len(inv_freq) features; the rest pass through.

    Pairs are (i, i + R/2) for R = rotary dims (HF's rotate_half layout, not interleaved pairs);
    pair i at position p turns by the angle p · inv_freq[i].
    """
    half = inv_freq.shape[0]
    angle = positions[:, None].astype(np.float64) * inv_freq[None, :]  # [T, R/2]
    cos, sin = np.cos(angle)[None, :, None, :], np.sin(angle)[None, :, None, :]  # [1, T, 1, R/2]
    x1, x2, rest = x[..., :half], x[..., half : 2 * half], x[..., 2 * half :]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin, rest], axis=-1)


# ----------------------------------------------------------------------------- shared pieces


def rms_norm(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def linear(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """nn.Linear: weight [out, in]."""
    y = x @ w.T
    return y if b is None else y + b


def attention(
    n: str,
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    inv_freq: np.ndarray,
    hook: Hook,
) -> np.ndarray:
    """Rotary causal attention with grouped K/V heads; q [B, T, H, E], k/v [B, T, Hkv, E].

    Returns z [B, T, H, E] (after hook_z). Fires hook_q/k/v, hook_rot_q/k, hook_pattern, hook_z.
    """
    B, T, H, E = q.shape
    Hkv = k.shape[2]
    q = hook(n + "attn.hook_q", q)
    k = hook(n + "attn.hook_k", k)
    v = hook(n + "attn.hook_v", v)
    pos = np.arange(T)
    q = hook(n + "attn.hook_rot_q", apply_rotary(q, pos, inv_freq))
    k = hook(n + "attn.hook_rot_k", apply_rotary(k, pos, inv_freq))
    group = np.arange(H) // (H // Hkv)  # query head h reads K/V head h // (H / Hkv)
    kh, vh = k[:, :, group], v[:, :, group]  # [B, T, H, E]
    scores = np.einsum("bqhe,bkhe->bhqk", q, kh) / math.sqrt(E)  # [B, H, Tq, Tk]
    scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    pattern = hook(n + "attn.hook_pattern", scores / scores.sum(-1, keepdims=True))
    return hook(n + "attn.hook_z", np.einsum("bhqk,bkhe->bqhe", pattern, vh))


def silu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


# ----------------------------------------------------------------------------- config


@dataclass
class LlamaConfig:
    model_type: str
    n_layer: int
    n_head: int
    n_kv_head: int
    d_model: int
    head_dim: int
    d_mlp: int
    vocab_size: int
    eps: float
    inv_freq: np.ndarray
    tied: bool
    qkv_bias: bool
    o_bias: bool

    @staticmethod
    def from_hf(cfg: dict) -> LlamaConfig:
        mt = cfg["model_type"]
        if mt not in ("llama", "mistral", "qwen2"):
            raise ValueError(f"model_type {mt!r} is not a Llama-family type")
        if cfg.get("hidden_act", "silu") != "silu":
            raise ValueError(f"hidden_act {cfg['hidden_act']!r} is not supported")
        h = cfg["num_attention_heads"]
        head_dim = cfg.get("head_dim") or cfg["hidden_size"] // h
        attn_bias = bool(cfg.get("attention_bias", False)) if mt == "llama" else False
        return LlamaConfig(
            model_type=mt,
            n_layer=cfg["num_hidden_layers"],
            n_head=h,
            n_kv_head=cfg.get("num_key_value_heads") or h,
            d_model=cfg["hidden_size"],
            head_dim=head_dim,
            d_mlp=cfg["intermediate_size"],
            vocab_size=cfg["vocab_size"],
            eps=cfg.get("rms_norm_eps", 1e-6),
            inv_freq=rope_inv_freq(head_dim, float(cfg.get("rope_theta", 10000.0)), cfg.get("rope_scaling")),
            tied=bool(cfg.get("tie_word_embeddings", False)),
            qkv_bias=mt == "qwen2" or attn_bias,
            o_bias=attn_bias,
        )


def llama_hook_names(n_layer: int) -> list[str]:
    block = [
        "hook_resid_pre", "ln1.hook_normalized", "attn.hook_q", "attn.hook_k", "attn.hook_v",
        "attn.hook_rot_q", "attn.hook_rot_k", "attn.hook_pattern", "attn.hook_z", "hook_attn_out",
        "hook_resid_mid", "ln2.hook_normalized", "mlp.hook_pre", "mlp.hook_pre_linear", "mlp.hook_post",
        "hook_mlp_out", "hook_resid_post",
    ]  # fmt: skip
    return expand_hooks(n_layer, block)


def expand_hooks(n_layer: int, block: list[str]) -> list[str]:
    """hook_embed, then `blocks.{l}.<block hook>` per layer, then ln_final.hook_normalized."""
    names = ["hook_embed"]
    for layer in range(n_layer):
        names += [f"blocks.{layer}.{h}" for h in block]
    return names + ["ln_final.hook_normalized"]


def load_dir(model_dir: str | Path, from_hf: Callable[[dict], Any]) -> tuple[Any, dict[str, np.ndarray]]:
    """(from_hf(config.json), float64 weights by their HF names)."""
    model_dir = Path(model_dir)
    cfg = from_hf(json.loads((model_dir / "config.json").read_text()))
    return cfg, {k: v.astype(np.float64) for k, v in read_checkpoint(model_dir).items()}


def load_llama(model_dir: str | Path) -> tuple[LlamaConfig, dict[str, np.ndarray]]:
    return load_dir(model_dir, LlamaConfig.from_hf)


# ----------------------------------------------------------------------------- forward


def recorder(interventions: list[dict] | None) -> tuple[Hook, dict[str, np.ndarray]]:
    """A hook that applies gpt2_ref's interventions (lib/model/intervention.ts semantics; head
    hooks index their own head axis, so hook_k / hook_v / hook_rot_k select K/V heads) and keeps
    the result."""
    acts: dict[str, np.ndarray] = {}
    ivs = interventions or []

    def hook(name: str, x: np.ndarray) -> np.ndarray:
        x = apply_interventions(name, x, ivs)
        acts[name] = x
        return x

    return hook, acts


def forward(
    cfg: LlamaConfig, w: dict[str, np.ndarray], ids: list[list[int]], interventions: list[dict] | None = None
) -> tuple[np.ndarray, dict]:
    """Returns (logits [B, T, V], {hook name: activation after its interventions}) in float64."""
    hook, acts = recorder(interventions)

    ids_a = np.asarray(ids, dtype=np.int64)
    B, T = ids_a.shape
    H, Hkv, E = cfg.n_head, cfg.n_kv_head, cfg.head_dim
    resid = hook("hook_embed", w["model.embed_tokens.weight"][ids_a])  # [B, T, D]
    for layer in range(cfg.n_layer):
        p, n = f"model.layers.{layer}.", f"blocks.{layer}."
        a = p + "self_attn."

        def bias(name: str, on: bool, a: str = a) -> np.ndarray | None:
            return w[a + name + ".bias"] if on else None

        resid = hook(n + "hook_resid_pre", resid)
        x = hook(n + "ln1.hook_normalized", rms_norm(resid, w[p + "input_layernorm.weight"], cfg.eps))
        q = linear(x, w[a + "q_proj.weight"], bias("q_proj", cfg.qkv_bias)).reshape(B, T, H, E)
        k = linear(x, w[a + "k_proj.weight"], bias("k_proj", cfg.qkv_bias)).reshape(B, T, Hkv, E)
        v = linear(x, w[a + "v_proj.weight"], bias("v_proj", cfg.qkv_bias)).reshape(B, T, Hkv, E)
        z = attention(n, q, k, v, cfg.inv_freq, hook)
        attn_out = hook(n + "hook_attn_out", linear(z.reshape(B, T, H * E), w[a + "o_proj.weight"], bias("o_proj", cfg.o_bias)))
        resid = hook(n + "hook_resid_mid", resid + attn_out)
        x = hook(n + "ln2.hook_normalized", rms_norm(resid, w[p + "post_attention_layernorm.weight"], cfg.eps))
        gate = hook(n + "mlp.hook_pre", linear(x, w[p + "mlp.gate_proj.weight"]))  # [B, T, dMlp]
        up = hook(n + "mlp.hook_pre_linear", linear(x, w[p + "mlp.up_proj.weight"]))
        post = hook(n + "mlp.hook_post", silu(gate) * up)
        mlp_out = hook(n + "hook_mlp_out", linear(post, w[p + "mlp.down_proj.weight"]))
        resid = hook(n + "hook_resid_post", resid + mlp_out)
    normed = hook("ln_final.hook_normalized", rms_norm(resid, w["model.norm.weight"], cfg.eps))
    head = w["model.embed_tokens.weight"] if cfg.tied else w["lm_head.weight"]
    return normed @ head.T, acts
