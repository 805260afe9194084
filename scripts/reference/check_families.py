"""Checks llama_ref.py and neox_ref.py against a second, independent implementation in torch.

    /usr/bin/python3 scripts/reference/check_families.py     # Debian's python3-torch (1.13)

The torch forward below is written separately from the architecture's definition, in another
formulation: torch.nn.functional ops, rotary as a complex multiplication of (x_i + i·x_{i+R/2})
by e^{i·p·θ_i}, GQA by repeat_interleave, NeoX's fused QKV through an explicit [H, 3, E] view,
inv_freq recomputed in torch. For every fixture in test/fixtures/families/ it compares logits and
every hook of the numpy reference on random token ids (a batch of 2 rows × 13 positions) within
1e-5, in float64. It also checks the rotary and the rope_scaling formulas against closed forms
worked out by hand. Exits non-zero on any mismatch.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import llama_ref
import neox_ref
import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = ROOT / "test" / "fixtures" / "families"
TOL = 1e-5
torch.set_default_dtype(torch.float64)


def t_inv_freq(rotary_dim: int, theta: float, scaling: dict | None) -> torch.Tensor:
    inv = torch.tensor([theta ** (-(2.0 * i) / rotary_dim) for i in range(rotary_dim // 2)])
    kind = None if scaling is None else scaling.get("rope_type", scaling.get("type"))
    if kind is None or kind == "default":
        return inv
    if kind == "linear":
        return inv / scaling["factor"]
    assert kind == "llama3", kind
    f, lo, hi = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
    ctx = scaling["original_max_position_embeddings"]
    out = []
    for w in inv.tolist():
        wavelen = 2 * math.pi / w
        if wavelen < ctx / hi:  # high frequency: kept
            out.append(w)
        elif wavelen > ctx / lo:  # low frequency: slowed by the factor
            out.append(w / f)
        else:  # between: blend
            s = (ctx / wavelen - lo) / (hi - lo)
            out.append((1 - s) * w / f + s * w)
    return torch.tensor(out)


def t_rotary(x: torch.Tensor, inv: torch.Tensor) -> torch.Tensor:
    """x [B, T, H, E]: complex rotation of the pairs (i, i + R/2), R = 2·len(inv)."""
    half = inv.shape[0]
    T = x.shape[1]
    turn = torch.polar(torch.ones(T, half), torch.arange(T)[:, None] * inv[None, :])  # [T, R/2]
    c = torch.complex(x[..., :half], x[..., half : 2 * half]) * turn[None, :, None, :]
    return torch.cat([c.real, c.imag, x[..., 2 * half :]], dim=-1)


def t_attention(n, q, k, v, inv, acts):
    H, Hkv, E = q.shape[2], k.shape[2], q.shape[3]
    acts[n + "attn.hook_q"], acts[n + "attn.hook_k"], acts[n + "attn.hook_v"] = q, k, v
    q, k = t_rotary(q, inv), t_rotary(k, inv)
    acts[n + "attn.hook_rot_q"], acts[n + "attn.hook_rot_k"] = q, k
    k = k.repeat_interleave(H // Hkv, dim=2)
    v = v.repeat_interleave(H // Hkv, dim=2)
    qh, kh, vh = (a.permute(0, 2, 1, 3) for a in (q, k, v))  # [B, H, T, E]
    T = q.shape[1]
    scores = qh @ kh.transpose(-1, -2) / math.sqrt(E)
    scores = scores.masked_fill(torch.ones(T, T).triu(1).bool(), float("-inf"))
    pattern = torch.softmax(scores, dim=-1)
    acts[n + "attn.hook_pattern"] = pattern
    z = (pattern @ vh).permute(0, 2, 1, 3)  # [B, T, H, E]
    acts[n + "attn.hook_z"] = z
    return z.reshape(z.shape[0], T, H * E)


def t_rms(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def torch_llama(cfg: dict, w: dict[str, torch.Tensor], ids: torch.Tensor):
    acts: dict[str, torch.Tensor] = {}
    mt = cfg["model_type"]
    H = cfg["num_attention_heads"]
    Hkv = cfg.get("num_key_value_heads") or H
    E = cfg.get("head_dim") or cfg["hidden_size"] // H
    eps = cfg["rms_norm_eps"]
    inv = t_inv_freq(E, cfg.get("rope_theta", 10000.0), cfg.get("rope_scaling"))
    B, T = ids.shape
    x = F.embedding(ids, w["model.embed_tokens.weight"])
    acts["hook_embed"] = x
    for layer in range(cfg["num_hidden_layers"]):
        p, n = f"model.layers.{layer}.", f"blocks.{layer}."
        acts[n + "hook_resid_pre"] = x
        h = t_rms(x, w[p + "input_layernorm.weight"], eps)
        acts[n + "ln1.hook_normalized"] = h

        def proj(name, h=h, p=p):
            return F.linear(h, w[p + f"self_attn.{name}.weight"], w.get(p + f"self_attn.{name}.bias"))

        q = proj("q_proj").view(B, T, H, E)
        k = proj("k_proj").view(B, T, Hkv, E)
        v = proj("v_proj").view(B, T, Hkv, E)
        z = t_attention(n, q, k, v, inv, acts)
        a = F.linear(z, w[p + "self_attn.o_proj.weight"], w.get(p + "self_attn.o_proj.bias"))
        acts[n + "hook_attn_out"] = a
        x = x + a
        acts[n + "hook_resid_mid"] = x
        h = t_rms(x, w[p + "post_attention_layernorm.weight"], eps)
        acts[n + "ln2.hook_normalized"] = h
        gate = F.linear(h, w[p + "mlp.gate_proj.weight"])
        up = F.linear(h, w[p + "mlp.up_proj.weight"])
        post = F.silu(gate) * up
        m = F.linear(post, w[p + "mlp.down_proj.weight"])
        acts[n + "mlp.hook_pre"], acts[n + "mlp.hook_pre_linear"], acts[n + "mlp.hook_post"] = gate, up, post
        acts[n + "hook_mlp_out"] = m
        x = x + m
        acts[n + "hook_resid_post"] = x
    x = t_rms(x, w["model.norm.weight"], eps)
    acts["ln_final.hook_normalized"] = x
    tied = cfg.get("tie_word_embeddings", False)
    assert mt in ("llama", "mistral", "qwen2")
    return F.linear(x, w["model.embed_tokens.weight" if tied else "lm_head.weight"]), acts


def torch_neox(cfg: dict, w: dict[str, torch.Tensor], ids: torch.Tensor):
    acts: dict[str, torch.Tensor] = {}
    H, D = cfg["num_attention_heads"], cfg["hidden_size"]
    E = D // H
    pct = cfg.get("rotary_pct", cfg.get("partial_rotary_factor"))
    inv = t_inv_freq(int(E * pct), cfg.get("rotary_emb_base", cfg.get("rope_theta")), cfg.get("rope_scaling"))
    eps = cfg["layer_norm_eps"]
    approx = "tanh" if cfg["hidden_act"] == "gelu_new" else "none"
    B, T = ids.shape
    x = F.embedding(ids, w["gpt_neox.embed_in.weight"])
    acts["hook_embed"] = x

    def ln(h, name):
        return F.layer_norm(h, (D,), w[name + ".weight"], w[name + ".bias"], eps)

    for layer in range(cfg["num_hidden_layers"]):
        p, n = f"gpt_neox.layers.{layer}.", f"blocks.{layer}."
        acts[n + "hook_resid_pre"] = x
        h = ln(x, p + "input_layernorm")
        acts[n + "ln1.hook_normalized"] = h
        qkv = F.linear(h, w[p + "attention.query_key_value.weight"], w[p + "attention.query_key_value.bias"])
        qkv = qkv.view(B, T, H, 3, E)
        z = t_attention(n, qkv[:, :, :, 0], qkv[:, :, :, 1], qkv[:, :, :, 2], inv, acts)
        a = F.linear(z, w[p + "attention.dense.weight"], w[p + "attention.dense.bias"])
        acts[n + "hook_attn_out"] = a
        if cfg["use_parallel_residual"]:
            mlp_in = x
        else:
            x = mlp_in = x + a
            acts[n + "hook_resid_mid"] = x
        h = ln(mlp_in, p + "post_attention_layernorm")
        acts[n + "ln2.hook_normalized"] = h
        pre = F.linear(h, w[p + "mlp.dense_h_to_4h.weight"], w[p + "mlp.dense_h_to_4h.bias"])
        post = F.gelu(pre, approximate=approx)
        m = F.linear(post, w[p + "mlp.dense_4h_to_h.weight"], w[p + "mlp.dense_4h_to_h.bias"])
        acts[n + "mlp.hook_pre"], acts[n + "mlp.hook_post"], acts[n + "hook_mlp_out"] = pre, post, m
        x = (x + a + m) if cfg["use_parallel_residual"] else (x + m)
        acts[n + "hook_resid_post"] = x
    x = ln(x, "gpt_neox.final_layer_norm")
    acts["ln_final.hook_normalized"] = x
    return F.linear(x, w["embed_out.weight"]), acts


def check_closed_forms() -> list[str]:
    """Rotary and rope_scaling on tiny cases whose answers are worked out by hand."""
    bad = []
    # head_dim 4, theta 100: inv_freq = [100^0, 100^-1/2] = [1, 0.1]
    inv = llama_ref.rope_inv_freq(4, 100.0, None)
    if not np.allclose(inv, [1.0, 0.1], atol=1e-15):
        bad.append(f"default inv_freq {inv}")
    # x = e0 at position 2: pair (0, 2) turns by 2 rad → (cos 2, 0, sin 2, 0);
    # x = e1 at position 3: pair (1, 3) turns by 0.3 rad → (0, cos .3, 0, sin .3)
    x = np.zeros((1, 4, 1, 4))
    x[0, 2, 0, 0] = 1.0
    x[0, 3, 0, 1] = 1.0
    r = llama_ref.apply_rotary(x, np.arange(4), inv)
    want2 = [math.cos(2), 0, math.sin(2), 0]
    want3 = [0, math.cos(0.3), 0, math.sin(0.3)]
    if not (np.allclose(r[0, 2, 0], want2, atol=1e-15) and np.allclose(r[0, 3, 0], want3, atol=1e-15)):
        bad.append(f"rotary closed form: {r[0, 2, 0]} / {r[0, 3, 0]}")
    # partial rotary: features past 2·len(inv) pass through untouched; position 0 is identity
    y = np.arange(12.0).reshape(1, 1, 2, 6)
    if not np.array_equal(llama_ref.apply_rotary(y, np.arange(1), inv), y):
        bad.append("position 0 / pass-through features changed")
    # rotation keeps q·k a function of the position difference only
    rng = np.random.default_rng(0)
    q, k = rng.normal(size=(1, 1, 1, 8)), rng.normal(size=(1, 1, 1, 8))
    inv8 = llama_ref.rope_inv_freq(8, 10000.0, None)

    def dot(pq: int, pk: int) -> float:
        rq = llama_ref.apply_rotary(np.repeat(q, pq + 1, 1), np.arange(pq + 1), inv8)[0, pq, 0]
        rk = llama_ref.apply_rotary(np.repeat(k, pk + 1, 1), np.arange(pk + 1), inv8)[0, pk, 0]
        return float(rq @ rk)

    if abs(dot(5, 2) - dot(9, 6)) > 1e-12:
        bad.append("rotary q·k depends on absolute position")
    # linear: every frequency divided by the factor
    lin = llama_ref.rope_inv_freq(4, 100.0, {"type": "linear", "factor": 4.0})
    if not np.allclose(lin, [0.25, 0.025], atol=1e-15):
        bad.append(f"linear inv_freq {lin}")
    # llama3, theta 10, dim 6: inv = [1, 10^-1/3, 10^-2/3], wavelengths 2π·[1, 2.154, 4.642]
    # = [6.283, 13.54, 29.17]; old ctx 32, low 1, high 4 → bands at 32 / 4 = 8 and 32 / 1 = 32:
    # 6.28 < 8 kept; 13.54 and 29.17 in between: s = (32 / λ − 1) / 3, inv·((1 − s) / 8 + s)
    l3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
          "original_max_position_embeddings": 32}  # fmt: skip
    got = llama_ref.rope_inv_freq(6, 10.0, l3)
    want = [1.0]
    for w in (10 ** (-1 / 3), 10 ** (-2 / 3)):
        s = (32 / (2 * math.pi / w) - 1) / 3
        want.append(w * ((1 - s) / 8 + s))
    # with old ctx 4 every wavelength is past 4 / 1: all divided by 8
    got_low = llama_ref.rope_inv_freq(6, 10.0, {**l3, "original_max_position_embeddings": 4})
    want_low = [1 / 8, 10 ** (-1 / 3) / 8, 10 ** (-2 / 3) / 8]
    if not (np.allclose(got, want, atol=1e-15) and np.allclose(got_low, want_low, atol=1e-15)):
        bad.append(f"llama3 inv_freq {got} vs {want}; {got_low} vs {want_low}")
    try:
        llama_ref.rope_inv_freq(4, 100.0, {"rope_type": "yarn", "factor": 2.0})
        bad.append("yarn was not refused")
    except ValueError:
        pass
    return bad


def check_fixture(d: Path) -> list[str]:
    import json

    cfg = json.loads((d / "config.json").read_text())
    neox = cfg["model_type"] == "gpt_neox"
    rng = np.random.default_rng(3)
    ids = rng.integers(0, cfg["vocab_size"], size=(2, 13))
    if neox:
        rcfg, w = neox_ref.load_neox(d)
        logits, acts = neox_ref.forward(rcfg, w, ids.tolist())
        names = neox_ref.neox_hook_names(rcfg.n_layer, rcfg.parallel)
        t_logits, t_acts = torch_neox(cfg, {k: torch.from_numpy(v) for k, v in w.items()}, torch.from_numpy(ids))
    else:
        rcfg, w = llama_ref.load_llama(d)
        logits, acts = llama_ref.forward(rcfg, w, ids.tolist())
        names = llama_ref.llama_hook_names(rcfg.n_layer)
        t_logits, t_acts = torch_llama(cfg, {k: torch.from_numpy(v) for k, v in w.items()}, torch.from_numpy(ids))
    bad = []
    if sorted(t_acts) != sorted(names) or sorted(acts) != sorted(names):
        bad.append(f"{d.name}: hook sets differ: {sorted(set(t_acts) ^ set(names))}")
    worst = ("", 0.0)
    for key, a, b in [("logits", logits, t_logits)] + [(h, acts[h], t_acts.get(h)) for h in names]:
        if b is None or tuple(a.shape) != tuple(b.shape):
            bad.append(f"{d.name} {key}: shape {a.shape} vs {None if b is None else tuple(b.shape)}")
            continue
        diff = float(np.max(np.abs(a - b.numpy())))
        if not diff <= TOL:
            bad.append(f"{d.name} {key}: max |numpy − torch| = {diff:.2e}")
        if diff > worst[1]:
            worst = (key, diff)
    print(f"{d.name}: {len(names)} hooks + logits, max |numpy − torch| = {worst[1]:.1e} ({worst[0]}), "
          f"logit std {logits.std():.2f}")  # fmt: skip
    return bad


def main() -> None:
    bad = check_closed_forms()
    print("closed forms:", "ok" if not bad else "FAILED")
    dirs = sorted(p for p in FAMILIES.iterdir() if (p / "config.json").exists())
    if not dirs:
        bad.append(f"no fixtures in {FAMILIES}")
    for d in dirs:
        bad += check_fixture(d)
    for b in bad:
        print("MISMATCH", b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
