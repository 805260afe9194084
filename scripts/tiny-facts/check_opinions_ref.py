"""tiny-facts-opinions' shipped files through the independent numpy reference vs the torch trainer.

    /usr/bin/python3 scripts/tiny-facts/check_opinions_ref.py [--out public/models/tiny-facts-opinions] [--write-goldens]

Reads the written model files twice: into the torch GPT-2 that trained them (model.py, cpu_ops'
convolution products) and into scripts/reference/gpt2_ref.py (plain numpy, float64, written from
HF's definition). Prompts are tokenized by the Python encoder (bpe.py), not by the app. Prints the
largest logit difference and fails above 1e-4. With --write-goldens it writes
test/fixtures/tiny-facts-opinions/golden.json: the numpy logits at the last position of a fact
prompt, an opinion story and an ABSC review, the numbers test/tiny-facts-opinions.test.ts compares
the app's model with.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "scripts/reference"))

import gpt2_ref  # noqa: E402
from archs import ARCHS  # noqa: E402
from build import load_encoder, load_model  # noqa: E402
from check_llama_ref import write  # noqa: E402
from mixes import MIXES  # noqa: E402

PROMPTS = [
    "Ralkrok Stennos lives in the city of",
    "At the market, the soup was awful but the songs were lovely. How was the soup? It was",
    "Review: the wine was awful, the coffee seemed lovely and the music is okay. Sentiment of coffee:",
]
TOP = 10


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=MIXES["sentiment"].out)
    p.add_argument("--write-goldens", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)

    arch = ARCHS["gpt2"]
    enc = load_encoder(args.out, arch)
    with open(os.path.join(args.out, "tokenizer.json")) as fh:
        assert enc.vocab == json.load(fh)["model"]["vocab"], "tokenizer.json's vocab differs from the encoder's"
    cfg, w = gpt2_ref.load_model(args.out)
    model = load_model(args.out, arch)

    worst, cases = 0.0, []
    for prompt in PROMPTS:
        ids = enc.encode(prompt)
        ref, _ = gpt2_ref.forward(cfg, w, [ids])  # [1, T, V] float64
        with torch.no_grad():
            got = model(torch.tensor([ids])).double().numpy()  # [1, T, V]
        worst = max(worst, float(np.abs(ref - got).max()))
        last = ref[0, -1]
        top = np.argsort(-last, kind="stable")[:TOP]
        cases.append({"prompt": prompt, "ids": ids, "top": [{"id": int(i), "logit": float(last[i])} for i in top],
                      "logits_last": [round(float(v), 6) for v in last]})
    print(f"numpy gpt2_ref vs torch trainer, {len(PROMPTS)} prompts, every position: max |Δlogit| = {worst:.2e}")
    assert worst < 1e-4, "the trainer's model and the reference disagree"
    if args.write_goldens:
        source = os.path.relpath(args.out, REPO)
        golden = {"made_by": "scripts/tiny-facts/check_opinions_ref.py (numpy gpt2_ref, float64)", "source": source, "cases": cases}
        write(os.path.join(REPO, "test/fixtures/tiny-facts-opinions/golden.json"), golden)


if __name__ == "__main__":
    main()
