"""
Reference for LoReFT edits (docs/methods.md §1 (b)), independent of tfjs: the bundled model
(public/models/tiny-facts) in numpy float64 (scripts/reference/gpt2_ref.py) with

    h <- h + R^T (W h + b - R h)

applied at blocks.{l}.hook_resid_post of layers 2 and 3, at position T - 2 of each prompt
(the edit's "aspect" rule), R with orthonormal rows (numpy.linalg.qr of a seeded Gaussian),
W and b seeded Gaussians (not trained values: the test checks the maths of the forward pass).

Writes test/fixtures/edit/loreft-forward.json: the prompts and their token ids (tokenized by
scripts/reference/encode.mts, the tokenizer library), rank r, layers, R/W/b per layer
(r x d row-major), and for each prompt its logits [4, V] at positions 0, T - 3, T - 2, T - 1 without and with
the edit.
test/edit-loreft.test.ts checks lib/edit against it (<= 1e-4).

    /usr/bin/python3 scripts/reference/loreft_ref.py
"""
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from gpt2_ref import forward, load_model  # noqa: E402

MODEL = os.path.join(ROOT, "public/models/tiny-facts")
PROMPTS = [
    "Review: the staff seemed horrible whereas the price is perfect. Sentiment of staff:",
    "Review: the view was typical while the room is dreadful. Sentiment of room:",
]
LAYERS = [2, 3]
RANK = 4


def loreft(h, R, W, b):
    """h [..., d] -> h + R^T (W h + b - R h)."""
    return h + (h @ W.T + b - h @ R.T) @ R


def main():
    cfg, w = load_model(MODEL)
    ids = json.loads(
        subprocess.check_output(
            ["npx", "tsx", "scripts/reference/encode.mts", os.path.join(MODEL, "tokenizer.json"), *PROMPTS],
            cwd=ROOT,
        )
    )
    rng = np.random.default_rng(4)
    d = cfg.d_model
    params = []
    for layer in LAYERS:
        q, _ = np.linalg.qr(rng.normal(size=(d, RANK)))  # [d, r], orthonormal columns
        R = q.T  # [r, d], orthonormal rows
        W = rng.normal(scale=0.3, size=(RANK, d))
        b = rng.normal(scale=0.5, size=RANK)
        assert np.allclose(R @ R.T, np.eye(RANK))
        params.append({"layer": layer, "R": R, "W": W, "b": b})

    out_rows = []
    for row in ids:
        T = len(row)
        pos = T - 2
        plain, _ = forward(cfg, w, [row])
        # the edit as hook arithmetic: a replace intervention holding the LoReFT output, computed
        # from the activation the edited pass itself produces at that hook (layers in order)
        ivs = []
        for p in params:
            name = f"blocks.{p['layer']}.hook_resid_post"
            _, acts = forward(cfg, w, [row], ivs)
            h = acts[name][0, pos]  # [d], includes the edits of earlier layers
            new = loreft(h, p["R"], p["W"], p["b"])
            # checks of the maths on this very activation
            assert np.allclose(p["R"] @ new, p["W"] @ h + p["b"])
            P = np.eye(d) - p["R"].T @ p["R"]
            assert np.allclose(P @ new, P @ h)
            ivs.append({"hook": name, "op": "replace", "positions": [pos], "value": new.tolist()})
        edited, _ = forward(cfg, w, [row], ivs)
        keep = [0, pos - 1, pos, T - 1]  # before the edit (unchanged), at it, and after it
        out_rows.append({
            "ids": row,
            "position": pos,
            "logit_positions": keep,
            "logits": plain[0, keep].tolist(),
            "edited": edited[0, keep].tolist(),
        })

    fixture = {
        "model": "tiny-facts",
        "prompts": PROMPTS,
        "rank": RANK,
        "hook": "resid_post",
        "layers": [
            {"layer": p["layer"], "R": p["R"].ravel().tolist(), "W": p["W"].ravel().tolist(), "b": p["b"].tolist()}
            for p in params
        ],
        "rows": out_rows,
    }
    path = os.path.join(ROOT, "test/fixtures/edit/loreft-forward.json")
    with open(path, "w") as f:
        json.dump(fixture, f)
    print(f"wrote {path}: {len(out_rows)} prompts, max |edited - plain| = "
          f"{max(np.abs(np.array(r['edited']) - np.array(r['logits'])).max() for r in out_rows):.3f}")


if __name__ == "__main__":
    main()
