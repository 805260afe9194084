"""Independent numpy reference for Causeway's head scores, logit lens, direct logit attribution and
attribution patching (lib/interp/{head-scores,logit-lens,dla,attribution}.ts), written from the
definitions with gpt2_ref.py's float64 forward and its hooks; goldens for test/interp-attrib.test.ts.

    python3 scripts/reference/attrib_ref.py      # writes test/fixtures/attrib/goldens.json

Definitions (docs/attribution.md):
- head scores, pattern A [B, H, Tq, Tk]: previous_token = mean_{i>=1} A[i, i-1]; first_token =
  mean_{i>=1} A[i, 0]; subject = sum_{j in [b, e)} A[T-1, j] (prompt); duplicate_token =
  mean_{b, i in [n, 2n)} A[i, i-n]; induction = mean A[i, i-n+1] on `batch` rows of n random tokens
  repeated twice, token = floor(u * vocab) for u the next uniform of trace_rng.GaussianRng(seed).
- logit lens: softmax(LN_f(resid) @ wte^T) for resid = resid_pre of every block, then the final
  resid_post; top-k and p(target) at every position.
- DLA: components at the position (embed, pos_embed, head h: z_h @ W_O[h rows], c_proj bias per
  layer, mlp_out per layer), each centred, times the clean run's final LN scale s, times g, dotted
  with wte[target] - wte[foil]; plus ln_f.bias . (wte[target] - wte[foil]).
- attribution patching: grad(LD) . (clean - corrupt) at each cell, evaluated on the corrupted run,
  here as a central difference of LD along the cell's (clean - corrupt) (eps = 1e-3, float64),
  divided by LD_clean - LD_corrupt; exact patching from trace_ref.patch; Pearson r between them.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpt2_ref import Config, forward, layer_norm, load_model, softmax  # noqa: E402
from trace_ref import BUNDLED_DIR, RANDOM_CLEAN, RANDOM_CORRUPT, RANDOM_DIR, encode, find_token_range, patch, \
    token_texts  # noqa: E402
from trace_rng import GaussianRng  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "attrib"


def repeated_tokens(seed: int, length: int, batch: int, vocab: int) -> list[list[int]]:
    rng = GaussianRng(seed)
    rows = []
    for _ in range(batch):
        half = [int(np.floor(rng.next_uniform() * vocab)) for _ in range(length)]
        rows.append(half + half)
    return rows


def head_scores(cfg: Config, w: dict, ids: list[int], subject: tuple[int, int] | None, length: int, batch: int,
                seed: int, fwd=forward) -> dict:
    """fwd: the family's forward (gpt2_ref, llama_ref or neox_ref), recording hook_pattern."""
    L, T = cfg.n_layer, len(ids)
    _, acts = fwd(cfg, w, [ids])
    rep = repeated_tokens(seed, length, batch, cfg.vocab_size)
    _, racts = fwd(cfg, w, rep)
    prev, first, subj, dup, ind = [], [], [], [], []
    n = length
    for layer in range(L):
        a = acts[f"blocks.{layer}.attn.hook_pattern"][0]  # [H, T, T]
        i = np.arange(1, T)
        prev.append(a[:, i, i - 1].mean(-1).tolist())
        first.append(a[:, i, 0].mean(-1).tolist())
        if subject:
            subj.append(a[:, T - 1, subject[0]:subject[1]].sum(-1).tolist())
        r = racts[f"blocks.{layer}.attn.hook_pattern"]  # [B, H, 2n, 2n]
        q = np.arange(n, 2 * n)
        dup.append(r[:, :, q, q - n].mean(axis=(0, 2)).tolist())
        ind.append(r[:, :, q, q - n + 1].mean(axis=(0, 2)).tolist())
    return {"repeat_ids": rep, "scores": {"previous_token": prev, "first_token": first,
                                          "subject": subj if subject else None, "duplicate_token": dup,
                                          "induction": ind}}


def logit_lens(cfg: Config, w: dict, ids: list[int], target: int | None, k: int) -> dict:
    L = cfg.n_layer
    logits, acts = forward(cfg, w, [ids])
    if target is None:
        target = int(np.argmax(logits[0, -1]))
    rows = [acts[f"blocks.{layer}.hook_resid_pre"][0] for layer in range(L)]
    rows.append(acts[f"blocks.{L - 1}.hook_resid_post"][0])
    target_prob, top_ids, top_prob = [], [], []
    for resid in rows:
        p = softmax(layer_norm(resid, w["ln_f.weight"], w["ln_f.bias"], cfg.eps) @ w["wte.weight"].T)  # [T, V]
        target_prob.append(p[:, target].tolist())
        order = np.argsort(-p, axis=-1, kind="stable")[:, :k]
        top_ids.append(order.tolist())
        top_prob.append(np.take_along_axis(p, order, -1).tolist())
    return {"target": target, "target_prob": target_prob, "top_ids": top_ids, "top_prob": top_prob}


def dla(cfg: Config, w: dict, ids: list[int], target: int, foil: int, pos: int) -> dict:
    L, H, D = cfg.n_layer, cfg.n_head, cfg.d_model
    E = D // H
    logits, acts = forward(cfg, w, [ids])
    x = acts[f"blocks.{L - 1}.hook_resid_post"][0, pos]
    s = 1.0 / np.sqrt(x.var() + cfg.eps)
    dw = w["wte.weight"][target] - w["wte.weight"][foil]

    def contrib(v: np.ndarray) -> float:
        return float(((v - v.mean()) * s * w["ln_f.weight"]) @ dw)

    heads, bias, mlp = [], [], []
    for layer in range(L):
        z = acts[f"blocks.{layer}.attn.hook_z"][0, pos]  # [H, E]
        wo = w[f"h.{layer}.attn.c_proj.weight"]  # [D, D]
        heads.append([contrib(z[h] @ wo[h * E:(h + 1) * E]) for h in range(H)])
        bias.append(contrib(w[f"h.{layer}.attn.c_proj.bias"]))
        mlp.append(contrib(acts[f"blocks.{layer}.hook_mlp_out"][0, pos]))
    return {
        "logit_diff": float(logits[0, pos, target] - logits[0, pos, foil]),
        "heads": heads, "attn_bias": bias, "mlp": mlp,
        "embed": contrib(acts["hook_embed"][0, pos]), "pos_embed": contrib(acts["hook_pos_embed"][0, pos]),
        "ln_final_bias": float(w["ln_f.bias"] @ dw), "final_scale": float(s),
    }


SITE_HOOK = {"resid_pre": "hook_resid_pre", "attn_out": "hook_attn_out", "mlp_out": "hook_mlp_out"}


def attribution(cfg: Config, w: dict, clean: list[int], corrupt: list[int], target: int, foil: int, site: str,
                eps: float = 1e-3, fwd=forward) -> dict:
    """fwd: the family's forward (gpt2_ref, llama_ref or neox_ref)."""
    L, H, T = cfg.n_layer, cfg.n_head, len(clean)
    cl, ca = fwd(cfg, w, [clean])
    co, ka = fwd(cfg, w, [corrupt])
    ld_c = cl[0, -1, target] - cl[0, -1, foil]
    ld_k = co[0, -1, target] - co[0, -1, foil]

    def deriv(iv: dict) -> float:
        def ld(sign: float) -> float:
            logits, _ = fwd(cfg, w, [corrupt], [{**iv, "value": sign * eps * iv["value"]}])
            return logits[0, -1, target] - logits[0, -1, foil]
        return float((ld(1) - ld(-1)) / (2 * eps) / (ld_c - ld_k))

    if site in SITE_HOOK:
        def cell(layer: int, t: int) -> float:
            name = f"blocks.{layer}.{SITE_HOOK[site]}"
            return deriv({"hook": name, "op": "add", "positions": [t], "value": ca[name][0, t] - ka[name][0, t]})
        scores = [[cell(layer, t) for t in range(T)] for layer in range(L)]
    elif site == "head_out":
        def head(layer: int, h: int) -> float:
            name = f"blocks.{layer}.attn.hook_z"
            return deriv({"hook": name, "op": "add", "heads": [h],
                          "value": (ca[name][0, :, h] - ka[name][0, :, h]).reshape(-1)})
        scores = [[head(layer, h) for h in range(H)] for layer in range(L)]
    else:  # head_out_pos
        def head_pos(layer: int, t: int, h: int) -> float:
            name = f"blocks.{layer}.attn.hook_z"
            return deriv({"hook": name, "op": "add", "heads": [h], "positions": [t],
                          "value": ca[name][0, t, h] - ka[name][0, t, h]})
        scores = [[[head_pos(layer, t, h) for h in range(H)] for t in range(T)] for layer in range(L)]
    exact = patch(cfg, w, clean, corrupt, target, foil, site, fwd=fwd)["scores"]
    a, b = np.ravel(scores), np.ravel(exact)
    return {"scores": scores, "exact": exact, "correlation": float(np.corrcoef(a, b)[0, 1])}


def top2(cfg: Config, w: dict, ids: list[int]) -> tuple[int, int]:
    logits, _ = forward(cfg, w, [ids])
    order = np.argsort(-logits[0, -1])
    return int(order[0]), int(order[1])


def random_cases() -> list[dict]:
    cfg, w = load_model(RANDOM_DIR)
    ids = RANDOM_CLEAN
    cases = []
    spec = {"prompt": ids, "subject": [1, 3], "repeatLength": 8, "repeatBatch": 3, "seed": 5}
    cases.append({"name": "random-heads", "type": "heads", "model": "random-gpt2-f16", "spec": spec,
                  **head_scores(cfg, w, ids, (1, 3), 8, 3, 5)})
    cases.append({"name": "random-lens", "type": "lens", "model": "random-gpt2-f16",
                  "spec": {"prompt": ids, "topK": 5}, **logit_lens(cfg, w, ids, None, 5)})
    t, f = top2(cfg, w, ids)
    for pos in (len(ids) - 1, 3):
        spec = {"prompt": ids, "target": t, "foil": f, "position": pos}
        cases.append({"name": f"random-dla-{pos}", "type": "dla", "model": "random-gpt2-f16", "spec": spec,
                      **dla(cfg, w, ids, t, f, pos)})
    ct, cf = top2(cfg, w, RANDOM_CLEAN)
    co_top = top2(cfg, w, RANDOM_CORRUPT)[0]
    foil = co_top if co_top != ct else cf
    for site in ("resid_pre", "attn_out", "mlp_out", "head_out", "head_out_pos"):
        spec = {"clean": RANDOM_CLEAN, "corrupt": RANDOM_CORRUPT, "target": ct, "foil": foil, "site": site}
        cases.append({"name": f"random-attrib-{site}", "type": "attrib", "model": "random-gpt2-f16", "spec": spec,
                      **attribution(cfg, w, RANDOM_CLEAN, RANDOM_CORRUPT, ct, foil, site)})
    return cases


def bundled_cases() -> tuple[list[dict], str]:
    sha = hashlib.sha256((BUNDLED_DIR / "model.safetensors").read_bytes()).hexdigest()
    cfg, w = load_model(BUNDLED_DIR)
    tok = json.loads((BUNDLED_DIR / "tokenizer.json").read_text())
    facts = json.loads((BUNDLED_DIR / "dataset.json").read_text())["known_facts"]
    fact = facts[0]
    prompt, subject = fact["prompt"], fact["subject"]
    (ids,) = encode(BUNDLED_DIR / "tokenizer.json", [prompt])
    b, e = find_token_range(token_texts(tok, ids), subject)
    cases = []
    spec = {"prompt": prompt, "subject": subject}  # defaults: repeat length 20, batch 4, seed 1
    cases.append({"name": "bundled-heads", "type": "heads", "model": "tiny-facts", "spec": spec, "input_ids": ids,
                  "subject_range": [b, e], **head_scores(cfg, w, ids, (b, e), min(20, cfg.n_ctx // 2), 4, 1)})
    cases.append({"name": "bundled-lens", "type": "lens", "model": "tiny-facts", "spec": {"prompt": prompt},
                  "input_ids": ids, **logit_lens(cfg, w, ids, None, 5)})
    t, f = top2(cfg, w, ids)
    spec = {"prompt": prompt, "target": t, "foil": f}
    cases.append({"name": "bundled-dla", "type": "dla", "model": "tiny-facts", "spec": spec, "input_ids": ids,
                  **dla(cfg, w, ids, t, f, len(ids) - 1)})
    # attribution patching between two same-length prompts of one template with different answers
    same = [g for g in facts if g["template"] == fact["template"] and g["attribute"] != fact["attribute"]]
    encoded = encode(BUNDLED_DIR / "tokenizer.json", [g["prompt"] for g in same])
    other = next(g for g, x in zip(same, encoded) if len(x) == len(ids))
    (attrs,) = [encode(BUNDLED_DIR / "tokenizer.json", [fact["attribute"], other["attribute"]])]
    t_id, f_id = attrs[0][0], attrs[1][0]
    corrupt = encoded[same.index(other)]
    for site in ("resid_pre", "head_out_pos"):
        spec = {"clean": prompt, "corrupt": other["prompt"], "target": t_id, "foil": f_id, "site": site}
        cases.append({"name": f"bundled-attrib-{site}", "type": "attrib", "model": "tiny-facts", "spec": spec,
                      "clean_ids": ids, "corrupt_ids": corrupt,
                      **attribution(cfg, w, ids, corrupt, t_id, f_id, site)})
    return cases, sha


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    bundled, sha = bundled_cases()
    out = {"generator": "scripts/reference/attrib_ref.py (numpy, float64)", "bundledSha256": sha,
           "cases": random_cases() + bundled}
    (OUT / "goldens.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(out['cases'])} cases to {OUT / 'goldens.json'}")


if __name__ == "__main__":
    main()
