"""Sweep and intervention goldens for the rotary families, from the independent numpy references
(llama_ref.py, neox_ref.py) with gpt2_ref's interventions and trace_ref's trace / patch (one
float64 forward per cell), on the random hub-layout fixtures of test/fixtures/families/.

    python3 scripts/reference/family_sweeps_ref.py     # writes test/fixtures/families/sweeps-golden.json

Cases per fixture (read by test/model-families-sweeps.test.ts):
- interventions: logits and a few hooks of one forward with interventions at the family's own
  hooks: hook_rot_q / hook_rot_k (after rotary), hook_k / hook_v by K/V head (GQA: Hkv heads),
  hook_z by query head, and (sequential blocks) hook_resid_mid;
- trace: noise on the subject's embeddings (hidden) and prompt corruption (mlp, attn windows);
- patch: resid_pre, attn_out, mlp_out at every (layer, position), head_out and head_out_pos
  (hook_z of one query head).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import llama_ref  # noqa: E402
import neox_ref  # noqa: E402
from trace_ref import patch, trace  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DIR = ROOT / "test" / "fixtures" / "families"
FIXTURES = ["llama-gqa-bf16", "pythia-parallel-f16", "qwen2-sharded-bf16", "neox-sequential-bf16"]
PROMPT = [5, 41, 77, 13, 60, 33, 88, 21, 9]
CF = [5, 70, 2, 13, 60, 33, 88, 21, 9]  # differs at positions 1, 2


def load(name: str):
    cfg = json.loads((DIR / name / "config.json").read_text())
    if cfg["model_type"] == "gpt_neox":
        rcfg, w = neox_ref.load_neox(DIR / name)
        return rcfg, w, neox_ref.forward, w["gpt_neox.embed_in.weight"]
    rcfg, w = llama_ref.load_llama(DIR / name)
    return rcfg, w, llama_ref.forward, w["model.embed_tokens.weight"]


def interventions_case(rcfg, w, fwd, rng: np.random.Generator) -> dict:
    ids = [PROMPT[:7], CF[:7]]
    H = rcfg.n_head
    hkv = getattr(rcfg, "n_kv_head", H)
    E = rcfg.head_dim
    sequential = not getattr(rcfg, "parallel", False)
    ivs = [
        {"hook": "blocks.0.attn.hook_rot_q", "op": "scale", "heads": [H - 1], "positions": [2, 4], "value": 1.7},
        {"hook": "blocks.0.attn.hook_rot_k", "op": "add", "heads": [hkv - 1], "positions": [1],
         "value": rng.normal(0, 0.5, E).tolist()},
        {"hook": "blocks.1.attn.hook_k", "op": "replace", "heads": [0], "batchIndex": [1], "positions": [3],
         "value": rng.normal(0, 0.5, E).tolist()},
        {"hook": "blocks.1.attn.hook_v", "op": "zero", "heads": [hkv - 1], "positions": [0, 5]},
        {"hook": "blocks.1.attn.hook_z", "op": "add", "heads": [1], "value": rng.normal(0, 0.3, E).tolist()},
    ]
    if sequential:
        ivs.append({"hook": "blocks.0.hook_resid_mid", "op": "scale", "positions": [6], "value": 0.5})
    logits, acts = fwd(rcfg, w, ids, ivs)
    record = ["blocks.0.attn.hook_rot_k", "blocks.1.attn.hook_v", "blocks.1.attn.hook_pattern",
              "blocks.1.hook_resid_post"]  # fmt: skip
    return {
        "ids": ids,
        "interventions": ivs,
        "logits": logits.astype(np.float32).ravel().tolist(),
        "recorded": {h: acts[h].astype(np.float32).ravel().tolist() for h in record},
    }


def sweep_cases(rcfg, w, fwd, embed: np.ndarray) -> list[dict]:
    emb_std = float(np.std(embed))
    cases = []
    spec = {"prompt": PROMPT, "subject": [1, 3], "kind": "hidden", "samples": 3, "noise": 3, "seed": 5}
    r = trace(rcfg, w, PROMPT, (1, 3), "hidden", 3, 3.0, 5, 1, fwd=fwd, emb_std=emb_std)
    cases.append({"name": "noise-hidden", "type": "trace", "spec": spec, **r})
    for kind in ("mlp", "attn"):
        spec = {"prompt": PROMPT, "kind": kind, "window": 2, "corruption": {"type": "prompt", "prompt": CF}}
        r = trace(rcfg, w, PROMPT, None, kind, 1, 0, 1, 2, corrupt_ids=CF, fwd=fwd)
        cases.append({"name": f"prompt-{kind}", "type": "trace", "spec": spec, **r})
    cl, _ = fwd(rcfg, w, [PROMPT])
    co, _ = fwd(rcfg, w, [CF])
    target, foil = int(np.argmax(cl[0, -1])), int(np.argmax(co[0, -1]))
    if target == foil:
        foil = int(np.argsort(cl[0, -1])[-2])
    for site in ("resid_pre", "attn_out", "mlp_out", "head_out", "head_out_pos"):
        spec = {"clean": PROMPT, "corrupt": CF, "target": target, "foil": foil, "site": site}
        r = patch(rcfg, w, PROMPT, CF, target, foil, site, fwd=fwd)
        cases.append({"name": f"patch-{site}", "type": "patch", "spec": spec, **r})
    return cases


def main() -> None:
    rng = np.random.default_rng(2611)
    out = {}
    for name in FIXTURES:
        rcfg, w, fwd, embed = load(name)
        files = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in llama_ref.checkpoint_files(DIR / name)}
        out[name] = {
            "files": files,
            "interventions": interventions_case(rcfg, w, fwd, rng),
            "cases": sweep_cases(rcfg, w, fwd, embed),
        }
        print(f"{name}: {len(out[name]['cases'])} sweep cases")
    doc = {"generator": "scripts/reference/family_sweeps_ref.py (numpy float64, one forward per cell)", "models": out}
    (DIR / "sweeps-golden.json").write_text(json.dumps(doc) + "\n")
    print(f"wrote {DIR / 'sweeps-golden.json'}")


if __name__ == "__main__":
    main()
