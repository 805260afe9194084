"""GPT-2 in torch, computing exactly what HF's GPT2LMHeadModel computes, with HF's names.

Module names mirror HF so `state_dict()` keys are the checkpoint keys
(`transformer.h.0.attn.c_attn.weight`, ...). Linear layers use HF's Conv1D layout, weight
[in, out] and y = x @ W + b, because that is the layout the browser runtime reads.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from cpu_ops import bmm, linear


@dataclass
class GPTConfig:
    vocab_size: int
    n_layer: int = 6
    n_head: int = 4
    n_embd: int = 128
    n_positions: int = 64
    layer_norm_epsilon: float = 1e-5

    def hf_config(self, bos_token_id: int, eos_token_id: int) -> dict:
        """config.json in the shape of HF's gpt2 config (n_inner null -> 4 * n_embd)."""
        return {
            "architectures": ["GPT2LMHeadModel"],
            "model_type": "gpt2",
            "vocab_size": self.vocab_size,
            "n_layer": self.n_layer,
            "n_head": self.n_head,
            "n_embd": self.n_embd,
            "n_inner": None,
            "n_positions": self.n_positions,
            "n_ctx": self.n_positions,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "activation_function": "gelu_new",
            "resid_pdrop": 0.0,
            "embd_pdrop": 0.0,
            "attn_pdrop": 0.0,
            "initializer_range": 0.02,
            "scale_attn_weights": True,
            "bos_token_id": bos_token_id,
            "eos_token_id": eos_token_id,
            "tie_word_embeddings": True,
        }

    def to_dict(self) -> dict:
        return asdict(self)


class Conv1D(nn.Module):
    """HF's Conv1D: a linear layer whose weight is stored [in, out]."""

    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * 0.02)  # [in, out]
        self.bias = nn.Parameter(torch.zeros(n_out))  # [out]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear(x, self.weight, self.bias)


def gelu_new(x: torch.Tensor) -> torch.Tensor:
    """GPT-2's tanh approximation of GELU (HF 'gelu_new'):
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). torch's fused kernel computes the same
    formula several times faster than the spelled-out expression on this CPU."""
    return F.gelu(x, approximate="tanh")


class Attention(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.n_head = cfg.n_head
        self.c_attn = Conv1D(cfg.n_embd, 3 * cfg.n_embd)
        self.c_proj = Conv1D(cfg.n_embd, cfg.n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        hs = C // self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)  # 3 x [B, T, C]
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # [B, nh, T, hs]
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)  # [B, nh, T, hs]
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)  # [B, nh, T, hs]
        G = B * self.n_head
        att = bmm(q.reshape(G, T, hs), k.reshape(G, T, hs).transpose(1, 2)) / math.sqrt(hs)  # [G, T, T]
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()  # [T, T]
        att = att.masked_fill(~causal, torch.finfo(att.dtype).min).softmax(dim=-1)  # [G, T, T]
        z = bmm(att, v.reshape(G, T, hs)).view(B, self.n_head, T, hs)  # [B, nh, T, hs]
        z = z.transpose(1, 2).reshape(B, T, C)  # [B, T, C]
        return self.c_proj(z)


class MLP(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.c_fc = Conv1D(cfg.n_embd, 4 * cfg.n_embd)
        self.c_proj = Conv1D(4 * cfg.n_embd, cfg.n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(gelu_new(self.c_fc(x)))  # [B, T, C]


class Block(nn.Module):
    """Pre-LN block: x + attn(ln_1(x)), then + mlp(ln_2(x))."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.attn = Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_positions, cfg.n_embd)
        self.h = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)


class HfCheckpoint(nn.Module):
    """state_dict() keys are the checkpoint's (HF) names: saving and loading are plain copies."""

    def hf_state_dict(self) -> dict[str, torch.Tensor]:
        """Checkpoint tensors under HF names (GPT-2: no lm_head, tied; no attn.bias buffers)."""
        return {k: v.detach().float().contiguous() for k, v in self.state_dict().items()}

    def load_hf_state_dict(self, tensors: dict[str, torch.Tensor]) -> None:
        own = self.state_dict()
        assert set(tensors) == set(own), f"key mismatch: {set(tensors) ^ set(own)}"
        for k, v in tensors.items():
            assert tuple(v.shape) == tuple(own[k].shape), f"{k}: {tuple(v.shape)} != {tuple(own[k].shape)}"
        self.load_state_dict(tensors)


def sinusoid_positions(n_positions: int, n_embd: int) -> torch.Tensor:
    """The Transformer paper's position encoding [n_positions, n_embd]: sin/cos pairs at geometric
    frequencies, so "the position before this one" is one linear map at every position, which a
    previous-token head can learn once instead of once per absolute position."""
    pos = torch.arange(n_positions, dtype=torch.float32)[:, None]  # [P, 1]
    freq = 10000 ** (-torch.arange(0, n_embd, 2, dtype=torch.float32) / n_embd)  # [C/2]
    out = torch.zeros(n_positions, n_embd)  # [P, C]
    out[:, 0::2] = torch.sin(pos * freq)
    out[:, 1::2] = torch.cos(pos * freq)
    return out


class GPT2LMHeadModel(HfCheckpoint):
    def __init__(self, cfg: GPTConfig, init_std: float | None = None, sin_pos: float | None = None, embed_std: float | None = None):
        super().__init__()
        self.cfg = cfg
        self.transformer = Transformer(cfg)
        self._init_weights(init_std)
        if embed_std is not None:  # wte and wpe only: a larger token identity in the residual stream
            nn.init.normal_(self.transformer.wte.weight, mean=0.0, std=embed_std)
            nn.init.normal_(self.transformer.wpe.weight, mean=0.0, std=embed_std)
        if sin_pos:  # still learned; only the starting point changes
            with torch.no_grad():
                self.transformer.wpe.weight.copy_(sinusoid_positions(cfg.n_positions, cfg.n_embd) * sin_pos)

    def _init_weights(self, init_std: float | None) -> None:
        """GPT-2's init: N(0, 0.02), and residual projections scaled by 1/sqrt(2 * n_layer).
        With `init_std`: every weight matrix and embedding N(0, init_std), unscaled. At 0.02 this
        model sits at chance for thousands of steps on an in-context lookup ("w1 t1 w2 t2 w3 t3 Q t2"
        -> w2) that it leaves within ~800 steps at 0.1 (lookup_plateau.py; docs/recipes.md, session 11)."""
        for name, p in self.named_parameters():
            if name.endswith("bias") or ".ln_" in name:
                continue
            if init_std is not None:
                std = init_std
            else:
                std = 0.02 / math.sqrt(2 * self.cfg.n_layer) if name.endswith("c_proj.weight") else 0.02
            nn.init.normal_(p, mean=0.0, std=std)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Token ids [B, T] -> logits [B, T, vocab]; lm_head is tied to wte."""
        B, T = idx.shape
        assert T <= self.cfg.n_positions, f"sequence of {T} > n_positions {self.cfg.n_positions}"
        t = self.transformer
        pos = torch.arange(T, device=idx.device)  # [T]
        x = t.wte(idx) + t.wpe(pos)  # [B, T, C]
        for block in t.h:
            x = block(x)
        x = t.ln_f(x)  # [B, T, C]
        return linear(x, t.wte.weight.t())  # [B, T, vocab]

