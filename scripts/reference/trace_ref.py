"""Independent numpy reference for Causeway's sweeps (lib/interp/): ROME causal traces and
activation patching, computed the plainest way (one float64 forward per cell with gpt2_ref.py's
forward and its interventions), written as goldens for test/interp-*.test.ts.

    python3 scripts/reference/trace_ref.py            # model fixture (if missing) + all goldens
    python3 scripts/reference/trace_ref.py --regen    # also rewrite the tiny-4l model fixture

Writes
    test/fixtures/trace/tiny-4l/{config.json, model.safetensors}   4-layer random GPT-2 (F32),
        weights at scales that keep next-token probabilities away from 0 and 1
    test/fixtures/trace/goldens.json                               every case with its scores

Semantics (the same as lib/interp/trace.ts and patch.ts, written here from the definitions):
- noise: N(0, nu^2), nu = noise x std(wte) (population std over every entry, float64), added to
  hook_embed at the subject's tokens; sample s, subject token i, dim d takes element
  (s * nSubject + i) * D + d of trace_rng.gaussian_array(seed, N * nSubject * D, nu) (float32).
- cell (t, l): hidden replaces blocks.l.hook_resid_post at t; mlp / attn replace hook_mlp_out /
  hook_attn_out at t in layers [max(0, l - w//2), min(L, l + ceil(w/2))), with the clean run's.
- metric: mean over samples of prod_i softmax(logits[T - 1 + i])[target_i] (teacher forced).
- patching: one corrupted row; resid_pre / attn_out / mlp_out at (l, t); head_out = hook_z of head h
  at every position; head_out_pos = hook_z of head h at t; LD = logit[target] - logit[foil] at the
  last position; normalised (LD - LD_corrupt) / (LD_clean - LD_corrupt).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpt2_ref import Config, forward, load_model, softmax, write_safetensors  # noqa: E402
from trace_rng import gaussian_array  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "trace"
TINY_DIR = OUT / "tiny-4l"
RANDOM_DIR = ROOT / "test" / "fixtures" / "random-gpt2-f16"
BUNDLED_DIR = ROOT / "public" / "models" / "tiny-facts"

TINY_CONFIG = {
    "architectures": ["GPT2LMHeadModel"],
    "model_type": "gpt2",
    "activation_function": "gelu_new",
    "n_layer": 4,
    "n_head": 4,
    "n_embd": 32,
    "n_inner": None,
    "n_positions": 32,
    "n_ctx": 32,
    "vocab_size": 260,
    "layer_norm_epsilon": 1e-5,
    "torch_dtype": "float32",
}


def make_tiny_model() -> None:
    """A 4-layer random GPT-2 whose predictions are neither uniform nor saturated."""
    rng = np.random.default_rng(20240601)
    c = TINY_CONFIG
    d, v, n = c["n_embd"], c["vocab_size"], c["n_positions"]
    f = 4 * d

    def g(*shape: int, std: float) -> np.ndarray:
        return (rng.standard_normal(shape) * std).astype(np.float32)

    t: dict[str, np.ndarray] = {
        "transformer.wte.weight": g(v, d, std=0.35),
        "transformer.wpe.weight": g(n, d, std=0.2),
    }
    for layer in range(c["n_layer"]):
        p = f"transformer.h.{layer}."
        t[p + "ln_1.weight"] = 1 + g(d, std=0.1)
        t[p + "ln_1.bias"] = g(d, std=0.05)
        t[p + "attn.c_attn.weight"] = g(d, 3 * d, std=0.3)
        t[p + "attn.c_attn.bias"] = g(3 * d, std=0.05)
        t[p + "attn.c_proj.weight"] = g(d, d, std=0.15)
        t[p + "attn.c_proj.bias"] = g(d, std=0.05)
        t[p + "ln_2.weight"] = 1 + g(d, std=0.1)
        t[p + "ln_2.bias"] = g(d, std=0.05)
        t[p + "mlp.c_fc.weight"] = g(d, f, std=0.2)
        t[p + "mlp.c_fc.bias"] = g(f, std=0.05)
        t[p + "mlp.c_proj.weight"] = g(f, d, std=0.1)
        t[p + "mlp.c_proj.bias"] = g(d, std=0.05)
    t["transformer.ln_f.weight"] = 1 + g(d, std=0.1)
    t["transformer.ln_f.bias"] = g(d, std=0.05)
    TINY_DIR.mkdir(parents=True, exist_ok=True)
    (TINY_DIR / "config.json").write_text(json.dumps(c, indent=2) + "\n")
    # the random model's byte-level tokenizer (ids 0-259, the vocabulary): lets the CLI run on text
    (TINY_DIR / "tokenizer.json").write_text((RANDOM_DIR / "tokenizer.json").read_text())
    write_safetensors(TINY_DIR / "model.safetensors", t, {"format": "pt"})


# ----------------------------------------------------------------------------- sweeps


def embedding_std(w: dict[str, np.ndarray]) -> float:
    return float(np.std(w["wte.weight"].astype(np.float64)))


def window_layers(layer: int, window: int, n_layer: int) -> list[int]:
    return list(range(max(0, layer - window // 2), min(n_layer, layer + (window + 1) // 2)))


def continuation_prob(logits: np.ndarray, T: int, target: list[int]) -> np.ndarray:
    """[B] probability of the teacher-forced continuation; logits [B, P, V]."""
    p = np.ones(logits.shape[0])
    for i, tok in enumerate(target):
        p = p * softmax(logits[:, T - 1 + i, :])[:, tok]
    return p


def trace(cfg: Config, w: dict, ids: list[int], subject: tuple[int, int] | None, kind: str, samples: int,
          noise: float, seed: int, window: int, target: list[int] | None = None,
          corrupt_ids: list[int] | None = None, fwd=forward, emb_std: float | None = None) -> dict:
    """fwd / emb_std: another family's forward and embedding std (family_sweeps_ref.py)."""
    T, L, D = len(ids), cfg.n_layer, cfg.d_model
    if target is None:
        logits, _ = fwd(cfg, w, [ids])
        target = [int(np.argmax(logits[0, T - 1]))]
    cont = target[:-1]
    clean = ids + cont
    clean_logits, acts = fwd(cfg, w, [clean])
    high = float(continuation_prob(clean_logits, T, target)[0])
    ivs_base: list[dict] = []
    sigma = None
    if corrupt_ids is None:
        n = samples
        rows = [clean] * n
        b, e = subject
        sigma = noise * (embedding_std(w) if emb_std is None else emb_std)
        vals = gaussian_array(seed, n * (e - b) * D, sigma).astype(np.float64)
        ivs_base.append({"hook": "hook_embed", "op": "add", "positions": list(range(b, e)), "value": vals})
    else:
        n = 1
        rows = [corrupt_ids + cont]
    low_logits, _ = fwd(cfg, w, rows, ivs_base)
    low = float(continuation_prob(low_logits, T, target).mean())
    scores = np.zeros((T, L))
    for t in range(T):
        for layer in range(L):
            if kind == "hidden":
                pairs = [(f"blocks.{layer}.hook_resid_post", layer)]
            else:
                hook = "hook_mlp_out" if kind == "mlp" else "hook_attn_out"
                pairs = [(f"blocks.{j}.{hook}", j) for j in window_layers(layer, window, L)]
            ivs = list(ivs_base)
            for name, _ in pairs:
                ivs.append({"hook": name, "op": "replace", "positions": [t], "value": acts[name][0, t]})
            logits, _ = fwd(cfg, w, rows, ivs)
            scores[t, layer] = continuation_prob(logits, T, target).mean()
    return {"target": target, "high_score": high, "low_score": low, "noise_sigma": sigma, "scores": scores.tolist()}


def patch(cfg: Config, w: dict, clean: list[int], corrupt: list[int], target: int, foil: int, site: str,
          fwd=forward) -> dict:
    T, L, H = len(clean), cfg.n_layer, cfg.n_head
    clean_logits, acts = fwd(cfg, w, [clean])
    corrupt_logits, _ = fwd(cfg, w, [corrupt])

    def ld_prob(logits: np.ndarray) -> tuple[float, float]:
        last = logits[0, -1]
        return float(last[target] - last[foil]), float(softmax(last)[target])

    ld_c, p_c = ld_prob(clean_logits)
    ld_k, p_k = ld_prob(corrupt_logits)

    def run(ivs: list[dict]) -> tuple[float, float]:
        logits, _ = fwd(cfg, w, [corrupt], ivs)
        ld, p = ld_prob(logits)
        return (ld - ld_k) / (ld_c - ld_k), p

    if site in ("resid_pre", "attn_out", "mlp_out"):
        hook = {"resid_pre": "hook_resid_pre", "attn_out": "hook_attn_out", "mlp_out": "hook_mlp_out"}[site]
        res = [[run([{"hook": f"blocks.{l}.{hook}", "op": "replace", "positions": [t],
                      "value": acts[f"blocks.{l}.{hook}"][0, t]}]) for t in range(T)] for l in range(L)]
    elif site == "head_out":
        res = [[run([{"hook": f"blocks.{l}.attn.hook_z", "op": "replace", "heads": [h],
                      "value": acts[f"blocks.{l}.attn.hook_z"][0, :, h, :].reshape(-1)}]) for h in range(H)]
               for l in range(L)]
    else:  # head_out_pos
        res = [[[run([{"hook": f"blocks.{l}.attn.hook_z", "op": "replace", "heads": [h], "positions": [t],
                       "value": acts[f"blocks.{l}.attn.hook_z"][0, t, h, :]}]) for h in range(H)]
                for t in range(T)] for l in range(L)]
    arr = np.array(res)  # [..., 2]
    return {
        "clean_logit_diff": ld_c, "corrupt_logit_diff": ld_k, "clean_prob": p_c, "corrupt_prob": p_k,
        "scores": arr[..., 0].tolist(), "prob_scores": arr[..., 1].tolist(),
    }


# ----------------------------------------------------------------------------- cases

TINY_PROMPT = [12, 201, 77, 45, 160, 33, 98, 250, 5, 141]
TINY_CF = [12, 30, 53, 45, 160, 33, 98, 250, 5, 141]  # differs at positions 1, 2


def tiny_cases(cfg: Config, w: dict) -> list[dict]:
    cases = []
    for kind in ("hidden", "mlp", "attn"):
        spec = {"prompt": TINY_PROMPT, "subject": [1, 4], "kind": kind, "samples": 4, "noise": 3, "seed": 1,
                "window": 2}
        r = trace(cfg, w, TINY_PROMPT, (1, 4), kind, 4, 3.0, 1, 2)
        cases.append({"name": f"tiny-noise-{kind}", "type": "trace", "model": "tiny-4l", "spec": spec, **r})
    # a two-token target: the clean run's greedy continuation
    first = int(np.argmax(forward(cfg, w, [TINY_PROMPT])[0][0, -1]))
    second = int(np.argmax(forward(cfg, w, [TINY_PROMPT + [first]])[0][0, -1]))
    spec = {"prompt": TINY_PROMPT, "subject": [0, 2], "kind": "hidden", "samples": 3, "noise": 2, "seed": 7,
            "target": [first, second]}
    r = trace(cfg, w, TINY_PROMPT, (0, 2), "hidden", 3, 2.0, 7, 1, target=[first, second])
    cases.append({"name": "tiny-noise-multitoken", "type": "trace", "model": "tiny-4l", "spec": spec, **r})
    for kind in ("hidden", "mlp"):
        spec = {"prompt": TINY_PROMPT, "kind": kind, "window": 3, "corruption": {"type": "prompt", "prompt": TINY_CF}}
        r = trace(cfg, w, TINY_PROMPT, None, kind, 1, 0, 1, 3, corrupt_ids=TINY_CF)
        cases.append({"name": f"tiny-prompt-{kind}", "type": "trace", "model": "tiny-4l", "spec": spec, **r})
    # text through the byte-level tokenizer: no " t" / "he" / " the" merges, so ids are the bytes
    text, subj = "Big cats run far", "cats"
    assert " t" not in text and "he" not in text
    ids = list(text.encode())
    b = text.index(subj)
    spec = {"prompt": text, "subject": subj, "kind": "hidden", "samples": 3, "noise": 3, "seed": 1}
    r = trace(cfg, w, ids, (b, b + len(subj)), "hidden", 3, 3.0, 1, 1)
    cases.append({"name": "tiny-text-hidden", "type": "trace", "model": "tiny-4l", "spec": spec,
                  "input_ids": ids, "subject_range": [b, b + len(subj)], **r})
    # patching: the clean run's top-1 vs the corrupted run's top-1
    cl, _ = forward(cfg, w, [TINY_PROMPT])
    co, _ = forward(cfg, w, [TINY_CF])
    target, foil = int(np.argmax(cl[0, -1])), int(np.argmax(co[0, -1]))
    if target == foil:
        foil = int(np.argsort(cl[0, -1])[-2])
    for site in ("resid_pre", "attn_out", "mlp_out", "head_out", "head_out_pos"):
        spec = {"clean": TINY_PROMPT, "corrupt": TINY_CF, "target": target, "foil": foil, "site": site}
        r = patch(cfg, w, TINY_PROMPT, TINY_CF, target, foil, site)
        cases.append({"name": f"tiny-patch-{site}", "type": "patch", "model": "tiny-4l", "spec": spec, **r})
    return cases


RANDOM_CLEAN = [65, 398, 59, 233, 408, 151, 12]
RANDOM_CORRUPT = [65, 17, 59, 233, 408, 151, 12]


def random_cases(cfg: Config, w: dict) -> list[dict]:
    cases = []
    cl, _ = forward(cfg, w, [RANDOM_CLEAN])
    co, _ = forward(cfg, w, [RANDOM_CORRUPT])
    target, foil = int(np.argmax(cl[0, -1])), int(np.argmax(co[0, -1]))
    if target == foil:
        foil = int(np.argsort(cl[0, -1])[-2])
    for site in ("resid_pre", "head_out", "head_out_pos"):
        spec = {"clean": RANDOM_CLEAN, "corrupt": RANDOM_CORRUPT, "target": target, "foil": foil, "site": site}
        r = patch(cfg, w, RANDOM_CLEAN, RANDOM_CORRUPT, target, foil, site)
        cases.append({"name": f"random-patch-{site}", "type": "patch", "model": "random-gpt2-f16", "spec": spec, **r})
    return cases


# ----------------------------------------------------------------------------- bundled model


def encode(tokenizer: Path, prompts: list[str]) -> list[list[int]]:
    """Ids from the tokenizer library itself (scripts/reference/encode.mts), as make_goldens.py."""
    out = subprocess.run(["npx", "tsx", str(ROOT / "scripts/reference/encode.mts"), str(tokenizer), *prompts],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def byte_decoder() -> dict[str, int]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def token_texts(tokenizer: dict, ids: list[int]) -> list[str]:
    """Each token decoded on its own (GPT-2 byte-level vocabulary), as ROME's decode_tokens."""
    inv = {i: t for t, i in tokenizer["model"]["vocab"].items()}
    for a in tokenizer.get("added_tokens", []):
        inv[a["id"]] = a["content"]
    bd = byte_decoder()
    out = []
    for i in ids:
        t = inv[i]
        out.append(t if t.startswith("<|") else bytes(bd[c] for c in t).decode("utf-8", errors="replace"))
    return out


def find_token_range(texts: list[str], subject: str) -> tuple[int, int]:
    """ROME's find_token_range: the tokens overlapping the subject's first occurrence."""
    whole = "".join(texts)
    start = whole.index(subject)
    end = start + len(subject)
    loc, b, e = 0, None, None
    for i, t in enumerate(texts):
        loc += len(t)
        if b is None and loc > start:
            b = i
        if e is None and loc >= end:
            e = i + 1
            break
    return b, e


def bundled_cases() -> tuple[list[dict], str | None]:
    if not (BUNDLED_DIR / "model.safetensors").exists():
        print("bundled model not found: no bundled cases")
        return [], None
    sha = hashlib.sha256((BUNDLED_DIR / "model.safetensors").read_bytes()).hexdigest()
    cfg, w = load_model(BUNDLED_DIR)
    tok = json.loads((BUNDLED_DIR / "tokenizer.json").read_text())
    facts = json.loads((BUNDLED_DIR / "dataset.json").read_text())["known_facts"]
    window = max(1, round(cfg.n_layer / 5))
    cases = []
    for fact in facts[:2]:
        (ids,) = encode(BUNDLED_DIR / "tokenizer.json", [fact["prompt"]])
        b, e = find_token_range(token_texts(tok, ids), fact["subject"])
        for kind in ("hidden", "mlp", "attn"):
            spec = {"prompt": fact["prompt"], "subject": fact["subject"], "kind": kind}
            r = trace(cfg, w, ids, (b, e), kind, 10, 3.0, 1, window)
            cases.append({"name": f"bundled-{fact['known_id']}-{kind}", "type": "trace", "model": "tiny-facts",
                          "spec": spec, "input_ids": ids, "subject_range": [b, e], **r})
    # patching between two facts of one template whose prompts have the same length and answers differ
    by_template: dict[str, list[dict]] = {}
    for f in facts:
        by_template.setdefault(f["template"], []).append(f)
    for group in by_template.values():
        if len(group) < 2:
            continue
        encoded = encode(BUNDLED_DIR / "tokenizer.json", [f["prompt"] for f in group])
        pair = next(((i, j) for i in range(len(group)) for j in range(len(group))
                     if i != j and len(encoded[i]) == len(encoded[j])
                     and group[i]["attribute"] != group[j]["attribute"]), None)
        if pair is None:
            continue
        i, j = pair
        attrs = encode(BUNDLED_DIR / "tokenizer.json", [group[i]["attribute"], group[j]["attribute"]])
        if any(len(x) != 1 for x in attrs):
            continue
        t_id, f_id = attrs[0][0], attrs[1][0]
        for site in ("resid_pre", "head_out"):
            spec = {"clean": group[i]["prompt"], "corrupt": group[j]["prompt"], "target": group[i]["attribute"],
                    "foil": group[j]["attribute"], "site": site}
            r = patch(cfg, w, encoded[i], encoded[j], t_id, f_id, site)
            cases.append({"name": f"bundled-patch-{site}", "type": "patch", "model": "tiny-facts", "spec": spec,
                          "clean_ids": encoded[i], "corrupt_ids": encoded[j], **r})
        break
    return cases, sha


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--regen", action="store_true", help="rewrite the tiny-4l model fixture")
    args = ap.parse_args()
    if args.regen or not (TINY_DIR / "model.safetensors").exists():
        make_tiny_model()
    cases: list[dict] = []
    cfg, w = load_model(TINY_DIR)
    cases += tiny_cases(cfg, w)
    cfg, w = load_model(RANDOM_DIR)
    cases += random_cases(cfg, w)
    OUT.mkdir(parents=True, exist_ok=True)
    bundled, sha = bundled_cases()
    if bundled:
        (OUT / "bundled-goldens.json").write_text(json.dumps(
            {"generator": "scripts/reference/trace_ref.py", "model": "public/models/tiny-facts",
             "modelSha256": sha, "cases": bundled}, indent=1) + "\n")
        print(f"wrote {len(bundled)} cases to {OUT / 'bundled-goldens.json'}")
    rng = [{"seed": seed, "scale": scale, "values": gaussian_array(seed, 64, scale).tolist()}
           for seed, scale in ((1, 1.0), (2024, 0.5), (4294967295, 3.0))]
    out = {"generator": "scripts/reference/trace_ref.py (numpy, float64, one forward per cell)", "rng": rng,
           "cases": cases}
    (OUT / "goldens.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT / 'goldens.json'}")


if __name__ == "__main__":
    main()
