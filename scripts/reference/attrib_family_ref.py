"""
Logit lens, direct logit attribution and attribution patching on the rotary families, in numpy (float64):
the Llama and GPT-NeoX forwards of llama_ref.py / neox_ref.py, attrib_ref.py's attribution
(central differences along clean − corrupt, exact patching beside it), and a DLA written here
from the definition with the family's own final norm and unembedding. Writes
test/fixtures/attrib/family-goldens.json, read by test/interp-attrib-families.test.ts.

    python3 scripts/reference/attrib_family_ref.py

DLA at position p, with x = the last block's hook_resid_post at p and Δw = W_U[target] − W_U[foil]
(lm_head / embed_out rows, or the embedding when tied), the final norm's scale frozen:
- LayerNorm (GPT-NeoX): s = 1/sqrt(var x + eps); term(v) = ((v − mean v)·s·g) · Δw; bias term b·Δw.
- RMSNorm (Llama, Qwen2, Mistral): s = 1/sqrt(mean x² + eps); term(v) = (v·s·g) · Δw; no bias term.
Logit lens: softmax(final_norm(resid) @ W_Uᵀ) for each block's resid_pre and the last resid_post,
p(the clean prompt's top-1) and the top 5 at every position.
Components: hook_embed (no position embeddings in rotary models), head h = z_h @ W_O[:, h·E:(h+1)·E]ᵀ,
the output projection's bias per layer (zeros when absent), hook_mlp_out per layer.

The bundled tiny-facts-llama case is in token ids (the clean prompt is heads_family_ref.py's
"Ralkrok Stennos lives in the city of" with BOS; the corrupted one swaps the name's tokens), so
the script needs no tokenizer and can be rerun as is after the model is retrained.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attrib_ref import attribution  # noqa: E402
from gpt2_ref import layer_norm, softmax  # noqa: E402
from llama_ref import forward as llama_forward, load_llama, rms_norm  # noqa: E402
from neox_ref import forward as neox_forward, load_neox  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test/fixtures/attrib/family-goldens.json"
BUNDLED_LLAMA = ROOT / "public/models/tiny-facts-llama"
FAMILIES = ROOT / "test/fixtures/families"

PROMPT = [5, 41, 77, 13, 60, 33, 88, 21, 9]
CF = [5, 70, 2, 13, 60, 33, 88, 21, 9]  # differs at positions 1, 2
BUNDLED = [1303, 49, 300, 709, 954, 989, 533, 307, 258, 523, 273]
BUNDLED_CF = [1303, 610, 88, 402, 71, 989, 533, 307, 258, 523, 273]  # another name, same template

CASES = [
    {"name": "tiny-facts-llama", "dir": BUNDLED_LLAMA, "clean": BUNDLED, "corrupt": BUNDLED_CF,
     "sites": ["resid_pre", "head_out"]},
    {"name": "llama-gqa-bf16", "dir": FAMILIES / "llama-gqa-bf16", "clean": PROMPT, "corrupt": CF,
     "sites": ["resid_pre", "attn_out", "mlp_out", "head_out", "head_out_pos"]},
    {"name": "qwen2-sharded-bf16", "dir": FAMILIES / "qwen2-sharded-bf16", "clean": PROMPT, "corrupt": CF,
     "sites": ["resid_pre", "head_out_pos"]},
    {"name": "llama-tied-f16", "dir": FAMILIES / "llama-tied-f16", "clean": PROMPT, "corrupt": CF,
     "sites": ["attn_out"]},
    {"name": "pythia-parallel-f16", "dir": FAMILIES / "pythia-parallel-f16", "clean": PROMPT, "corrupt": CF,
     "sites": ["resid_pre", "attn_out", "mlp_out", "head_out", "head_out_pos"]},
    {"name": "neox-sequential-bf16", "dir": FAMILIES / "neox-sequential-bf16", "clean": PROMPT, "corrupt": CF,
     "sites": ["resid_pre", "head_out_pos"]},
]


def family_of(model_dir: Path) -> str:
    return "neox" if json.loads((model_dir / "config.json").read_text())["model_type"] == "gpt_neox" else "llama"


def parts(family: str, cfg, w: dict) -> dict:
    """The family's weights by role: final norm, unembedding [V, D], per-layer W_O [D, H·E] and b_O."""
    if family == "neox":
        p = "gpt_neox.layers.{}.attention.dense."
        return {"kind": "layer", "g": w["gpt_neox.final_layer_norm.weight"], "b": w["gpt_neox.final_layer_norm.bias"],
                "unembed": w["gpt_neox.embed_in.weight"] if cfg.tied else w["embed_out.weight"],
                "wo": lambda l: w[p.format(l) + "weight"], "bo": lambda l: w.get(p.format(l) + "bias")}
    p = "model.layers.{}.self_attn.o_proj."
    return {"kind": "rms", "g": w["model.norm.weight"], "b": None,
            "unembed": w["model.embed_tokens.weight"] if cfg.tied else w["lm_head.weight"],
            "wo": lambda l: w[p.format(l) + "weight"], "bo": lambda l: w.get(p.format(l) + "bias")}


def dla(family: str, cfg, w: dict, fwd, ids: list[int], target: int, foil: int, pos: int) -> dict:
    L, H, E = cfg.n_layer, cfg.n_head, cfg.head_dim
    m = parts(family, cfg, w)
    logits, acts = fwd(cfg, w, [ids])
    x = acts[f"blocks.{L - 1}.hook_resid_post"][0, pos]
    layer = m["kind"] == "layer"
    s = 1.0 / np.sqrt((x.var() if layer else (x * x).mean()) + cfg.eps)
    dw = m["unembed"][target] - m["unembed"][foil]

    def contrib(v: np.ndarray) -> float:
        return float((((v - v.mean()) if layer else v) * s * m["g"]) @ dw)

    heads, bias, mlp = [], [], []
    for lay in range(L):
        z = acts[f"blocks.{lay}.attn.hook_z"][0, pos]  # [H, E]
        wo = m["wo"](lay)  # [D, H·E] (nn.Linear)
        heads.append([contrib(wo[:, h * E:(h + 1) * E] @ z[h]) for h in range(H)])
        bo = m["bo"](lay)
        bias.append(contrib(bo) if bo is not None else 0.0)
        mlp.append(contrib(acts[f"blocks.{lay}.hook_mlp_out"][0, pos]))
    return {
        "logit_diff": float(logits[0, pos, target] - logits[0, pos, foil]),
        "heads": heads, "attn_bias": bias, "mlp": mlp, "embed": contrib(acts["hook_embed"][0, pos]),
        "pos_embed": 0.0, "ln_final_bias": float(m["b"] @ dw) if layer else 0.0, "final_scale": float(s),
        "final_norm": m["kind"],
    }


def lens(family: str, cfg, w: dict, fwd, ids: list[int], k: int) -> dict:
    """Logit lens: softmax(final_norm(resid) @ W_Uᵀ) for every block's resid_pre and the last resid_post."""
    m = parts(family, cfg, w)
    logits, acts = fwd(cfg, w, [ids])
    target = int(np.argmax(logits[0, -1]))
    rows = [acts[f"blocks.{lay}.hook_resid_pre"][0] for lay in range(cfg.n_layer)]
    rows.append(acts[f"blocks.{cfg.n_layer - 1}.hook_resid_post"][0])
    out: dict = {"target": target, "target_prob": [], "top_ids": [], "top_prob": []}
    for x in rows:  # [T, D]
        layer = m["kind"] == "layer"
        normed = layer_norm(x, m["g"], m["b"], cfg.eps) if layer else rms_norm(x, m["g"], cfg.eps)
        p = softmax(normed @ m["unembed"].T)  # [T, V]
        order = np.argsort(-p, axis=-1, kind="stable")[:, :k]
        out["target_prob"].append(p[:, target].tolist())
        out["top_ids"].append(order.tolist())
        out["top_prob"].append(np.take_along_axis(p, order, -1).tolist())
    return out


def main() -> None:
    out = []
    for c in CASES:
        family = family_of(Path(c["dir"]))
        load, fwd = (load_llama, llama_forward) if family == "llama" else (load_neox, neox_forward)
        cfg, w = load(c["dir"])
        clean, corrupt = c["clean"], c["corrupt"]
        logits, _ = fwd(cfg, w, [clean])
        order = np.argsort(-logits[0, -1])
        t, f = int(order[0]), int(order[1])
        dlas = [{"position": pos, **dla(family, cfg, w, fwd, clean, t, f, pos)} for pos in (len(clean) - 1, 3)]
        co_logits, _ = fwd(cfg, w, [corrupt])
        co_top = int(np.argmax(co_logits[0, -1]))
        foil = co_top if co_top != t else f
        attrib = {site: attribution(cfg, w, clean, corrupt, t, foil, site, fwd=fwd) for site in c["sites"]}
        out.append({"name": c["name"], "dir": str(Path(c["dir"]).relative_to(ROOT)), "clean": clean,
                    "corrupt": corrupt, "dla_target": t, "dla_foil": f, "dla": dlas,
                    "attrib_target": t, "attrib_foil": foil, "attrib": attrib,
                    "lens": lens(family, cfg, w, fwd, clean, 5)})
        print(c["name"], {s: round(a["correlation"], 3) for s, a in attrib.items()})
    sha = hashlib.sha256((BUNDLED_LLAMA / "model.safetensors").read_bytes()).hexdigest()
    OUT.write_text(json.dumps({"generator": "scripts/reference/attrib_family_ref.py (numpy, float64)",
                               "bundledLlamaSha256": sha, "cases": out}) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(out)} models)")


if __name__ == "__main__":
    main()
