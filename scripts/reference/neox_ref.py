"""Independent numpy reference for GPT-NeoX (Pythia): model_type `gpt_neox`.

Plain numpy, float64, written from the architecture's definition (HF transformers'
modeling_gpt_neox semantics), no torch and no tfjs:

    resid = embed_in[ids]
    for each layer:  x = LayerNorm(resid; input_layernorm)
                     qkv = x @ Wqkv.T + bqkv                     [B, T, 3D], fused per head:
                     qkv.reshape(B, T, H, 3, E) → q, k, v = [..., 0, :], [..., 1, :], [..., 2, :]
                     q, k = rope(q, pos), rope(k, pos)           only the first R = int(E · rotary_pct)
                                                                 features, half-split pairs (i, i + R/2)
                     attn_out = concat_h(softmax(causal(q k^T / sqrt(E))) v) @ Wdense.T + b
      parallel (use_parallel_residual, Pythia's default):
                     resid = resid + attn_out + mlp(LayerNorm(resid; post_attention_layernorm))
      sequential:    resid = resid + attn_out;  resid = resid + mlp(LayerNorm(resid; post_attention_layernorm))
                     mlp(x) = gelu(x @ W_h_to_4h.T + b) @ W_4h_to_h.T + b
    logits = LayerNorm(resid; final_layer_norm) @ embed_out.T    (untied by default)

Config fields: hidden_size, num_attention_heads, num_hidden_layers, intermediate_size, vocab_size,
layer_norm_eps, rotary_pct (newer: partial_rotary_factor), rotary_emb_base (newer: rope_theta),
rope_scaling (linear / llama3, as in llama_ref), use_parallel_residual, hidden_act (gelu = exact
erf GELU, gelu_new = tanh), attention_bias, tie_word_embeddings. The causal-mask and inv_freq
buffers older Pythia checkpoints carry (attention.bias, attention.masked_bias,
attention.rotary_emb.inv_freq) are ignored.

Hook names and shapes follow TransformerLens's GPT-NeoX conversion, as in llama_ref.py's table
(K/V have H heads here; MLP has no hook_pre_linear), with one difference TransformerLens also
makes: a PARALLEL block has no hook_resid_mid (no such point exists; its MLP reads
LayerNorm(resid_pre)). `*.hook_normalized` is the LayerNorm output after weight and bias
(TransformerLens's LayerNorm convention).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gpt2_ref import gelu, layer_norm
from llama_ref import attention, expand_hooks, linear, load_dir, recorder, rope_inv_freq


@dataclass
class NeoxConfig:
    n_layer: int
    n_head: int
    d_model: int
    head_dim: int
    d_mlp: int
    vocab_size: int
    eps: float
    inv_freq: np.ndarray
    parallel: bool
    activation: str
    tied: bool

    @staticmethod
    def from_hf(cfg: dict) -> NeoxConfig:
        if cfg["model_type"] != "gpt_neox":
            raise ValueError(f"model_type {cfg['model_type']!r} is not gpt_neox")
        h, d = cfg["num_attention_heads"], cfg["hidden_size"]
        head_dim = d // h
        pct = cfg.get("rotary_pct", cfg.get("partial_rotary_factor", 0.25))
        theta = cfg.get("rotary_emb_base", cfg.get("rope_theta", 10000.0))
        return NeoxConfig(
            n_layer=cfg["num_hidden_layers"],
            n_head=h,
            d_model=d,
            head_dim=head_dim,
            d_mlp=cfg["intermediate_size"],
            vocab_size=cfg["vocab_size"],
            eps=cfg.get("layer_norm_eps", 1e-5),
            inv_freq=rope_inv_freq(int(head_dim * pct), float(theta), cfg.get("rope_scaling")),
            parallel=bool(cfg.get("use_parallel_residual", True)),
            activation=cfg.get("hidden_act", "gelu"),
            tied=bool(cfg.get("tie_word_embeddings", False)),
        )


def neox_hook_names(n_layer: int, parallel: bool) -> list[str]:
    block = [
        "hook_resid_pre", "ln1.hook_normalized", "attn.hook_q", "attn.hook_k", "attn.hook_v",
        "attn.hook_rot_q", "attn.hook_rot_k", "attn.hook_pattern", "attn.hook_z", "hook_attn_out",
        *([] if parallel else ["hook_resid_mid"]),
        "ln2.hook_normalized", "mlp.hook_pre", "mlp.hook_post", "hook_mlp_out", "hook_resid_post",
    ]  # fmt: skip
    return expand_hooks(n_layer, block)


def load_neox(model_dir: str | Path) -> tuple[NeoxConfig, dict[str, np.ndarray]]:
    return load_dir(model_dir, NeoxConfig.from_hf)


def forward(
    cfg: NeoxConfig, w: dict[str, np.ndarray], ids: list[list[int]], interventions: list[dict] | None = None
) -> tuple[np.ndarray, dict]:
    """Returns (logits [B, T, V], {hook name: activation after its interventions}) in float64."""
    hook, acts = recorder(interventions)

    ids_a = np.asarray(ids, dtype=np.int64)
    B, T = ids_a.shape
    H, E, eps = cfg.n_head, cfg.head_dim, cfg.eps
    resid = hook("hook_embed", w["gpt_neox.embed_in.weight"][ids_a])  # [B, T, D]
    for layer in range(cfg.n_layer):
        p, n = f"gpt_neox.layers.{layer}.", f"blocks.{layer}."
        resid = hook(n + "hook_resid_pre", resid)
        ln1 = (w[p + "input_layernorm.weight"], w[p + "input_layernorm.bias"])
        x = hook(n + "ln1.hook_normalized", layer_norm(resid, *ln1, eps))
        qkv = linear(x, w[p + "attention.query_key_value.weight"], w.get(p + "attention.query_key_value.bias"))
        qkv = qkv.reshape(B, T, H, 3, E)  # the fused layout is per head: [q_h, k_h, v_h] blocks
        z = attention(n, qkv[..., 0, :], qkv[..., 1, :], qkv[..., 2, :], cfg.inv_freq, hook)
        dense = (w[p + "attention.dense.weight"], w.get(p + "attention.dense.bias"))  # attention_bias=False: none
        attn_out = hook(n + "hook_attn_out", linear(z.reshape(B, T, H * E), *dense))
        if cfg.parallel:
            mlp_in = resid
        else:
            resid = mlp_in = hook(n + "hook_resid_mid", resid + attn_out)
        ln2 = (w[p + "post_attention_layernorm.weight"], w[p + "post_attention_layernorm.bias"])
        x = hook(n + "ln2.hook_normalized", layer_norm(mlp_in, *ln2, eps))
        pre = hook(n + "mlp.hook_pre", linear(x, w[p + "mlp.dense_h_to_4h.weight"], w[p + "mlp.dense_h_to_4h.bias"]))
        post = hook(n + "mlp.hook_post", gelu(pre, cfg.activation))
        mlp_out = hook(n + "hook_mlp_out", linear(post, w[p + "mlp.dense_4h_to_h.weight"], w[p + "mlp.dense_4h_to_h.bias"]))
        resid = hook(n + "hook_resid_post", (resid + attn_out if cfg.parallel else resid) + mlp_out)
    lnf = (w["gpt_neox.final_layer_norm.weight"], w["gpt_neox.final_layer_norm.bias"])
    normed = hook("ln_final.hook_normalized", layer_norm(resid, *lnf, eps))
    head = w["gpt_neox.embed_in.weight"] if cfg.tied else w["embed_out.weight"]
    return normed @ head.T, acts

