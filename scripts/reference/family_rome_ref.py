"""ROME's update maths on a Llama-family or GPT-NeoX checkpoint, in numpy (llama_ref / neox_ref).

    python3 scripts/reference/family_rome_ref.py < request.json > answer.json

test/edit-families-rome.test.ts learns a ROME edit with the app (lib/edit/rome.ts) on a random
fixture, using a character tokenizer (token id = the character's index in `alphabet`), and
asks this script, independently of tfjs, for what ROME's definition says (docs/methods.md §4,
kmeng01/rome compute_u.py / compute_v.py / rome_main.py):

    k*   mean over the rewrite prompts of blocks.l.mlp.hook_post at the subject's last token
         (the down-projection's input: silu(gate)·up for Llama, gelu(dense_h_to_4h) for NeoX)
    k    the first (bare) prompt's key;  v0: its blocks.l.hook_mlp_out there
    C    E[k kᵀ] of mlp.hook_post over every token of the general texts, shrunk:
         C + γ·tr(C)/d_mlp·I;  u = C⁻¹k* / ‖C⁻¹k*‖  (numpy.linalg.solve, not Cholesky)
    v    (v* − (k W + b)) / (uᵀk), W = down-projection in the runtime layout [d_mlp, d_model]
         (the hub nn.Linear weight transposed), b its bias (Llama: none)

given the app's v* (the optimisation of δ is not re-derived here). It also returns the logits
of the first rewrite prompt after writing the app's (u, v) into the hub tensor (W_hub += v uᵀ)
and W′k + b, which must equal v*.

Request: {"model": dir, "layer": l, "alphabet": str, "prompts": [texts], "subject": str,
          "texts": [general texts], "gamma": γ | null (C = I), "v_star": [...], "u": [...], "v": [...]}
or, for a model with its own tokenizer, token ids instead of texts: "rows": [[ids]] with
"subject_last": [position per row], and "text_rows": [[ids]] for C.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import llama_ref
import neox_ref
import numpy as np


def load(d: Path):
    cfg = json.loads((d / "config.json").read_text())
    if cfg["model_type"] == "gpt_neox":
        rc, w = neox_ref.load_neox(d)
        return rc, w, neox_ref, "gpt_neox.layers.{}.mlp.dense_4h_to_h"
    rc, w = llama_ref.load_llama(d)
    return rc, w, llama_ref, "model.layers.{}.mlp.down_proj"


def main() -> None:
    req = json.load(sys.stdin)
    rc, w, mod, down = load(Path(req["model"]))
    layer, n = req["layer"], f"blocks.{req['layer']}."
    if "rows" in req:
        rows, lasts, text_rows = req["rows"], req["subject_last"], req.get("text_rows", [])
    else:
        enc = {ch: i for i, ch in enumerate(req["alphabet"])}
        rows = [[enc[ch] for ch in t] for t in req["prompts"]]
        lasts = [t.index(req["subject"]) + len(req["subject"]) - 1 for t in req["prompts"]]
        text_rows = [[enc[ch] for ch in t] for t in req["texts"]]

    def acts_of(ids):
        _, acts = mod.forward(rc, w, [ids])
        return acts

    keys, outs = [], []
    for ids, last in zip(rows, lasts):
        acts = acts_of(ids)
        keys.append(acts[n + "mlp.hook_post"][0, last])
        outs.append(acts[n + "hook_mlp_out"][0, last])
    k_star, k, v0 = np.mean(keys, axis=0), keys[0], outs[0]

    name = down.format(layer)
    W = w[name + ".weight"].T  # runtime [d_mlp, d_model]
    b = w.get(name + ".bias", np.zeros(W.shape[1]))
    if req["gamma"] is None:
        cinv_k = k_star
    else:
        ks = np.concatenate([acts_of(t)[n + "mlp.hook_post"][0] for t in text_rows])
        C = ks.T @ ks / ks.shape[0]
        cinv_k = np.linalg.solve(C + req["gamma"] * np.trace(C) / C.shape[0] * np.eye(C.shape[0]), k_star)
    u = cinv_k / np.linalg.norm(cinv_k)
    v = (np.asarray(req["v_star"]) - (k @ W + b)) / (u @ k)

    # the app's update written into the hub tensor: runtime u vᵀ is v uᵀ on [d_model, d_mlp]
    app_u, app_v = np.asarray(req["u"]), np.asarray(req["v"])
    edited = dict(w)
    edited[name + ".weight"] = w[name + ".weight"] + np.outer(app_v, app_u)
    logits, _ = mod.forward(rc, edited, [rows[0]])
    out = {
        "k_star": k_star.tolist(),
        "k": k.tolist(),
        "v0": v0.tolist(),
        "u": u.tolist(),
        "v": v.tolist(),
        "edited_out": (k @ (W + np.outer(app_u, app_v)) + b).tolist(),
        "edited_logits": logits[0].tolist(),
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
