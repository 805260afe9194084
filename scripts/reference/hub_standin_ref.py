"""Golden logits for the hub stand-in (scripts/hub-standin/generate.ts), from its written files.

    npx tsx scripts/hub-standin/generate.ts .cache/hub-standin
    python3 scripts/reference/hub_standin_ref.py .cache/hub-standin/causeway-test/gpt2-standin

Reads the SHARDED checkpoint itself (model.safetensors.index.json → shards, with gpt2_ref's
numpy safetensors reader), runs gpt2_ref.forward in float64 on a prompt whose GPT-2 token ids
are written out here by hand (from the r50k_base table, not from the app's tokenizer), and
writes test/fixtures/hub-standin/golden.json: the last position's top-10 logits, the logits of
some fixed ids, and checksums of the weights so a changed generator is noticed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from gpt2_ref import Config, forward, read_safetensors

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "hub-standin" / "golden.json"

PROMPT = "The Eiffel Tower is located in the city of"
# GPT-2 ids: The, ĠE, iff, el, ĠTower, Ġis, Ġlocated, Ġin, Ġthe, Ġcity, Ġof
IDS = [464, 412, 733, 417, 8765, 318, 5140, 287, 262, 1748, 286]
PROBE_IDS = [0, 1, 13, 262, 286, 6342, 12366, 30000, 50255, 50256]


def load_sharded(model_dir: Path) -> tuple[Config, dict[str, np.ndarray]]:
    cfg = Config.from_hf(json.loads((model_dir / "config.json").read_text()))
    index = json.loads((model_dir / "model.safetensors.index.json").read_text())
    weights: dict[str, np.ndarray] = {}
    for shard in sorted(set(index["weight_map"].values())):
        for name, arr in read_safetensors(model_dir / shard).items():
            assert index["weight_map"][name] == shard, name
            weights[name.removeprefix("transformer.")] = arr.astype(np.float64)
    return cfg, weights


def main() -> None:
    model_dir = Path(sys.argv[1])
    cfg, w = load_sharded(model_dir)
    logits, _ = forward(cfg, w, [IDS])
    last = logits[0, -1]
    top = np.argsort(-last, kind="stable")[:10]
    golden = {
        "prompt": PROMPT,
        "ids": IDS,
        "top": [{"id": int(i), "logit": float(last[i])} for i in top],
        "probe": {str(i): float(last[i]) for i in PROBE_IDS},
        "logitMean": float(last.mean()),
        "logitStd": float(last.std()),
        "weights": {
            "wteSum": float(w["wte.weight"].sum()),
            "h1McProjSum": float(w["h.1.mlp.c_proj.weight"].sum()),
            "lnFWeightSum": float(w["ln_f.weight"].sum()),
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(golden, indent=2) + "\n")
    print(f"wrote {OUT}: top-1 id {int(top[0])} logit {last[top[0]]:.4f}")


if __name__ == "__main__":
    main()
