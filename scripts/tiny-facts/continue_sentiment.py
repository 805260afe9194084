"""Continued pre-training of a built tiny-facts model on opinion text (sentiment.py).

    nice -n 10 /usr/bin/python3 scripts/tiny-facts/continue_sentiment.py \
        --from public/models/tiny-facts --out /tmp/tf-sent [--steps 300] [--batch-size 64]
        [--save-every N] [--threads 2]

Loads the model and tokenizer from --from (the vocabulary stays fixed), trains on the original
sections except the ABSC reviews (facts, bios and general text keep the facts and fluency) plus
the opinion sections, writes the model files to --out and prints the report: the usual
evaluate.py metrics plus sentiment-word knowledge and the two review domains before any edit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from archs import ARCHS  # noqa: E402
from build import encode_docs, load_encoder, load_model, save_model, seed_everything, write_json  # noqa: E402
from sentiment import make_domain_reviews, opinion_texts  # noqa: E402
from sentiment_eval import sentiment_report  # noqa: E402
from train import TrainConfig, train  # noqa: E402
from world import build_world, training_texts  # noqa: E402
from evaluate import report  # noqa: E402

MIXTURE = (("facts", 0.4), ("bios", 0.1), ("general", 0.2), ("lexicon", 0.1), ("opinions", 0.2))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", choices=sorted(ARCHS), default="gpt2")
    p.add_argument("--from", dest="src", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--save-every", type=int, default=0, help="also write the model files every N steps (a multiple of 25)")
    p.add_argument("--mixture", help='documents per batch by section, e.g. "facts=0.4,bios=0.1,general=0.2,lexicon=0.1,opinions=0.2"')
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--report")
    args = p.parse_args()
    arch = ARCHS[args.arch]
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)

    world = build_world(args.seed)
    enc = load_encoder(args.src, arch)
    sections = {k: v for k, v in training_texts(world).items() if k != "absc"}
    sections.update(opinion_texts(args.seed))
    docs = encode_docs(enc, sections, 64)
    model = load_model(args.src, arch).train()
    mixture = tuple((k, float(v)) for k, v in (x.split("=") for x in args.mixture.split(","))) if args.mixture else MIXTURE
    assert {k for k, _ in mixture} <= set(docs), f"--mixture sections must be among {sorted(docs)}"
    cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, warmup=30, mixture=mixture, log_every=25)

    def checkpoint(step: int) -> None:
        if args.save_every and step % args.save_every == 0:
            save_model(model, enc, arch, args.out)
            print(f"saved step {step} to {args.out}", flush=True)

    history = train(model, docs, cfg, seed=args.seed + 5, pad_id=enc.eot_id, log=lambda s: print(s, flush=True), checkpoint=checkpoint)
    save_model(model, enc, arch, args.out)
    model = load_model(args.out, arch)
    result, _ = report(model, enc, world)
    domains = make_domain_reviews(args.seed)
    result = {"continued_from": args.src, "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr, "mixture": dict(mixture),
              "final_train_loss": history[-1]["loss"], **result, **sentiment_report(model, enc, args.seed, domains)}
    write_json(args.report or os.path.join(args.out, "report.json"), result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
