"""Where a model's heads look when it is asked to copy a thing's word (the binding diagnostic).

    /usr/bin/python3 scripts/tiny-facts/bind_attention.py DIR [DIR ...]

On sentiment_eval's word-copy prompts ("The soup was awful but the song was lovely. They called the
song" -> " lovely"), prints per layer and head:
  - at the last position: the mean attention to the asked thing's word, to the other thing's word,
    and to the asked thing's first mention;
  - at the asked word's position: the mean attention two tokens back (its own thing, "song" in
    "song was lovely"), the previous-previous-token pattern that lets a later head find a word by
    its thing.
A head that binds attends to the asked word far more than to the other one; a head at 0.5 / 0.5
finds "a polarity word" but not which (session 9's finding, docs/recipes.md).
"""

from __future__ import annotations

import argparse
import math

import torch

import model as gpt2
from archs import ARCHS
from build import load_encoder, load_model
from sentiment_eval import word_copy_prompts


def attention_maps(model, ids: list[int]) -> list[torch.Tensor]:
    """Each layer's attention probabilities [n_head, T, T] for one sequence (recomputed from the
    block's c_attn, as model.Attention does)."""
    maps: list[torch.Tensor] = []
    forward = gpt2.Attention.forward

    def recording(self, x):  # x [1, T, C]
        _, T, C = x.shape
        q, k, _ = self.c_attn(x).split(C, dim=2)
        hs = C // self.n_head
        q = q.view(T, self.n_head, hs).transpose(0, 1)  # [nh, T, hs]
        k = k.view(T, self.n_head, hs).transpose(0, 1)
        att = (q @ k.transpose(1, 2)) / math.sqrt(hs)  # [nh, T, T]
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        maps.append(att.masked_fill(~causal, float("-inf")).softmax(-1))
        return forward(self, x)

    gpt2.Attention.forward = recording
    try:
        with torch.no_grad():
            model(torch.tensor([ids]))
    finally:
        gpt2.Attention.forward = forward
    return maps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dirs", nargs="+")
    args = p.parse_args()
    torch.set_num_threads(1)
    arch = ARCHS["gpt2"]
    prompts, right, other = word_copy_prompts()
    for d in args.dirs:
        model, enc = load_model(d, arch).eval(), load_encoder(d, arch)
        sums: dict[tuple[int, int], list[float]] = {}
        for prompt, asked_word, other_word in zip(prompts, right, other):
            ids = enc.encode(prompt)
            asked = ids.index(enc.encode(" " + asked_word)[0])
            others = ids.index(enc.encode(" " + other_word)[0])
            thing = ids.index(ids[-1])  # the asked thing's first mention (the prompt ends with it)
            for layer, att in enumerate(attention_maps(model, ids)):
                for head in range(att.shape[0]):
                    s = sums.setdefault((layer, head), [0.0, 0.0, 0.0, 0.0])
                    s[0] += att[head, -1, asked].item()
                    s[1] += att[head, -1, others].item()
                    s[2] += att[head, -1, thing].item()
                    s[3] += att[head, asked, asked - 2].item()
        n = len(prompts)
        print(f"{d} ({n} prompts)\n  head   last->asked word  last->other word  last->asked thing  asked word->2 back")
        for (layer, head), (a, b, c, w) in sorted(sums.items()):
            print(f"  L{layer}H{head}   {a / n:16.3f}  {b / n:16.3f}  {c / n:17.3f}  {w / n:18.3f}")


if __name__ == "__main__":
    main()
