"""Path patching on the Llama and GPT-NeoX families: path_patch_ref.py's definition with the
llama_ref.py / neox_ref.py float64 forwards (grouped-query attention: a receiver's k / v input is
its group's shared K/V head); goldens for test/path-patch-families.test.ts.

    python3 scripts/reference/path_patch_family_ref.py   # writes test/fixtures/path-patch/family-goldens.json

Models: the bundled tiny-facts-llama (4 query heads over 2 K/V heads), the random
llama-gqa-bf16 fixture (GQA, head_dim 12) and pythia-parallel-f16 (parallel residual, partial
rotary). Target and foil: the clean and the corrupted prompt's top-1 at the last position.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attrib_family_ref import BUNDLED, BUNDLED_CF, CF, PROMPT  # noqa: E402
from llama_ref import forward as llama_forward, load_llama  # noqa: E402
from neox_ref import forward as neox_forward, load_neox  # noqa: E402
from path_patch_ref import nan_to_none, path_patch  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test/fixtures/path-patch/family-goldens.json"
BUNDLED_LLAMA = ROOT / "public/models/tiny-facts-llama"
FAMILIES = ROOT / "test/fixtures/families"

CASES = [
    {"name": "tiny-facts-llama", "dir": BUNDLED_LLAMA, "family": "llama", "clean": BUNDLED, "corrupt": BUNDLED_CF,
     "specs": [{"sender": [1, 1], "inputs": ["q", "k", "v"], "receivers": [[3, 0], [3, 1], [4, 2]]},
               {"sender": [2, 3], "inputs": ["k", "v"], "receivers": [[5, 0], [5, 1]]}]},
    {"name": "llama-gqa-bf16", "dir": FAMILIES / "llama-gqa-bf16", "family": "llama", "clean": PROMPT, "corrupt": CF,
     "specs": [{"sender": [0, 2], "inputs": ["q", "k", "v"], "receivers": [[1, 0], [1, 1]]},
               {"sender": [0, 1], "inputs": ["v"]}]},
    {"name": "pythia-parallel-f16", "dir": FAMILIES / "pythia-parallel-f16", "family": "neox", "clean": PROMPT,
     "corrupt": CF, "specs": [{"sender": [0, 1], "inputs": ["q", "k", "v"], "receivers": [[1, 0], [1, 1]]}]},
]


def main() -> None:
    cases = []
    for c in CASES:
        load, fwd = (load_llama, llama_forward) if c["family"] == "llama" else (load_neox, neox_forward)
        cfg, w = load(c["dir"])
        target = int(np.argmax(fwd(cfg, w, [c["clean"]])[0][0, -1]))
        foil = int(np.argmax(fwd(cfg, w, [c["corrupt"]])[0][0, -1]))
        if foil == target:  # the corrupted prompt keeps the answer: take the clean run's second choice
            foil = int(np.argsort(fwd(cfg, w, [c["clean"]])[0][0, -1])[-2])
        for s in c["specs"]:
            r = path_patch(cfg, w, c["clean"], c["corrupt"], target, foil, tuple(s["sender"]), s["inputs"],
                           [tuple(x) for x in s["receivers"]] if s.get("receivers") else None, fwd=fwd)
            spec = {"clean": c["clean"], "corrupt": c["corrupt"], "target": target, "foil": foil, **s}
            cases.append({"name": f"{c['name']}-{s['sender'][0]}.{s['sender'][1]}-{''.join(s['inputs'])}",
                          "model": c["name"], "dir": str(Path(c["dir"]).relative_to(ROOT)), "spec": spec,
                          **{k: nan_to_none(v) for k, v in r.items()}})
    sha = hashlib.sha256((BUNDLED_LLAMA / "model.safetensors").read_bytes()).hexdigest()
    OUT.write_text(json.dumps({"generator": "scripts/reference/path_patch_family_ref.py (numpy, float64)",
                               "bundledLlamaSha256": sha, "cases": cases}, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
