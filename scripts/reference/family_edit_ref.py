"""Edits on the Llama-family and GPT-NeoX fixtures, computed as interventions on activations.

    python3 scripts/reference/family_edit_ref.py              # writes test/fixtures/families/edits-golden.json
    python3 scripts/reference/family_edit_ref.py logits 3,1,4 DIR...   # [[T][V] per DIR] of saved checkpoints

Independent of the app: the numpy forwards of llama_ref.py / neox_ref.py, with each edit applied
where its definition says it acts, in the runtime layout (y = x @ W, W [In, Out]), never by
writing hub weights:

    rome        layer l: mlp_out += (mlp.hook_post · u) v                    (ΔW = u vᵀ, [M, D])
    head_scale  layer l: hook_z[:, :, h] *= s
    head_mean   layer l: hook_z[:, :, h] = mean                              (mean ablation)
    resid_steer layer l: resid_post += a                                    (every position)
    lora_*      the module's output += input @ (s·A·B)                       (A [In, r], B [r, Out])
                (q/k/v: B's columns in the runtime's q | k | v order, [3, heads, E])

The numbers of every edit (u, v, s, mean, a, A, B) are drawn here from a seeded numpy stream and
stored in the golden file beside the logits, so the TypeScript tests build the same edits, save
them with `edit --save`'s code (lib/edit/checkpoint.ts) or export them (lib/export/python.ts), and
compare the saved or exported model's logits (read back by this script's `logits` mode, or by
the exported torch script) with these. The wrappers below patch llama_ref / neox_ref's module
functions `linear` and `attention` for one call of forward and restore them afterwards.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import llama_ref
import neox_ref
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = ROOT / "test" / "fixtures" / "families"
OUT = FAMILIES / "edits-golden.json"
IDS = [5, 17, 42, 3, 88, 61, 29]


def load(d: Path):
    cfg = json.loads((d / "config.json").read_text())
    if cfg["model_type"] == "gpt_neox":
        rc, w = neox_ref.load_neox(d)
        return "gpt_neox", rc, w, neox_ref
    rc, w = llama_ref.load_llama(d)
    return "llama", rc, w, llama_ref


def dims(family: str, rc):
    E = rc.head_dim
    return rc.d_model, rc.d_mlp, rc.n_head, E


def module_weights(family: str, layer: int) -> dict[str, str]:
    """Hub weight name of each runtime site the cases edit, in layer `layer`."""
    if family == "llama":
        p = f"model.layers.{layer}."
        return {"down": p + "mlp.down_proj.weight", "gate": p + "mlp.gate_proj.weight",
                "up": p + "mlp.up_proj.weight", "o": p + "self_attn.o_proj.weight"}  # fmt: skip
    p = f"gpt_neox.layers.{layer}."
    return {"down": p + "mlp.dense_4h_to_h.weight", "in": p + "mlp.dense_h_to_4h.weight",
            "o": p + "attention.dense.weight"}  # fmt: skip


def run(family, rc, w, mod, ids, out_adds=None, z_edits=None):
    """Logits with output additions on linear layers and hook_z edits.

    out_adds: {hub weight name: f(x) -> addition to that layer's output}
    z_edits: {layer: f(z) -> new z}   (z [B, T, H, E])
    """
    out_adds = out_adds or {}
    z_edits = z_edits or {}
    by_id = {id(w[name]): f for name, f in out_adds.items()}
    orig_linear, orig_attention = mod.linear, mod.attention

    def linear(x, weight, bias=None):
        y = orig_linear(x, weight, bias)
        f = by_id.get(id(weight))
        return y if f is None else y + f(x)

    def attention(n, q, k, v, inv, hook):
        z = orig_attention(n, q, k, v, inv, hook)
        layer = int(n.split(".")[1])
        return z_edits[layer](z) if layer in z_edits else z

    mod.linear, mod.attention = linear, attention
    try:
        logits, _ = mod.forward(rc, w, [ids])
    finally:
        mod.linear, mod.attention = orig_linear, orig_attention
    return logits[0]


def draw(rng, size, scale):
    """Seeded normals × scale, rounded to 6 significant digits: the stored numbers are the used ones."""
    x = rng.normal(size=size) * scale
    return np.vectorize(lambda t: float(f"{t:.6g}"))(x)


def short(logits: np.ndarray) -> list:
    """Logits at 7 significant digits (float32 error is ~1e-7 relative)."""
    return [[float(f"{t:.7g}") for t in row] for row in logits]


def cases_for(family, rc, w, mod, rng):
    D, M, H, E = dims(family, rc)
    out = []

    def case(name, edit, logits, saved):
        out.append({"name": name, "edit": edit, "saved": saved, "logits": short(logits)})

    # ROME at layer 1: ΔW = u vᵀ on the down-projection, runtime [M, D]
    u = draw(rng, M, 1 / np.sqrt(M))
    v = draw(rng, D, 0.5)
    down1 = module_weights(family, 1)["down"]
    lg = run(family, rc, w, mod, IDS, out_adds={down1: lambda x: (x @ u)[..., None] * v})
    case("rome", {"layer": 1, "u": u.tolist(), "v": v.tolist()}, lg, True)

    # head h = 1 of layer 0 scaled by 0.5 (every position)
    def scale_head(z):
        z = z.copy()
        z[:, :, 1] *= 0.5
        return z

    case("head_scale", {"layer": 0, "head": 1, "scale": 0.5},
         run(family, rc, w, mod, IDS, z_edits={0: scale_head}), True)  # fmt: skip

    # head 0 of layer 1 mean-ablated (every position): needs the attention output's bias to save
    mean = draw(rng, E, 0.3)

    def mean_head(z):
        z = z.copy()
        z[:, :, 0] = mean
        return z

    o_bias = family == "gpt_neox" or rc.o_bias
    case("head_mean", {"layer": 1, "head": 0, "mean": mean.tolist()},
         run(family, rc, w, mod, IDS, z_edits={1: mean_head}), o_bias)  # fmt: skip

    # a steering vector on resid_post of layer 0 (every position): needs the MLP output's bias
    a = draw(rng, D, 0.2)
    down0 = module_weights(family, 0)["down"]
    lg = run(family, rc, w, mod, IDS, out_adds={down0: lambda x: np.broadcast_to(a, x.shape[:-1] + (D,))})
    case("resid_steer", {"layer": 0, "vector": a.tolist()}, lg, family == "gpt_neox")

    # LoRA on the MLP input side (GPT-2's "c_fc") and on the attention output, layer 0, rank 2, s = 2
    r, s = 2, 2.0
    names = module_weights(family, 0)
    mlp_in = ["gate_proj", "up_proj"] if family == "llama" else ["dense_h_to_4h"]
    hub_of = {"gate_proj": names.get("gate"), "up_proj": names.get("up"), "dense_h_to_4h": names.get("in")}
    factors, adds = [], {}
    for m in mlp_in:
        A, B = draw(rng, (D, r), 1 / np.sqrt(D)), draw(rng, (r, M), 0.3)
        factors.append({"layer": 0, "module": m, "a": A.ravel().tolist(), "b": B.ravel().tolist()})
        adds[hub_of[m]] = lambda x, A=A, B=B: s * (x @ A) @ B
    o_name = "o_proj" if family == "llama" else "dense"
    A, B = draw(rng, (H * E, r), 1 / np.sqrt(H * E)), draw(rng, (r, D), 0.3)
    factors.append({"layer": 0, "module": o_name, "a": A.ravel().tolist(), "b": B.ravel().tolist()})
    adds[names["o"]] = lambda x, A=A, B=B: s * (x @ A) @ B
    case("lora", {"rank": r, "alpha": r * s, "modules": ["c_fc", o_name], "factors": factors},
         run(family, rc, w, mod, IDS, out_adds=adds), True)  # fmt: skip

    # LoRA on the attention's q/k/v, layer 0. The runtime columns are q | k | v, [3, heads, E];
    # NeoX's fused query_key_value has its output rows per head [H, 3, E]
    p0 = "model.layers.0.self_attn." if family == "llama" else "gpt_neox.layers.0.attention."
    factors, adds = [], {}
    if family == "llama":
        KE = rc.n_kv_head * E
        for m, width in (("q_proj", H * E), ("v_proj", KE)):
            A, B = draw(rng, (D, r), 1 / np.sqrt(D)), draw(rng, (r, width), 0.3)
            factors.append({"layer": 0, "module": m, "a": A.ravel().tolist(), "b": B.ravel().tolist()})
            adds[p0 + m + ".weight"] = lambda x, A=A, B=B: s * (x @ A) @ B
        modules = ["q_proj", "v_proj"]
    else:
        A, B = draw(rng, (D, r), 1 / np.sqrt(D)), draw(rng, (r, 3 * H * E), 0.3)
        factors.append({"layer": 0, "module": "query_key_value", "a": A.ravel().tolist(), "b": B.ravel().tolist()})
        hub_row = [(h * 3 + part) * E + e for part in range(3) for h in range(H) for e in range(E)]

        def fused(x, A=A, B=B):
            y = s * (x @ A) @ B  # runtime column order
            out = np.zeros_like(y)
            out[..., hub_row] = y
            return out

        adds[p0 + "query_key_value.weight"] = fused
        modules = ["query_key_value"]
    case("lora_qkv", {"rank": r, "alpha": r * s, "modules": modules, "factors": factors},
         run(family, rc, w, mod, IDS, out_adds=adds), True)  # fmt: skip
    return out


def goldens() -> None:
    fixtures = {}
    for d in sorted(p for p in FAMILIES.iterdir() if (p / "config.json").exists()):
        family, rc, w, mod = load(d)
        rng = np.random.default_rng(11)
        plain = run(family, rc, w, mod, IDS)
        fixtures[d.name] = {"family": family, "plain": short(plain), "cases": cases_for(family, rc, w, mod, rng)}
        print(f"{d.name}: {len(fixtures[d.name]['cases'])} cases, logit std {plain.std():.2f}")
    doc = {"generator": "scripts/reference/family_edit_ref.py (llama_ref.py / neox_ref.py, float64)",
           "ids": IDS, "fixtures": fixtures}  # fmt: skip
    OUT.write_text(json.dumps(doc, separators=(",", ":"), default=float) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


def logits_of(ids: str, model_dirs: list[str]) -> None:
    out = []
    for d in model_dirs:
        family, rc, w, mod = load(Path(d))
        out.append(run(family, rc, w, mod, [int(t) for t in ids.split(",")]).tolist())
    print(json.dumps(out))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "logits":
        logits_of(sys.argv[2], sys.argv[3:])
    else:
        goldens()
