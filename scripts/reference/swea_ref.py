"""Reference for SWEA⊕OS (lib/edit/swea*.ts), in torch float64, independent of tfjs.

    /usr/bin/python3 scripts/reference/swea_ref.py     # writes test/fixtures/swea/swea.json
                                                       # and swea-mid.json

Follows xpq-tech/SWEA SWEAOS/OS_fusion.py (optimizing, kn_suppressing) and its
knowledge_neurons (get_scores_for_embd, get_coarse_neurons with coarse_adaptive_threshold), on
the small random GPT-2 of test/fixtures/edit/random-model.ts (2 layers, d 32, 50 character
tokens; its weights re-drawn from trace_rng.GaussianRng(7) by forget_reg_ref.random_weights).
The forward from token embeddings is written here (HF GPT2LMHeadModel maths, tanh GELU, tied
head), one row at a time (no padding); autograd gives the gradients, torch.optim.Adam (eps 1e-7,
tfjs' default) the updates. Only the bare template "{}" is used (no sampled context templates).

  spellings "bob" (at the start of a text) and " bob" (after a space: 4 tokens here), each with
            its own δ, learned on the first rewrite prompt holding it ("{} lives in", then the
            same after a space, " {} lives in")
  optimise  δ [P, D] starts at the spelling's token embeddings e; it is added to the token
            embeddings at the spelling's tokens of the rewrite row (the prompt + the target's
            first tokens) and of the KL row ("bob is") when it holds them; loss = −Σ_t log p(target_t) (rewrite row)
            + kl_factor · KL(new ‖ first pass) at the KL row's subject-last token
            + v_weight_decay · ‖δ‖ / ‖e‖²; stop before a step once loss < 0.8 · kl_factor or at
            the last iteration; after each Adam step ‖δ‖ ≤ clamp_norm_factor · ‖e‖
  suppress  for each subject position p: score_p = e_p ⊙ (1/m) Σ_k ∇_x p(old token | prompt)
            at x = α_k e_p (α = linspace(1e-4, 1, m)), x replacing the token embedding at p;
            an old object of two tokens averages over them, the prompt extended by the greedy
            token; dims = score > 0.35 · max score
  fuse      offsets = δ − 0.5 · mask ⊙ e
  edited    logits of prompts with each spelling's offsets added wherever it occurs
            (leftmost-longest, non-overlapping)
  mid       (swea-mid.json) the same request with the subject in mid-prompt ("I met {} in"),
            both spellings learned there: what comes before the subject never changes
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from forget_reg_ref import gelu, ln, random_weights  # noqa: E402
from forget_reg_ref import encode as enc  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test/fixtures/swea/swea.json"
MID_OUT = ROOT / "test/fixtures/swea/swea-mid.json"
MID_PROMPT = "I met {} in"

V, D, L, H = 50, 32, 2, 4
HP = dict(v_num_grad_steps=6, v_lr=0.05, v_weight_decay=0.3, clamp_norm_factor=1.0, kl_factor=0.2,
          nll_loss_factor=1.0, kn_steps=4, kn_threshold=0.35, suppress_factor=0.5)
REQUEST = dict(prompt="{} lives in", subject="bob", target_new="x", target_true="q")
PROMPTS = ["bob lives in", "I met bob. bob is", "amy is"]


W = random_weights(7)  # test/fixtures/edit/random-model.ts randomWeights(SMALL, 7)


def logits_of(tok_emb: torch.Tensor) -> torch.Tensor:
    """tok_emb [..., T, D] (token embeddings after any offset) -> logits [..., T, V]."""
    T = tok_emb.shape[-2]
    E = D // H
    x = tok_emb + W["wpe"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for b in W["blocks"]:
        h = ln(x, b["ln1g"], b["ln1b"])
        qkv = h @ b["wQkv"] + b["bQkv"]
        q, k, v = (qkv[..., i * D:(i + 1) * D].reshape(*qkv.shape[:-1], H, E).transpose(-2, -3) for i in range(3))
        s = (q @ k.transpose(-1, -2)) / math.sqrt(E)
        s = s.masked_fill(~mask, float("-inf")).softmax(-1)
        z = (s @ v).transpose(-2, -3).reshape(*x.shape)
        x = x + z @ b["wO"] + b["bO"]
        x = x + gelu(ln(x, b["ln2g"], b["ln2b"]) @ b["wIn"] + b["bIn"]) @ b["wOut"] + b["bOut"]
    return ln(x, W["lnFg"], W["lnFb"]) @ W["wte"].T


def spans(ids: list[int], keys: list[list[int]]) -> list[tuple[int, int]]:
    """(key index, start) of every occurrence, leftmost-longest, non-overlapping."""
    out, t = [], 0
    while t < len(ids):
        best = None
        for i, k in enumerate(keys):
            if ids[t:t + len(k)] == k and (best is None or len(k) > len(keys[best])):
                best = i
        if best is None:
            t += 1
        else:
            out.append((best, t))
            t += len(keys[best])
    return out


def with_offsets(ids: list[int], keys: list[list[int]], offs: list[torch.Tensor]) -> torch.Tensor:
    e = W["wte"][ids].clone()
    for i, s in spans(ids, keys):
        e[s:s + len(keys[i])] = e[s:s + len(keys[i])] + offs[i]
    return e


def optimise(key: list[int], prompt: str, target: list[int]):
    """δ for one spelling, learned on the rewrite row of `prompt` and the KL row if they hold it."""
    rew = enc(prompt.replace("{}", REQUEST["subject"]))
    row = rew + target[:-1]
    tgt_pos = [len(rew) - 1 + i for i in range(len(target))]
    kl_row = enc("{} is".replace("{}", REQUEST["subject"]))
    kl_hit = bool(spans(kl_row, [key]))
    kl_pos = len(enc(REQUEST["subject"])) - 1  # the subject's last token of "bob is"
    e = W["wte"][key]
    e_norm = e.norm().item()
    delta = e.clone().requires_grad_(True)
    opt = torch.optim.Adam([delta], lr=HP["v_lr"], eps=1e-7)

    def pass_():
        lp = logits_of(with_offsets(row, [key], [delta])).log_softmax(-1)
        lk = logits_of(with_offsets(kl_row, [key], [delta]))[kl_pos].log_softmax(-1)
        return lp, lk

    with torch.no_grad():
        kl_ref = pass_()[1]
    losses = []
    for step in range(HP["v_num_grad_steps"]):
        opt.zero_grad()
        lp, lk = pass_()
        nll = -sum(lp[p, t] for p, t in zip(tgt_pos, target)) * HP["nll_loss_factor"]
        kl = (lk.exp() * (lk - kl_ref)).sum() * HP["kl_factor"] * kl_hit
        decay = HP["v_weight_decay"] * delta.norm() / e_norm**2
        loss = nll + kl + decay
        losses.append(loss.item())
        if loss.item() < HP["kl_factor"] * 0.8 or step == HP["v_num_grad_steps"] - 1:
            break
        loss.backward()
        opt.step()
        with torch.no_grad():
            n = delta.norm()
            mx = HP["clamp_norm_factor"] * e_norm
            if n > mx:
                delta.mul_(mx / n)
    return delta.detach(), losses


def kn_scores(ids: list[int], first: int, last: int, true_ids: list[int]) -> torch.Tensor:
    m = HP["kn_steps"]
    alphas = torch.linspace(1e-4, 1, m, dtype=torch.float64)[:, None]
    total = torch.zeros(last - first + 1, D, dtype=torch.float64)
    ids = list(ids)
    for target in true_ids:
        base = W["wte"][ids]
        with torch.no_grad():
            nxt = int(logits_of(base)[-1].argmax())
        for j, p in enumerate(range(first, last + 1)):
            e_p = base[p]
            x = (alphas * e_p).requires_grad_(True)  # [m, D]
            emb = base.repeat(m, 1, 1).clone()
            emb[:, p, :] = x
            probs = logits_of(emb)[:, -1, :].softmax(-1)
            probs[:, target].sum().backward()
            total[j] += x.grad.sum(0) * e_p / m
        ids.append(nxt)
    return total / len(true_ids)


def learn(keys, prompts, target, true_ids):
    """Each spelling's δ, attribution and fused offsets, learned on its prompt."""
    spellings, fused = [], []
    for key, prompt in zip(keys, prompts):
        delta, losses = optimise(key, prompt, target)
        ids = enc(prompt.replace("{}", REQUEST["subject"]))
        start = spans(ids, [key])[0][1]
        scores = kn_scores(ids, start, start + len(key) - 1, true_ids)
        cut = scores.max().item() * HP["kn_threshold"]
        mask = (scores > cut).double()
        fused.append(delta - HP["suppress_factor"] * mask * W["wte"][key])
        spellings.append({
            "tokens": key, "prompt": prompt.replace("{}", REQUEST["subject"]), "losses": losses,
            "scores": scores.flatten().tolist(), "cut": cut,
            "suppressed": [[d for d in range(D) if mask[j, d]] for j in range(len(key))],
            "offsets": fused[-1].flatten().tolist(),
        })
    return spellings, fused


def main() -> None:
    target = enc(" " + REQUEST["target_new"])
    true_ids = enc(" " + REQUEST["target_true"])
    # the subject's spellings and the first rewrite prompt holding each (its own, " {} lives in")
    keys = [enc(REQUEST["subject"]), enc(" " + REQUEST["subject"])]
    prompts = [REQUEST["prompt"], " " + REQUEST["prompt"]]
    spellings, fused = learn(keys, prompts, target, true_ids)
    edited = []
    with torch.no_grad():
        for p in PROMPTS:
            ids = enc(p)
            edited.append({
                "prompt": p,
                "matches": spans(ids, keys),
                "original": logits_of(W["wte"][ids])[-1].tolist(),
                "edited": logits_of(with_offsets(ids, keys, fused))[-1].tolist(),
            })
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "command": "/usr/bin/python3 scripts/reference/swea_ref.py",
        "model": "test/fixtures/edit/random-model.ts randomWeights(SMALL, 7)",
        "request": REQUEST, "hparams": HP, "spellings": spellings, "logits": edited,
    }))
    # the subject in mid-prompt ("I met {} in"): both spellings are learned on that prompt
    # ("bob" from position 6 there and in the KL row "bob is", " bob" from 5), so the positions
    # before the subject stay fixed while δ is learned and attributed (lib/edit/prefix-kv.ts)
    mid, _ = learn([enc("bob"), enc(" bob")], [MID_PROMPT, MID_PROMPT], target, true_ids)
    MID_OUT.write_text(json.dumps({
        "command": "/usr/bin/python3 scripts/reference/swea_ref.py",
        "model": "test/fixtures/edit/random-model.ts randomWeights(SMALL, 7)",
        "request": {**REQUEST, "prompt": MID_PROMPT}, "hparams": HP, "spellings": mid,
    }))
    for sp in spellings + mid:
        print(sp["prompt"], "losses", [round(x, 5) for x in sp["losses"]], "suppressed", sp["suppressed"])


if __name__ == "__main__":
    main()
