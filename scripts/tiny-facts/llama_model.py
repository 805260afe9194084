"""Llama in torch, computing what HF's LlamaForCausalLM computes, with HF's parameter names.

RMSNorm, rotary position embeddings (HF's rotate_half pairs, rope_theta), grouped-query
attention (num_key_value_heads < num_attention_heads; query head h reads K/V head
h // (H / Hkv), HF's repeat_kv), SwiGLU MLP, untied lm_head, no biases. Module names mirror
HF, so `state_dict()` keys are the checkpoint keys (`model.layers.0.self_attn.q_proj.weight`,
...); linear weights keep nn.Linear's [out, in] layout, as the hub stores them. The products
go through cpu_ops (oneDNN convolutions) for speed, as model.py's do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from cpu_ops import bmm, linear
from model import HfCheckpoint


@dataclass
class LlamaConfig:
    vocab_size: int
    n_layer: int = 6
    n_head: int = 4
    n_kv_head: int = 2
    n_embd: int = 128
    intermediate_size: int = 320  # SwiGLU width: 3 * 128 * 320 weights ≈ GPT-2's 8 * 128² MLP
    n_positions: int = 64
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def hf_config(self, bos_token_id: int, eos_token_id: int) -> dict:
        """config.json in the shape of HF's llama config."""
        return {
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "vocab_size": self.vocab_size,
            "hidden_size": self.n_embd,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.n_layer,
            "num_attention_heads": self.n_head,
            "num_key_value_heads": self.n_kv_head,
            "head_dim": self.head_dim,
            "hidden_act": "silu",
            "max_position_embeddings": self.n_positions,
            "rms_norm_eps": self.rms_norm_eps,
            "rope_theta": self.rope_theta,
            "rope_scaling": None,
            "attention_bias": False,
            "attention_dropout": 0.0,
            "mlp_bias": False,
            "initializer_range": 0.02,
            "pretraining_tp": 1,
            "tie_word_embeddings": False,
            "torch_dtype": "float32",
            "bos_token_id": bos_token_id,
            "eos_token_id": eos_token_id,
        }

    @staticmethod
    def from_hf(hf: dict) -> "LlamaConfig":
        return LlamaConfig(
            vocab_size=hf["vocab_size"],
            n_layer=hf["num_hidden_layers"],
            n_head=hf["num_attention_heads"],
            n_kv_head=hf["num_key_value_heads"],
            n_embd=hf["hidden_size"],
            intermediate_size=hf["intermediate_size"],
            n_positions=hf["max_position_embeddings"],
            rms_norm_eps=hf["rms_norm_eps"],
            rope_theta=hf["rope_theta"],
        )


class Linear(nn.Module):
    """nn.Linear without bias: weight [out, in], y = x @ W^T."""

    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) * 0.02)  # [out, in]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear(x, self.weight.t())


class RMSNorm(nn.Module):
    def __init__(self, n: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotary_tables(cfg: LlamaConfig, T: int) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin [T, head_dim] for positions 0..T-1, HF's layout (frequencies repeated twice)."""
    E = cfg.head_dim
    inv = 1.0 / cfg.rope_theta ** (torch.arange(0, E, 2, dtype=torch.float64) / E)  # [E/2]
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]  # [T, E/2]
    emb = torch.cat([ang, ang], dim=-1)  # [T, E]
    return emb.cos().float(), emb.sin().float()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.cfg = cfg
        E = cfg.head_dim
        self.q_proj = Linear(cfg.n_embd, cfg.n_head * E)
        self.k_proj = Linear(cfg.n_embd, cfg.n_kv_head * E)
        self.v_proj = Linear(cfg.n_embd, cfg.n_kv_head * E)
        self.o_proj = Linear(cfg.n_head * E, cfg.n_embd)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        H, Hkv, E = self.cfg.n_head, self.cfg.n_kv_head, self.cfg.head_dim
        q = self.q_proj(x).view(B, T, H, E).transpose(1, 2)  # [B, H, T, E]
        k = self.k_proj(x).view(B, T, Hkv, E).transpose(1, 2)  # [B, Hkv, T, E]
        v = self.v_proj(x).view(B, T, Hkv, E).transpose(1, 2)  # [B, Hkv, T, E]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // Hkv, dim=1)  # [B, H, T, E]: query head h reads K/V head h // (H/Hkv)
        v = v.repeat_interleave(H // Hkv, dim=1)  # [B, H, T, E]
        G = B * H
        att = bmm(q.reshape(G, T, E), k.reshape(G, T, E).transpose(1, 2)) / math.sqrt(E)  # [G, T, T]
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()  # [T, T]
        att = att.masked_fill(~causal, torch.finfo(att.dtype).min).softmax(dim=-1)  # [G, T, T]
        z = bmm(att, v.reshape(G, T, E)).view(B, H, T, E).transpose(1, 2).reshape(B, T, H * E)  # [B, T, H*E]
        return self.o_proj(z)


class MLP(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.gate_proj = Linear(cfg.n_embd, cfg.intermediate_size)
        self.up_proj = Linear(cfg.n_embd, cfg.intermediate_size)
        self.down_proj = Linear(cfg.intermediate_size, cfg.n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))  # [B, T, D]


class DecoderLayer(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.n_embd, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.n_embd, cfg.rms_norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.n_layer))
        self.norm = RMSNorm(cfg.n_embd, cfg.rms_norm_eps)


class LlamaForCausalLM(HfCheckpoint):
    def __init__(self, cfg: LlamaConfig, init_std: float | None = None):
        super().__init__()
        self.cfg = cfg
        self.model = LlamaModel(cfg)
        self.lm_head = Linear(cfg.n_embd, cfg.vocab_size)
        self._init_weights(init_std)

    def _init_weights(self, init_std: float | None) -> None:
        """N(0, 0.02); the residual projections (o_proj, down_proj) scaled by 1/sqrt(2 * n_layer)
        as in model.py's GPT-2 init; norm gains stay 1. With `init_std`: every weight N(0, init_std),
        unscaled (model.py's GPT2LMHeadModel says why)."""
        for name, p in self.named_parameters():
            if "norm" in name:
                continue
            residual = name.endswith(("o_proj.weight", "down_proj.weight"))
            std = init_std if init_std is not None else 0.02 / math.sqrt(2 * self.cfg.n_layer) if residual else 0.02
            nn.init.normal_(p, mean=0.0, std=std)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Token ids [B, T] -> logits [B, T, vocab]."""
        B, T = idx.shape
        assert T <= self.cfg.n_positions, f"sequence of {T} > max_position_embeddings {self.cfg.n_positions}"
        cos, sin = rotary_tables(self.cfg, T)  # [T, E] each
        x = self.model.embed_tokens(idx)  # [B, T, D]
        for layer in self.model.layers:
            x = layer(x, cos, sin)
        return self.lm_head(self.model.norm(x))  # [B, T, V]
