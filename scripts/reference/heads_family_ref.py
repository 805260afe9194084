"""
Head scores on the other families, in numpy: attrib_ref.py's head_scores (the maths of
lib/interp/head-scores.ts) with the Llama and GPT-NeoX forwards of llama_ref.py / neox_ref.py, on
the bundled tiny-facts-llama and two random hub-layout fixtures (GQA Llama in BF16, parallel
Pythia in F16). Writes test/fixtures/heads/family-goldens.json, read by
test/heads-families.test.ts (the app's head scores and all-heads patterns within 1e-4).

    python3 scripts/reference/heads_family_ref.py

The prompts are token ids (the bundled one is "Ralkrok Stennos lives in the city of" with the
Llama tokenizer's BOS first, as lib/load/tokenizer.ts encodes it; subject = its name's tokens).
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attrib_ref import head_scores  # noqa: E402
from llama_ref import forward as llama_forward, load_llama  # noqa: E402
from neox_ref import forward as neox_forward, load_neox  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test/fixtures/heads/family-goldens.json"
BUNDLED_LLAMA = ROOT / "public/models/tiny-facts-llama"
FAMILIES = ROOT / "test/fixtures/families"

CASES = [
    {"name": "tiny-facts-llama", "dir": BUNDLED_LLAMA, "family": "llama",
     "ids": [1303, 49, 300, 709, 954, 989, 533, 307, 258, 523, 273], "subject": [1, 6],
     "length": 20, "batch": 4, "seed": 1},
    {"name": "llama-gqa-bf16", "dir": FAMILIES / "llama-gqa-bf16", "family": "llama",
     "ids": [5, 17, 3, 29, 11, 8, 2], "subject": [1, 3], "length": 8, "batch": 3, "seed": 5},
    {"name": "pythia-parallel-f16", "dir": FAMILIES / "pythia-parallel-f16", "family": "neox",
     "ids": [5, 17, 3, 29, 11, 8, 2], "subject": [1, 3], "length": 8, "batch": 3, "seed": 5},
]


def main() -> None:
    out = []
    for c in CASES:
        load, fwd = (load_llama, llama_forward) if c["family"] == "llama" else (load_neox, neox_forward)
        cfg, w = load(c["dir"])
        r = head_scores(cfg, w, c["ids"], tuple(c["subject"]), c["length"], c["batch"], c["seed"], fwd=fwd)
        out.append({"name": c["name"], "dir": str(Path(c["dir"]).relative_to(ROOT)), "ids": c["ids"],
                    "subject": c["subject"], "spec": {"repeatLength": c["length"], "repeatBatch": c["batch"],
                                                      "seed": c["seed"]}, **r})
    sha = hashlib.sha256((BUNDLED_LLAMA / "model.safetensors").read_bytes()).hexdigest()
    OUT.write_text(json.dumps({"generator": "scripts/reference/heads_family_ref.py", "bundledLlamaSha256": sha,
                               "cases": out}) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(out)} cases)")


if __name__ == "__main__":
    main()
