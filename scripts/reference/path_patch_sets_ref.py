"""Receiver sets for path patching (Wang et al. 2022: the sender's corrupted output read only by a
set of receiver heads, jointly): path_patch_ref.py's definition, on larger sets than its goldens --
several heads of one layer, several layers, GQA receivers that share a K/V head -- on each family.
Goldens for test/path-patch-sets.test.ts (lib/interp/path-patch.ts with perHead: false).

    /usr/bin/python3 scripts/reference/path_patch_sets_ref.py   # writes test/fixtures/path-patch/receiver-sets.json

goldens.json and family-goldens.json are not touched (their scripts are not run by this one).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpt2_ref import forward as gpt2_forward, load_model  # noqa: E402
from llama_ref import forward as llama_forward, load_llama  # noqa: E402
from neox_ref import forward as neox_forward, load_neox  # noqa: E402
from path_patch_family_ref import BUNDLED_LLAMA, CASES as FAMILY_CASES  # noqa: E402
from path_patch_ref import path_patch  # noqa: E402
from trace_ref import BUNDLED_DIR, RANDOM_CLEAN, RANDOM_CORRUPT, RANDOM_DIR, encode  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test/fixtures/path-patch/receiver-sets.json"

BUNDLED_CLEAN, BUNDLED_CORRUPT = encode(BUNDLED_DIR / "tokenizer.json", [
    "Ralkrok Stennos lives in the city of", "Nerzessar Pelpan lives in the city of"])

# name, loader, forward, folder, clean, corrupt, target, foil (None: the clean / corrupted top-1)
MODELS = [
    ("random-gpt2-f16", load_model, gpt2_forward, RANDOM_DIR, RANDOM_CLEAN, RANDOM_CORRUPT, 22, 190),
    ("tiny-facts", load_model, gpt2_forward, BUNDLED_DIR, BUNDLED_CLEAN, BUNDLED_CORRUPT, 1028, 1066),
    *[(c["name"], load_llama if c["family"] == "llama" else load_neox,
       llama_forward if c["family"] == "llama" else neox_forward, c["dir"], c["clean"], c["corrupt"], None, None)
      for c in FAMILY_CASES],
]

# sender, inputs, receiver sets (each [[layer, head], ...])
SETS = {
    "random-gpt2-f16": [([0, 2], ["q", "k", "v"], [[[1, 0], [1, 1], [1, 3]]]),
                        ([0, 0], ["k"], [[[1, 2], [1, 3]]])],
    "tiny-facts": [([1, 1], ["q", "k", "v"], [[[2, 0], [3, 0], [3, 3], [5, 1]], [[3, 0], [3, 1], [3, 2], [3, 3]]]),
                   ([0, 2], ["v"], [[[1, 0], [2, 3], [4, 1]]])],
    # tiny-facts-llama: query heads 0 and 1 share K/V head 0, 2 and 3 share K/V head 1
    "tiny-facts-llama": [([1, 1], ["k", "v"], [[[3, 0], [3, 1]], [[2, 0], [3, 2], [5, 3]]]),
                         ([0, 3], ["q"], [[[4, 0], [4, 3], [5, 1]]])],
    "llama-gqa-bf16": [([0, 2], ["q", "k", "v"], [[[1, 0], [1, 1], [1, 2]]])],
    "pythia-parallel-f16": [([0, 1], ["v"], [[[1, 0], [1, 1]]])],
}


def main() -> None:
    cases = []
    for name, load, fwd, folder, clean, corrupt, target, foil in MODELS:
        cfg, w = load(folder)
        if target is None:
            target = int(np.argmax(fwd(cfg, w, [clean])[0][0, -1]))
            foil = int(np.argmax(fwd(cfg, w, [corrupt])[0][0, -1]))
            if foil == target:  # as path_patch_family_ref.py: the clean run's second choice
                foil = int(np.argsort(fwd(cfg, w, [clean])[0][0, -1])[-2])
        for sender, inputs, sets in SETS[name]:
            for receivers in sets:
                r = path_patch(cfg, w, clean, corrupt, target, foil, tuple(sender), inputs,
                               [tuple(x) for x in receivers], fwd=fwd)
                label = "+".join(f"L{l}H{h}" for l, h in receivers)
                cases.append({
                    "name": f"{name}-L{sender[0]}H{sender[1]}-{''.join(inputs)}-{label}", "model": name,
                    "dir": str(Path(folder).resolve().relative_to(ROOT)),
                    "spec": {"clean": clean, "corrupt": corrupt, "target": target, "foil": foil,
                             "sender": sender, "inputs": inputs, "receivers": receivers},
                    "clean_logit_diff": r["clean_logit_diff"], "corrupt_logit_diff": r["corrupt_logit_diff"],
                    # each receiver alone (the grid's cells), to show the set is not their sum
                    "alone": [r["scores"][l][h] for l, h in receivers], "joint": r["joint"]})
    sha = {p.name: hashlib.sha256((p / "model.safetensors").read_bytes()).hexdigest()
           for p in (BUNDLED_DIR, BUNDLED_LLAMA)}
    OUT.write_text(json.dumps({"generator": "scripts/reference/path_patch_sets_ref.py (numpy, float64)",
                               "bundledSha256": sha, "cases": cases}, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
