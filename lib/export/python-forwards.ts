/**
 * The torch forwards of the exported Python script (lib/export/python.ts), one per family,
 * written from each architecture's definition (HF GPT2LMHeadModel, LlamaForCausalLM /
 * MistralForCausalLM / Qwen2ForCausalLM, GPTNeoXForCausalLM maths; scripts/reference/
 * check_families.py is the same maths in another formulation), independent of the app's code.
 * Weights are the hub's own tensors by name (GPT-2's without "transformer."), nn.Linear
 * [Out, In] for the rotary families, Conv1D [In, Out] for GPT-2.
 *
 * Every forward fires the trace's hooks with TransformerLens names: hook_embed,
 * blocks.{l}.hook_attn_out, blocks.{l}.hook_mlp_out, blocks.{l}.hook_resid_post.
 */
export const PYTHON_FORWARDS = String.raw`
# ---------------------------------------------------------------- forwards, one per family

F = torch.nn.functional


def family_of(cfg):
    mt = cfg.get("model_type", "gpt2")
    if mt == "gpt2":
        return "gpt2"
    if mt == "gpt_neox":
        return "gpt_neox"
    if mt in ("llama", "mistral", "qwen2"):
        return "llama"
    sys.exit(f"model_type {mt!r} is not supported by this script (gpt2, llama, mistral, qwen2, gpt_neox)")


def gelu(x, kind):
    if kind in ("gelu_new", "gelu_pytorch_tanh"):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def causal_attention(q, k, v):
    """q [B, T, H, E], k and v [B, T, Hkv, E] -> z [B, T, H*E]; query head h reads K/V head h // (H / Hkv)."""
    B, T, H, E = q.shape
    rep = H // k.shape[2]
    k, v = k.repeat_interleave(rep, dim=2), v.repeat_interleave(rep, dim=2)
    q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # [B, H, T, E]
    s = (q @ k.transpose(-1, -2)) / math.sqrt(E)
    mask = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
    s = s.masked_fill(~mask, float("-inf"))
    return (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, H * E)


def inv_freq(rotary_dim, theta, scaling):
    """Rotary frequencies (float64), with rope_scaling linear or llama3 (HF's formulas)."""
    inv = 1.0 / theta ** (torch.arange(0, rotary_dim, 2, dtype=torch.float64) / rotary_dim)
    kind = None if not scaling else scaling.get("rope_type", scaling.get("type"))
    if kind in (None, "default"):
        return inv
    if kind == "linear":
        return inv / scaling["factor"]
    if kind != "llama3":
        sys.exit(f"rope_scaling {kind!r} is not supported by this script (linear, llama3)")
    f, lo, hi = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
    old = scaling["original_max_position_embeddings"]
    wavelen = 2 * math.pi / inv
    smooth = (old / wavelen - lo) / (hi - lo)
    mid = (1 - smooth) * inv / f + smooth * inv
    return torch.where(wavelen < old / hi, inv, torch.where(wavelen > old / lo, inv / f, mid))


def rotate(x, inv):
    """x [B, T, heads, E]: features i and i + R/2 (R = 2 len(inv)) turn by position * inv[i]."""
    T, half = x.shape[1], inv.shape[0]
    ang = torch.arange(T, dtype=torch.float64, device=x.device)[:, None] * inv.to(x.device)[None, :]
    cos, sin = ang.cos().to(x.dtype)[None, :, None, :], ang.sin().to(x.dtype)[None, :, None, :]
    a, b, rest = x[..., :half], x[..., half:2 * half], x[..., 2 * half:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin, rest], dim=-1)


def forward_gpt2(cfg, w, ids, hook):
    B, T = ids.shape
    D, H = cfg["n_embd"], cfg["n_head"]
    E = D // H
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    act = cfg.get("activation_function", "gelu_new")
    x = hook("hook_embed", w["wte.weight"][ids]) + w["wpe.weight"][:T]
    for l in range(cfg["n_layer"]):
        p = f"h.{l}."
        h = F.layer_norm(x, (D,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        q, k, v = (h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]).split(D, dim=-1)
        z = causal_attention(*(t.reshape(B, T, H, E) for t in (q, k, v)))
        x = x + hook(f"blocks.{l}.hook_attn_out", z @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"])
        h = F.layer_norm(x, (D,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        m = gelu(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"], act)
        m = hook(f"blocks.{l}.hook_mlp_out", m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"])
        x = hook(f"blocks.{l}.hook_resid_post", x + m)
    x = F.layer_norm(x, (D,), w["ln_f.weight"], w["ln_f.bias"], eps)
    return x @ w["wte.weight"].T


def rms_norm(x, weight, eps):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def forward_llama(cfg, w, ids, hook):
    B, T = ids.shape
    H = cfg["num_attention_heads"]
    Hkv = cfg.get("num_key_value_heads") or H
    E = cfg.get("head_dim") or cfg["hidden_size"] // H
    eps = cfg.get("rms_norm_eps", 1e-6)
    inv = inv_freq(E, cfg.get("rope_theta", 10000.0), cfg.get("rope_scaling"))
    x = hook("hook_embed", w["model.embed_tokens.weight"][ids])
    for l in range(cfg["num_hidden_layers"]):
        p, a = f"model.layers.{l}.", f"model.layers.{l}.self_attn."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)

        def proj(name, heads, h=h, a=a):
            return F.linear(h, w[a + name + ".weight"], w.get(a + name + ".bias")).reshape(B, T, heads, E)

        q, k, v = proj("q_proj", H), proj("k_proj", Hkv), proj("v_proj", Hkv)
        z = causal_attention(rotate(q, inv), rotate(k, inv), v)
        x = x + hook(f"blocks.{l}.hook_attn_out", F.linear(z, w[a + "o_proj.weight"], w.get(a + "o_proj.bias")))
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        post = F.silu(F.linear(h, w[p + "mlp.gate_proj.weight"])) * F.linear(h, w[p + "mlp.up_proj.weight"])
        m = hook(f"blocks.{l}.hook_mlp_out", F.linear(post, w[p + "mlp.down_proj.weight"]))
        x = hook(f"blocks.{l}.hook_resid_post", x + m)
    x = rms_norm(x, w["model.norm.weight"], eps)
    tied = cfg.get("tie_word_embeddings", False) or "lm_head.weight" not in w
    return F.linear(x, w["model.embed_tokens.weight" if tied else "lm_head.weight"])


def forward_neox(cfg, w, ids, hook):
    B, T = ids.shape
    D, H = cfg["hidden_size"], cfg["num_attention_heads"]
    E = D // H
    pct = cfg.get("rotary_pct", cfg.get("partial_rotary_factor", 0.25))
    inv = inv_freq(int(E * pct), cfg.get("rotary_emb_base", cfg.get("rope_theta", 10000.0)), cfg.get("rope_scaling"))
    eps = cfg.get("layer_norm_eps", 1e-5)
    act = cfg.get("hidden_act", "gelu")
    parallel = cfg.get("use_parallel_residual", True)

    def ln(h, name):
        return F.layer_norm(h, (D,), w[name + ".weight"], w[name + ".bias"], eps)

    x = hook("hook_embed", w["gpt_neox.embed_in.weight"][ids])
    for l in range(cfg["num_hidden_layers"]):
        p = f"gpt_neox.layers.{l}."
        qkv = F.linear(ln(x, p + "input_layernorm"), w[p + "attention.query_key_value.weight"],
                       w.get(p + "attention.query_key_value.bias")).reshape(B, T, H, 3, E)  # per head: q, k, v
        z = causal_attention(rotate(qkv[..., 0, :], inv), rotate(qkv[..., 1, :], inv), qkv[..., 2, :])
        attn = hook(f"blocks.{l}.hook_attn_out",
                    F.linear(z, w[p + "attention.dense.weight"], w.get(p + "attention.dense.bias")))
        if not parallel:
            x = x + attn
        h = ln(x, p + "post_attention_layernorm")
        m = gelu(F.linear(h, w[p + "mlp.dense_h_to_4h.weight"], w[p + "mlp.dense_h_to_4h.bias"]), act)
        m = hook(f"blocks.{l}.hook_mlp_out", F.linear(m, w[p + "mlp.dense_4h_to_h.weight"], w[p + "mlp.dense_4h_to_h.bias"]))
        x = hook(f"blocks.{l}.hook_resid_post", (x + attn + m) if parallel else (x + m))
    x = ln(x, "gpt_neox.final_layer_norm")
    tied = cfg.get("tie_word_embeddings", False) or "embed_out.weight" not in w
    return F.linear(x, w["gpt_neox.embed_in.weight" if tied else "embed_out.weight"])


FORWARDS = {"gpt2": forward_gpt2, "llama": forward_llama, "gpt_neox": forward_neox}
EMBED = {"gpt2": "wte.weight", "llama": "model.embed_tokens.weight", "gpt_neox": "gpt_neox.embed_in.weight"}
N_LAYER = {"gpt2": "n_layer", "llama": "num_hidden_layers", "gpt_neox": "num_hidden_layers"}
D_MODEL = {"gpt2": "n_embd", "llama": "hidden_size", "gpt_neox": "hidden_size"}


def forward(cfg, w, ids, hooks):
    """logits [B, T, V]. hooks[name](x) may return a replacement for the activation."""
    def hook(name, x):
        f = hooks.get(name)
        return x if f is None else f(x)

    return FORWARDS[family_of(cfg)](cfg, w, ids, hook)


def apply_rome(cfg, w, edit):
    """ROME's rank-one update u v^T of the MLP down-projection, in the runtime layout [d_mlp, d_model]:
    GPT-2's Conv1D mlp.c_proj.weight is that layout (W += u v^T); an nn.Linear down_proj /
    dense_4h_to_h weight is its transpose [d_model, d_mlp] (W += v u^T)."""
    fam, l = family_of(cfg), edit["layer"]
    dtype, device = next(iter(w.values())).dtype, next(iter(w.values())).device
    u = torch.tensor(edit["u"], dtype=dtype, device=device)
    v = torch.tensor(edit["v"], dtype=dtype, device=device)
    if fam == "gpt2":
        name, delta = f"h.{l}.mlp.c_proj.weight", torch.outer(u, v)
    elif fam == "llama":
        name, delta = f"model.layers.{l}.mlp.down_proj.weight", torch.outer(v, u)
    else:
        name, delta = f"gpt_neox.layers.{l}.mlp.dense_4h_to_h.weight", torch.outer(v, u)
    w[name] = w[name] + delta
`;
