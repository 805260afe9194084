"""Independent numpy reference for Causeway's GPT-2 runtime (lib/model/gpt2.ts).

Plain numpy (no torch, no tfjs): its own safetensors reader/writer (F32, F16, BF16), its own
HF config reader, and a GPT-2 forward pass that is exactly HF GPT2LMHeadModel's math:

    resid = wte[ids] + wpe[pos]
    for each block:  x = LN1(resid); q, k, v = split(x @ c_attn.W + b)       (Conv1D: x @ W)
                     pattern = softmax(causal(q k^T / sqrt(E)));  z = pattern v
                     resid += z @ c_proj.W + b
                     resid += gelu(LN2(resid) @ c_fc.W + b) @ mlp.c_proj.W + b
    logits = LN_f(resid) @ wte^T                                              (tied unembedding)

computed in float64 and recording every hook in lib/model/hooks.ts order, with TransformerLens
shapes (q/k/v/z [B, T, H, E], pattern [B, H, Tq, Tk], the rest [B, T, D] or [B, T, dMlp]).
Interventions follow lib/model/intervention.ts, implemented here independently with numpy
fancy indexing; a recorded activation is the value after that hook's interventions.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BLOCK_HOOKS = [
    "hook_resid_pre",
    "attn.hook_q",
    "attn.hook_k",
    "attn.hook_v",
    "attn.hook_pattern",
    "attn.hook_z",
    "hook_attn_out",
    "hook_resid_mid",
    "mlp.hook_pre",
    "mlp.hook_post",
    "hook_mlp_out",
    "hook_resid_post",
]
HEAD_HOOKS = {"attn.hook_q", "attn.hook_k", "attn.hook_v", "attn.hook_z", "attn.hook_pattern",
              "attn.hook_rot_q", "attn.hook_rot_k"}  # (the last two: rotary families, llama_ref.py)


def hook_names(n_layer: int) -> list[str]:
    names = ["hook_embed", "hook_pos_embed"]
    for layer in range(n_layer):
        names += [f"blocks.{layer}.{h}" for h in BLOCK_HOOKS]
    names.append("ln_final.hook_normalized")
    return names


# ----------------------------------------------------------------------------- safetensors

_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "F64": np.dtype("<f8"), "U8": np.dtype("u1"),
           "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "BOOL": np.dtype("?")}


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """All tensors of a .safetensors file; floating dtypes (F16, BF16, F32) come back as float32."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    out: dict[str, np.ndarray] = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        buf = data[start:end]
        dtype = meta["dtype"]
        if dtype == "BF16":
            # bfloat16 is the top half of a float32.
            arr = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=_DTYPES[dtype])
        arr = arr.reshape(meta["shape"])
        out[name] = arr.astype(np.float32) if arr.dtype.kind == "f" else arr.copy()
    return out


def write_safetensors(path: str | Path, tensors: dict[str, np.ndarray], metadata: dict | None = None) -> None:
    """Writes tensors (float16 / float32 / uint8 ...) in dict order, 8-byte aligned header."""
    names = {np.dtype("<f4"): "F32", np.dtype("<f2"): "F16", np.dtype("u1"): "U8", np.dtype("<i8"): "I64",
             np.dtype("<i4"): "I32", np.dtype("?"): "BOOL", np.dtype("<f8"): "F64"}
    header: dict = {}
    if metadata:
        header["__metadata__"] = metadata
    chunks = []
    offset = 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        b = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": names[arr.dtype], "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    hj = json.dumps(header, separators=(",", ":")).encode()
    hj += b" " * ((8 - len(hj) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for c in chunks:
            f.write(c)


# ----------------------------------------------------------------------------- model


@dataclass
class Config:
    n_layer: int
    n_head: int
    d_model: int
    d_mlp: int
    n_ctx: int
    vocab_size: int
    eps: float
    activation: str

    @staticmethod
    def from_hf(cfg: dict) -> Config:
        d = cfg["n_embd"]
        return Config(
            n_layer=cfg["n_layer"],
            n_head=cfg["n_head"],
            d_model=d,
            d_mlp=cfg.get("n_inner") or 4 * d,
            n_ctx=cfg.get("n_positions", cfg.get("n_ctx")),
            vocab_size=cfg["vocab_size"],
            eps=cfg.get("layer_norm_epsilon", 1e-5),
            activation=cfg.get("activation_function", "gelu_new"),
        )


def load_model(model_dir: str | Path) -> tuple[Config, dict[str, np.ndarray]]:
    """(config, weights) with names normalised to the unprefixed HF form (`h.0.attn.c_attn.weight`)."""
    model_dir = Path(model_dir)
    cfg = Config.from_hf(json.loads((model_dir / "config.json").read_text()))
    raw = read_safetensors(model_dir / "model.safetensors")
    weights = {}
    for name, arr in raw.items():
        if name.startswith("transformer."):
            name = name[len("transformer.") :]
        if name.endswith(".attn.bias") or name.endswith(".attn.masked_bias") or name == "lm_head.weight":
            continue  # causal-mask buffers; lm_head is tied to wte
        weights[name] = arr.astype(np.float64)
    return cfg, weights


def layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)  # biased, as torch.nn.LayerNorm
    return (x - mu) / np.sqrt(var + eps) * g + b


def gelu(x: np.ndarray, kind: str) -> np.ndarray:
    if kind in ("gelu_new", "gelu_pytorch_tanh"):
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    if kind == "gelu":
        erf = np.vectorize(math.erf, otypes=[np.float64])
        return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))
    raise ValueError(f"unsupported activation {kind}")


def _value(iv: dict) -> np.ndarray | None:
    v = iv.get("value")
    return None if v is None else np.asarray(v, dtype=np.float64)


def apply_interventions(name: str, act: np.ndarray, interventions: list[dict]) -> np.ndarray:
    """Applies every intervention at hook `name`, in list order, to a copy of `act`."""
    mine = [iv for iv in interventions if iv["hook"] == name]
    if not mine:
        return act
    act = act.copy()
    short = name.split(".", 2)[-1] if name.startswith("blocks.") else name
    is_head = short in HEAD_HOOKS
    is_pattern = short == "attn.hook_pattern"
    B = act.shape[0]
    T = act.shape[2] if is_pattern else act.shape[1]
    H = act.shape[1] if is_pattern else (act.shape[2] if is_head else 1)
    for iv in mine:
        rows = list(iv.get("batchIndex") or range(B))
        pos = list(iv.get("positions") or range(T))
        heads = list(iv.get("heads") or range(H))
        if is_pattern:
            idx = np.ix_(rows, heads, pos)  # selection [R, Hs, P, Tk]
        elif is_head:
            idx = np.ix_(rows, pos, heads)  # selection [R, P, Hs, E]
        else:
            idx = np.ix_(rows, pos)  # selection [R, P, F]
        sel = act[idx]
        op = iv["op"]
        if op == "zero":
            new = np.zeros_like(sel)
        elif op == "scale":
            new = sel * float(iv["value"])
        else:
            v = _value(iv).reshape(-1)
            feat = sel.shape[-1]
            # the value fills a trailing run of rows × positions [× heads] × features (row-major)
            # and repeats over the leading axes
            dims = [len(rows), len(pos)] + ([len(heads)] if is_head else []) + [feat]
            k = next(k for k in range(len(dims) - 1, -1, -1) if math.prod(dims[k:]) == v.size)
            full = np.broadcast_to(v.reshape(dims[k:]), dims)
            if is_pattern:
                full = full.transpose(0, 2, 1, 3)  # [R, Hs, P, Tk]
            new = full if op == "replace" else sel + full
        act[idx] = new
    return act


def forward(
    cfg: Config,
    w: dict[str, np.ndarray],
    ids: list[list[int]],
    interventions: list[dict] | None = None,
    activation: str | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Returns (logits [B, T, V], {hook name: activation}) in float64."""
    ivs = interventions or []
    kind = activation or cfg.activation
    acts: dict[str, np.ndarray] = {}

    def hook(name: str, x: np.ndarray) -> np.ndarray:
        x = apply_interventions(name, x, ivs)
        acts[name] = x
        return x

    ids_a = np.asarray(ids, dtype=np.int64)
    B, T = ids_a.shape
    H, D = cfg.n_head, cfg.d_model
    E = D // H
    embed = hook("hook_embed", w["wte.weight"][ids_a])  # [B, T, D]
    pos = hook("hook_pos_embed", np.broadcast_to(w["wpe.weight"][:T], (B, T, D)).copy())  # [B, T, D]
    resid = embed + pos
    causal = np.tril(np.ones((T, T), dtype=bool))
    for layer in range(cfg.n_layer):
        p = f"h.{layer}."
        n = f"blocks.{layer}."
        resid = hook(n + "hook_resid_pre", resid)
        x = layer_norm(resid, w[p + "ln_1.weight"], w[p + "ln_1.bias"], cfg.eps)
        qkv = x @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]  # [B, T, 3D]
        q = hook(n + "attn.hook_q", qkv[..., :D].reshape(B, T, H, E))
        k = hook(n + "attn.hook_k", qkv[..., D : 2 * D].reshape(B, T, H, E))
        v = hook(n + "attn.hook_v", qkv[..., 2 * D :].reshape(B, T, H, E))
        scores = np.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(E)  # [B, H, Tq, Tk]
        scores = np.where(causal, scores, -np.inf)
        scores = scores - scores.max(-1, keepdims=True)
        pattern = np.exp(scores)
        pattern = hook(n + "attn.hook_pattern", pattern / pattern.sum(-1, keepdims=True))
        z = hook(n + "attn.hook_z", np.einsum("bhqk,bkhe->bqhe", pattern, v))  # [B, T, H, E]
        attn_out = z.reshape(B, T, D) @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        attn_out = hook(n + "hook_attn_out", attn_out)
        resid = hook(n + "hook_resid_mid", resid + attn_out)
        x = layer_norm(resid, w[p + "ln_2.weight"], w[p + "ln_2.bias"], cfg.eps)
        pre = hook(n + "mlp.hook_pre", x @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        post = hook(n + "mlp.hook_post", gelu(pre, kind))
        mlp_out = hook(n + "hook_mlp_out", post @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"])
        resid = hook(n + "hook_resid_post", resid + mlp_out)
    normed = hook("ln_final.hook_normalized", layer_norm(resid, w["ln_f.weight"], w["ln_f.bias"], cfg.eps))
    logits = normed @ w["wte.weight"].T  # [B, T, V]
    return logits, acts


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)
