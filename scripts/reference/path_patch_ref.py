"""Independent numpy reference for Causeway's path patching (lib/interp/path-patch.ts), written
from the definition with gpt2_ref.py's float64 forward; goldens for test/path-patch.test.ts.

    python3 scripts/reference/path_patch_ref.py     # writes test/fixtures/path-patch/goldens.json

Path patching from a sender head to receiver heads (Wang et al. 2022, "Interpretability in the
Wild", §3.1 and Appendix B; the variant of TransformerLens / ARENA's path_patch "head → heads"):
  1. run the clean and the corrupted prompt; keep every head's output z on the clean run and the
     sender's z on the corrupted run;
  2. run the clean prompt with the sender's z replaced by its corrupted value and every other
     head's z (every layer after the sender's) frozen at its clean value -- MLPs are recomputed --
     and keep the receivers' inputs (attn.hook_q / hook_k / hook_v, the chosen subset) there;
  3. run the clean prompt with only the receivers' chosen inputs replaced by the values of step 2,
     everything else free, and read LD = logit[target] - logit[foil] at the last position.
The effect is (LD_3 - LD_clean) / (LD_clean - LD_corrupt): 0 when the path carries nothing, -1
when it carries the whole corrupted difference. Each receiver head alone gives a layer x head
grid (heads in layers up to the sender's are not receivers: NaN); a list of receivers also gives
their joint effect.

Steps 1 and 2 replace whole activations built by numpy slicing below; step 3 sets the
receivers' heads through gpt2_ref.apply_interventions' head selection.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpt2_ref import Config, forward, load_model  # noqa: E402
from trace_ref import BUNDLED_DIR, RANDOM_CLEAN, RANDOM_CORRUPT, RANDOM_DIR, encode  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "path-patch"
INPUT_HOOK = {"q": "attn.hook_q", "k": "attn.hook_k", "v": "attn.hook_v"}


def whole(hook: str, value: np.ndarray) -> dict:
    """Replace the whole activation at `hook` by `value`."""
    return {"hook": hook, "op": "replace", "value": value.reshape(-1)}


def logit_diff(cfg: Config, w: dict, ids: list[int], target: int, foil: int, ivs: list[dict] | None = None,
               fwd=forward):
    logits, acts = fwd(cfg, w, [ids], ivs)
    return float(logits[0, -1, target] - logits[0, -1, foil]), acts


def path_patch(cfg: Config, w: dict, clean: list[int], corrupt: list[int], target: int, foil: int,
               sender: tuple[int, int], inputs: list[str], receivers: list[tuple[int, int]] | None,
               fwd=forward) -> dict:
    """`fwd`: gpt2_ref's forward, or llama_ref's / neox_ref's (path_patch_family_ref.py)."""
    L, H = cfg.n_layer, cfg.n_head
    # grouped-query attention: query head h reads K/V head h // (H / Hkv), shared by its group
    group = H // getattr(cfg, "n_kv_head", H)
    sl, sh = sender
    ld_clean, clean_acts = logit_diff(cfg, w, clean, target, foil, fwd=fwd)
    ld_corrupt, corrupt_acts = logit_diff(cfg, w, corrupt, target, foil, fwd=fwd)
    denom = ld_clean - ld_corrupt

    # step 2: sender from the corrupted run, every other head frozen at clean
    z_sender = clean_acts[f"blocks.{sl}.attn.hook_z"].copy()  # [1, T, H, E]
    z_sender[:, :, sh] = corrupt_acts[f"blocks.{sl}.attn.hook_z"][:, :, sh]
    freeze = [whole(f"blocks.{sl}.attn.hook_z", z_sender)]
    freeze += [whole(f"blocks.{l}.attn.hook_z", clean_acts[f"blocks.{l}.attn.hook_z"]) for l in range(sl + 1, L)]
    _, step2 = logit_diff(cfg, w, clean, target, foil, freeze, fwd=fwd)

    def effect(heads: list[tuple[int, int]]) -> float:
        # only the receivers' inputs are set; the other heads' inputs in their layers stay free
        # (they differ from clean when an earlier receiver changed the residual stream)
        ivs = []
        for inp in inputs:
            for l in sorted({l for l, _ in heads}):
                name = f"blocks.{l}.{INPUT_HOOK[inp]}"
                hs = [rh for rl, rh in heads if rl == l]
                if inp != "q":
                    hs = sorted({h // group for h in hs})
                ivs.append({"hook": name, "op": "replace", "heads": hs,
                            "value": step2[name][:, :, hs].reshape(-1)})  # [1, T, Hs, E]
        ld, _ = logit_diff(cfg, w, clean, target, foil, ivs, fwd=fwd)
        return (ld - ld_clean) / denom

    scores = [[effect([(l, h)]) if l > sl else float("nan") for h in range(H)] for l in range(L)]
    out = {"clean_logit_diff": ld_clean, "corrupt_logit_diff": ld_corrupt, "scores": scores}
    if receivers:
        out["joint"] = effect(receivers)
    return out


def nan_to_none(x):
    if isinstance(x, list):
        return [nan_to_none(v) for v in x]
    return None if isinstance(x, float) and np.isnan(x) else x


def cases_for(model: str, cfg: Config, w: dict, clean: list[int], corrupt: list[int], target: int, foil: int,
              specs: list[dict]) -> list[dict]:
    out = []
    for s in specs:
        r = path_patch(cfg, w, clean, corrupt, target, foil, tuple(s["sender"]), s["inputs"],
                       [tuple(x) for x in s["receivers"]] if s.get("receivers") else None)
        spec = {"clean": clean, "corrupt": corrupt, "target": target, "foil": foil, **s}
        out.append({"name": f"{model}-{s['sender'][0]}.{s['sender'][1]}-{''.join(s['inputs'])}", "model": model,
                    "spec": spec, **{k: nan_to_none(v) for k, v in r.items()}})
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    cfg, w = load_model(RANDOM_DIR)
    # the target and foil of attrib_ref's random cases (clean top-1, corrupted top-1)
    cases = cases_for("random-gpt2-f16", cfg, w, RANDOM_CLEAN, RANDOM_CORRUPT, 22, 190, [
        {"sender": [0, 2], "inputs": ["q", "k", "v"], "receivers": [[1, 0], [1, 3]]},
        {"sender": [0, 1], "inputs": ["v"]},
        {"sender": [0, 3], "inputs": ["q"], "receivers": [[1, 1]]},
    ])
    bcfg, bw = load_model(BUNDLED_DIR)
    clean, corrupt = encode(BUNDLED_DIR / "tokenizer.json",
                            ["Ralkrok Stennos lives in the city of", "Nerzessar Pelpan lives in the city of"])
    cases += cases_for("tiny-facts", bcfg, bw, clean, corrupt, 1028, 1066, [
        {"sender": [1, 1], "inputs": ["q", "k", "v"], "receivers": [[3, 0], [4, 2]]},
        {"sender": [3, 0], "inputs": ["q", "k", "v"], "receivers": [[4, 2], [5, 1], [5, 3]]},
        {"sender": [0, 2], "inputs": ["k", "v"]},
    ])
    sha = hashlib.sha256((BUNDLED_DIR / "model.safetensors").read_bytes()).hexdigest()
    out = {"generator": "scripts/reference/path_patch_ref.py (numpy, float64)", "bundledSha256": sha,
           "cases": cases}
    (OUT / "goldens.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT / 'goldens.json'}")


if __name__ == "__main__":
    main()
