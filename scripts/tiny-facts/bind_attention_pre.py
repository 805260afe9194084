"""bind_attention.py for the polarity-word-first order (`--mix bind_pre`, sentiment_pre.py).

    /usr/bin/python3 scripts/tiny-facts/bind_attention_pre.py DIR [DIR ...]

On 100 of sentiment_pre's word-copy prompts ("The awful soup and the lovely song. They called the
song" -> " lovely"), prints per layer and head the mean attention from the last position (the asked
thing itself) to the asked thing's first mention, to the other thing, and to the asked thing's word;
and from the asked thing's first mention to the token before it (its word: the previous-token head
that writes the word into the thing's position). Binding in this order needs a head whose first
column is far above its second (a same-token match) and, below it, a previous-token head.
"""

from __future__ import annotations

import argparse

import torch

from archs import ARCHS
from bind_attention import attention_maps
from build import load_encoder, load_model
from sentiment_pre import word_copy_prompts_pre


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dirs", nargs="+")
    args = p.parse_args()
    torch.set_num_threads(1)
    arch = ARCHS["gpt2"]
    prompts = word_copy_prompts_pre(n=100)[0]
    for d in args.dirs:
        model, enc = load_model(d, arch).eval(), load_encoder(d, arch)
        sums: dict[tuple[int, int], list[float]] = {}
        n = 0
        for prompt in prompts:
            ids = enc.encode(prompt)  # "The {wa} {a} and the {wb} {b}. They called the {thing}"
            words = prompt.split(" ")
            a_ids, b_ids = enc.encode(" " + words[2]), enc.encode(" " + words[6].rstrip("."))
            if len(a_ids) != 1 or len(b_ids) != 1:
                continue  # a thing of several tokens: no single position to look at
            a, b = ids.index(a_ids[0]), ids.index(b_ids[0])
            asked = ids.index(ids[-1])
            other = b if asked == a else a
            n += 1
            for layer, att in enumerate(attention_maps(model, ids)):  # [nh, T, T] each
                for head in range(att.shape[0]):
                    s = sums.setdefault((layer, head), [0.0] * 4)
                    s[0] += att[head, -1, asked].item()
                    s[1] += att[head, -1, other].item()
                    s[2] += att[head, -1, asked - 1].item()
                    s[3] += att[head, asked, asked - 1].item()
        print(f"{d} ({n} prompts)\n  head   last->asked thing  last->other thing  last->asked word  asked thing->its word")
        for (layer, head), v in sorted(sums.items()):
            print(f"  L{layer}H{head}   " + "  ".join(f"{x / n:16.3f}" for x in v))


if __name__ == "__main__":
    main()
