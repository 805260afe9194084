"""Does this trainer's GPT-2 learn an in-context lookup, and how fast? A synthetic diagnostic.

Each sequence holds `--pairs` (word, thing) pairs, the word first as in `--mix bind_pre`, with
0..`--filler` filler tokens before each pair, then a query token and one of the things (`--dense`: every thing, each after a query token); the
target at a queried thing is the word told before it:

    f w1 t1 f f w2 t2 w3 t3 Q t2  ->  w2

Solving it takes the two-layer induction circuit the opinion stories need (a previous-token head
writes w into t's position; a same-token head at the query reads it back). Accuracy is on 512
fresh sequences every 100 steps; chance (copying some word of the sequence) is about 1/pairs.

    /usr/bin/python3 scripts/tiny-facts/lookup_plateau.py --init-std 0.02   # GPT-2's init: plateau
    /usr/bin/python3 scripts/tiny-facts/lookup_plateau.py --init-std 0.1    # learned
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from llama_model import LlamaConfig, LlamaForCausalLM
from model import GPT2LMHeadModel, GPTConfig

IGNORE = -100
N_FILLER = 20


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--init-std", type=float, default=None, help="every weight N(0, S); default GPT-2's init (0.02, scaled residual projections)")
    p.add_argument("--embed-std", type=float, default=None, help="wte and wpe N(0, S) (after --init-std)")
    p.add_argument("--sin-pos", type=float, default=0.0, help="start wpe as sinusoids of this amplitude (model.sinusoid_positions)")
    p.add_argument("--arch", choices=("gpt2", "llama"), default="gpt2", help="llama: rotary positions (llama_model.py)")
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--filler", type=int, default=3, help="at most this many filler tokens before each pair")
    p.add_argument("--dense", action="store_true", help="query every pair (in a shuffled order), as the drills do, instead of one")
    p.add_argument("--things", type=int, default=12)
    p.add_argument("--words", type=int, default=24)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args()


class Vocab:
    """0 pad, 1 query, then things, words, fillers."""

    def __init__(self, n_things: int, n_words: int):
        self.thing0, self.word0 = 2, 2 + n_things
        self.filler0 = self.word0 + n_words
        self.size = self.filler0 + N_FILLER


def make_batch(a: argparse.Namespace, v: Vocab, n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids [n, T] right-padded, targets [n, T] (IGNORE except at the query's thing)."""
    seqs, tgts = [], []
    for _ in range(n):
        things = torch.randperm(a.things, generator=g)[: a.pairs].tolist()
        words = torch.randint(a.words, (a.pairs,), generator=g).tolist()
        seq: list[int] = []
        for t, w in zip(things, words):
            n_fill = int(torch.randint(a.filler + 1, (1,), generator=g))
            seq += [v.filler0 + int(torch.randint(N_FILLER, (1,), generator=g)) for _ in range(n_fill)]
            seq += [v.word0 + w, v.thing0 + t]
        asked = torch.randperm(a.pairs, generator=g).tolist() if a.dense else [int(torch.randint(a.pairs, (1,), generator=g))]
        tgt = [IGNORE] * len(seq)
        for j in asked:
            seq += [1, v.thing0 + things[j]]
            tgt += [IGNORE, v.word0 + words[j]]
        seqs.append(seq)
        tgts.append(tgt)
    T = max(map(len, seqs))
    x = torch.zeros(n, T, dtype=torch.long)  # [n, T]
    y = torch.full((n, T), IGNORE)  # [n, T]
    for i, (s, t) in enumerate(zip(seqs, tgts)):
        x[i, : len(s)] = torch.tensor(s)
        y[i, : len(t)] = torch.tensor(t)
    return x, y


def accuracy_by_pair(x: torch.Tensor, y: torch.Tensor, pred: torch.Tensor, v: Vocab) -> list[float]:
    """Lookup accuracy split by which pair (first told, second, ...) the query asks about: a
    partial solution shows as some pairs right and others at chance."""
    right: dict[int, list[bool]] = {}
    for i, j in (y != IGNORE).nonzero().tolist():
        things = [t for t in x[i, :j].tolist() if v.thing0 <= t < v.word0]  # told first, each once; then earlier queries
        k = things.index(int(x[i, j]))  # the asked thing's place among the told ones
        right.setdefault(k, []).append(int(pred[i, j]) == int(y[i, j]))
    return [sum(r) / len(r) for _, r in sorted(right.items())]


def main() -> None:
    a = parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    v = Vocab(a.things, a.words)
    if a.arch == "llama":
        model = LlamaForCausalLM(LlamaConfig(vocab_size=v.size, n_layer=a.layers), a.init_std)
    else:
        model = GPT2LMHeadModel(GPTConfig(vocab_size=v.size, n_layer=a.layers), a.init_std, a.sin_pos or None, a.embed_std)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay, betas=(0.9, 0.98))
    g_train, g_eval = torch.Generator().manual_seed(a.seed), torch.Generator().manual_seed(a.seed + 1)
    x_eval, y_eval = make_batch(a, v, 512, g_eval)
    t0 = time.time()
    for step in range(1, a.steps + 1):
        for group in opt.param_groups:
            group["lr"] = a.lr * min(1.0, step / 100)  # 100 warmup steps, then constant
        x, y = make_batch(a, v, a.batch_size, g_train)
        logits = model(x)  # [B, T, V]
        loss = F.cross_entropy(logits.reshape(-1, v.size), y.reshape(-1), ignore_index=IGNORE)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            with torch.no_grad():
                pred = model(x_eval).argmax(-1)  # [512, T]
            mask = y_eval != IGNORE
            acc = (pred[mask] == y_eval[mask]).float().mean().item()
            by_pair = " ".join(f"{x:.2f}" for x in accuracy_by_pair(x_eval, y_eval, pred, v))
            print(f"step {step:5d}  loss {loss.item():.3f}  lookup accuracy {acc:.3f}  by asked pair {by_pair}  {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
