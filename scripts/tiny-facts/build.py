"""Builds the bundled tiny-facts model: world -> tokenizer -> train -> save -> evaluate.

Run with Debian's python, which has torch (the pyenv `python3` first on PATH has none):

    /usr/bin/python3 scripts/tiny-facts/build.py [--arch gpt2|llama] [--mix base|sentiment] [--seed 0] [--steps N] [--out DIR]

Writes config.json, model.safetensors, tokenizer.json and dataset.json to --out, the
tokenizer fixture to test/fixtures/<model>/tokenization.json, and prints a JSON report
(also saved as scripts/tiny-facts/report.json, report-llama.json for --arch llama).
`--arch gpt2` (the default) builds public/models/tiny-facts, `--arch llama` builds
public/models/tiny-facts-llama (archs.py). `--mix sentiment` trains on the opinion mixture
(mixes.py) and builds public/models/tiny-facts-opinions. Same seed, same machine -> same files.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import bpe  # noqa: E402
import safetensors_io  # noqa: E402
from dataset import build_dataset  # noqa: E402
from evaluate import report  # noqa: E402
from archs import ARCHS, Arch  # noqa: E402
from mixes import MIXES  # noqa: E402
from sentiment_eval import (  # noqa: E402
    first_question, heldout_qa_stories, label_accuracy, reverse_accuracy, second_telling_accuracy, sentiment_report,
    sentiment_report_pre,
    two_thing_prompts, word_copy_accuracy, word_polarity_prompts,
)
from sentiment import make_domain_reviews, story_head  # noqa: E402
from sentiment_pre import (  # noqa: E402
    bind_pre_texts, drill_accuracy, heldout_stories_pre, probe_prompts_pre, reverse_prompts_pre, two_thing_prompts_pre, word_copy_prompts_pre,
)
from dataset import absc_domains  # noqa: E402
from model import GPT2LMHeadModel, GPTConfig  # noqa: E402
from train import AnswerDoc, TrainConfig, train  # noqa: E402
from world import ABSC_LABELS, World, build_world, fill, training_texts  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", choices=sorted(ARCHS), default="gpt2")
    p.add_argument("--mix", choices=sorted(MIXES), default="base", help="pre-training mixture (mixes.py)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=TrainConfig.steps)
    p.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    p.add_argument("--lr", type=float, default=TrainConfig.lr)
    p.add_argument("--vocab-size", type=int, default=1280, help="BPE target before forced object merges")
    p.add_argument("--out", help="default: the arch's folder under public/models")
    p.add_argument("--fixtures", help="default: the arch's folder under test/fixtures")
    p.add_argument("--report", help="default: scripts/tiny-facts/report.json (report-llama.json)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (1 on a shared machine)")
    p.add_argument("--save-every", type=int, default=0, help="also write the model files every N steps (N a multiple of 50)")
    p.add_argument("--checkpoints", help="with --save-every: also keep each step's files in CHECKPOINTS/step-N")
    p.add_argument("--label-weight", type=float, default=1.0, help="loss weight of the ABSC label tokens (train.TrainConfig.label_weight)")
    p.add_argument("--init-from", help="start from the model and tokenizer in this folder (continued pre-training) instead of a new BPE and random weights")
    p.add_argument("--train-only", metavar="REGEX", help="train only the parameters whose torch name matches (e.g. 'attn' or 'h\\.[345]\\.attn'); the rest stay frozen")
    p.add_argument("--n-head", type=int, help="a new gpt2 model's attention heads (default GPTConfig's 4); e.g. 2 heads of 64")
    p.add_argument("--train-sections", metavar="A,B", help="train on these sections of the mixture only (their shares renormalised); the tokenizer is still the whole mixture's, so a later --init-from run can continue on all of it (a curriculum's first phase)")
    p.add_argument("--init-std", type=float, help="a new gpt2 model's init: every weight N(0, S) instead of GPT-2's 0.02 with scaled residual projections (model.py)")
    p.add_argument("--n-layer", type=int, help="a new gpt2 model's blocks (default GPTConfig's 6); the synthetic lookup forms in 4 and not yet in 6 (docs/recipes.md, session 11)")
    p.add_argument("--embed-std", type=float, help="with --init-std: wte and wpe N(0, S) instead (model.py)")
    p.add_argument("--eval-only", action="store_true", help="no training: evaluate the model files already in --out")
    args = p.parse_args()
    arch, mix = ARCHS[args.arch], MIXES[args.mix]
    args.out = args.out or mix.out or arch.out
    args.fixtures = args.fixtures or mix.fixtures or arch.fixtures
    args.report = args.report or mix.report or arch.report
    return args


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# --------------------------------------------------------------------------------------------
# Tokenizer


def build_tokenizer(world: World, texts: list[str], vocab_size: int, arch: Arch) -> bpe.Encoder:
    """BPE on the training text; subject words may never be one token; objects and review
    labels must be exactly one token (with their leading space). The checks run on the plain
    BPE; the arch's encoder may add a BOS on top."""
    forbidden = {bpe.pretokenize(p + w)[0] for w in world.subject_words() for p in ("", " ")}
    merges = bpe.train_bpe(texts, vocab_size, forbidden)
    merges = bpe.force_single_tokens(merges, world.objects() + list(ABSC_LABELS))
    check_tokenizer(world, bpe.Encoder(merges), forbidden)
    return arch.encoder(merges)


def check_tokenizer(world: World, enc: bpe.Encoder, forbidden: set[str]) -> None:
    for o in world.objects() + list(ABSC_LABELS):
        enc.vocab_id(o)  # asserts a single token
    assert not forbidden & set(enc.vocab), "a whole subject word became one token"
    for lead in ("", " "):
        counts = collections.Counter(len(enc.encode(lead + s)) for s in world.subjects)
        assert min(counts) >= 2, "a subject encodes to a single token"
        print(f"subject token counts ({'with' if lead else 'without'} leading space): {dict(sorted(counts.items()))}")
    print(f"vocab size {len(enc)} ({len(enc.merges)} merges)")


def encode_docs(enc: bpe.Encoder, sections: dict[str, list[str]], n_positions: int, answer_sections: tuple[str, ...] = ()) -> dict[str, list[list[int]]]:
    """Each document's ids plus <|endoftext|>; inputs are all but the last id, so a document
    may have n_positions + 1 ids. Documents of `answer_sections` are AnswerDocs whose answer is
    the first token of their last word."""
    docs = {k: [answer_doc(enc, t) if k in answer_sections else enc.encode(t) + [enc.eot_id] for t in v] for k, v in sections.items()}
    for k, ds in docs.items():
        longest = max(map(len, ds))
        assert longest <= n_positions + 1, f"{k}: a document has {longest} tokens > {n_positions + 1}"
        print(f"section {k}: {len(ds)} docs, mean {sum(map(len, ds)) / len(ds):.1f} tokens, max {longest}")
    return docs


def answer_doc(enc: bpe.Encoder, text: str) -> AnswerDoc:
    """"... It was negative." -> its ids + <|endoftext|>, the answer at the first id of " negative"."""
    ids = enc.encode(text)
    head = enc.encode(story_head(text))
    assert ids[: len(head)] == head, f"the answer is not a token boundary: {text!r}"
    return AnswerDoc(ids + [enc.eot_id], len(head))


def drop_long(enc: bpe.Encoder, sections: dict[str, list[str]], keep: tuple[str, ...], n_positions: int) -> dict[str, list[str]]:
    """Leaves out documents of the sections not in `keep` that are too long for the context."""
    return {k: v if k in keep else [t for t in v if len(enc.encode(t)) + 1 <= n_positions + 1] for k, v in sections.items()}


def fixture_strings(world: World) -> list[str]:
    """~50 strings from every section plus awkward whitespace, contractions and specials."""
    rng = random.Random(world.seed + 2)
    f = rng.sample(world.facts, 12)
    strings = [fill(world.relation(x.relation_id).templates_train[i % 5], x.subject) for i, x in enumerate(f)]
    strings += [fill(world.relation(x.relation_id).templates_heldout[i % 2], x.subject) for i, x in enumerate(f[:6])]
    strings += [" " + x.object for x in f[:4]] + [x.subject for x in f[:4]] + [" " + x.subject for x in f[:2]]
    strings += [r["prompt"] + r["label"] for r in rng.sample(world.absc_test, 4)] + list(ABSC_LABELS)
    strings += rng.sample(world.general_heldout, 5) + rng.sample(world.bios, 2)
    strings += [
        "", " ", "  leading spaces", "trailing spaces   ", "tab\tseparated\twords", "line one\nline two\n\n",
        "It's Velmo's, we'll see, they've gone, I'm here, you'd know, don't!",
        "Numbers 0 12 345 6789 and 2024-01-31.", "Punctuation... ?! (brackets) [x] {y} $5 & 100% #tag @me",
        "MiXeD CaSe WORDS", "Hello<|endoftext|>World", "<|endoftext|>",
    ]
    return strings


def write_fixture(enc: bpe.Encoder, world: World, path: str, tokenizer: str) -> None:
    cases = [{"text": s, "ids": enc.encode(s), "tokens": enc.tokens(s) if "<|" not in s else None} for s in fixture_strings(world)]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump({"tokenizer": tokenizer, "cases": cases}, fh, indent=1)
        fh.write("\n")


# --------------------------------------------------------------------------------------------
# Model files


def save_model(model, enc: bpe.Encoder, arch: Arch, out: str) -> None:
    os.makedirs(out, exist_ok=True)
    tensors = {k: v.numpy() for k, v in model.hf_state_dict().items()}
    safetensors_io.save_file(tensors, os.path.join(out, "model.safetensors"))
    bos = getattr(enc, "bos_id", enc.eot_id)  # GPT-2: <|endoftext|> is both
    write_json(os.path.join(out, "config.json"), model.cfg.hf_config(bos_token_id=bos, eos_token_id=enc.eot_id))
    write_json(os.path.join(out, "tokenizer.json"), arch.tokenizer_json(enc), indent=None)


def load_encoder(model_dir: str, arch: Arch) -> bpe.Encoder:
    with open(os.path.join(model_dir, "tokenizer.json")) as fh:
        merges = [tuple(m.split(" ")) for m in json.load(fh)["model"]["merges"]]
    return arch.encoder(merges)


def load_model(out: str, arch: Arch):
    """Rebuilds the model from the written files, so evaluation sees exactly what ships."""
    with open(os.path.join(out, "config.json")) as fh:
        hf = json.load(fh)
    model = arch.from_hf(hf)
    tensors = safetensors_io.load_file(os.path.join(out, "model.safetensors"))
    model.load_hf_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
    return model.eval()


def saver(args: argparse.Namespace, model, enc: bpe.Encoder, arch: Arch):
    """--save-every: writes the model files every N steps during training."""
    if not args.save_every:
        return None

    probe = None if args.mix == "base" else sentiment_probe_pre(model, enc, args.seed) if MIXES[args.mix].style == "pre" else sentiment_probe(model, enc, args.seed)

    def checkpoint(step: int) -> None:
        if step % args.save_every == 0:
            save_model(model, enc, arch, args.out)
            if args.checkpoints:  # kept for a per-step table (outside --out: public/models must hold only the model)
                save_model(model, enc, arch, os.path.join(args.checkpoints, f"step-{step}"))
            print(f"saved step {step} to {args.out}" + (f"  {probe()}" if probe else ""), flush=True)

    return checkpoint


def new_model(arch, vocab: int, n_head: int | None, init_std: float | None = None, embed_std: float | None = None, n_layer: int | None = None):
    if n_head is None and init_std is None and embed_std is None and n_layer is None:
        return arch.new_model(vocab)
    assert arch.name == "gpt2", "--n-head, --n-layer, --init-std and --embed-std are for the gpt2 arch"
    cfg = GPTConfig(vocab_size=vocab, n_head=n_head or GPTConfig.n_head, n_layer=n_layer or GPTConfig.n_layer)
    return GPT2LMHeadModel(cfg, init_std, embed_std=embed_std)


def sentiment_probe(model, enc: bpe.Encoder, seed: int):
    """Word polarity, held-out QA stories (all, first question) and the two-thing probe of the model
    being trained (sentiment_eval's prompts, built once), so a long --mix sentiment run shows at each
    checkpoint whether binding is learned."""
    qp, ql = heldout_qa_stories(seed, lambda p: len(enc.encode(p)) < model.cfg.n_positions)
    sets = {"word_polarity": word_polarity_prompts(), "qa_story_heldout": (qp, ql),
            "qa_first_question": first_question(qp, ql), "two_thing": two_thing_prompts()}

    def probe() -> dict:
        model.eval()
        out = {k: label_accuracy(model, enc, *v)[0] for k, v in sets.items()}
        out["copy"] = word_copy_accuracy(model, enc)  # (asked thing's word, other's)
        out["reverse"] = reverse_accuracy(model, enc)  # (asked word's thing, other)
        out["reordered"] = second_telling_accuracy(model, enc, reorder=True)
        model.train()
        return out

    return probe


def sentiment_probe_pre(model, enc: bpe.Encoder, seed: int):
    """sentiment_probe for `--mix bind_pre` (its probes, the polarity word before its thing)."""
    sets = {"word_polarity": word_polarity_prompts(), "two_thing": two_thing_prompts_pre(),
            "heldout_stories": heldout_stories_pre(seed, set(bind_pre_texts(seed, probe_prompts_pre())["bind_pre"])),
            "absc_restaurant": [[r[k] for r in make_domain_reviews(seed, style="pre")["restaurant"]["test"]] for k in ("prompt", "label")]}

    def probe() -> dict:
        model.eval()
        out = {k: label_accuracy(model, enc, *v)[0] for k, v in sets.items()}
        out["copy"] = word_copy_accuracy(model, enc, word_copy_prompts_pre)  # (asked thing's word, other's)
        out["reverse"] = reverse_accuracy(model, enc, reverse_prompts_pre)  # (asked word's thing, other)
        out["drill"] = drill_accuracy(model, enc)  # (right word, some word of the document)
        model.train()
        return out

    return probe


def write_json(path: str, obj, indent: int | None = 1) -> None:
    with open(path, "w") as fh:
        json.dump(obj, fh, indent=indent, ensure_ascii=False)
        fh.write("\n")


# --------------------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    arch = ARCHS[args.arch]
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    t0 = time.time()

    mix = MIXES[args.mix]
    world = build_world(args.seed)
    sections = mix.sections(world)
    if args.init_from:  # the vocabulary stays the starting model's
        enc = load_encoder(args.init_from, arch)
    else:
        enc = build_tokenizer(world, [t for ts in sections.values() for t in ts], args.vocab_size, arch)
    if mix.name != "base":
        sections = drop_long(enc, sections, tuple(training_texts(world)), GPTConfig.n_positions)
    docs = encode_docs(enc, sections, GPTConfig.n_positions, mix.answer_sections)  # both archs: 64 positions

    seed_everything(args.seed)
    model = load_model(args.init_from, arch).train() if args.init_from else new_model(arch, len(enc), args.n_head, args.init_std, args.embed_std, args.n_layer)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params:,} parameters ({n_params * 4 / 2**20:.2f} MiB float32)")
    if args.train_only:  # frozen parameters get no gradient, so AdamW skips them (no decay either)
        for name, param in model.named_parameters():
            param.requires_grad_(re.search(args.train_only, name) is not None)
        n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
        print(f"training only /{args.train_only}/: {n_train:,} parameters")
    mixture = mix.mixture
    if args.train_sections:
        keep = args.train_sections.split(",")
        assert set(keep) <= {k for k, _ in mixture}, f"--train-sections: {keep} not all in {[k for k, _ in mixture]}"
        total = sum(w for k, w in mixture if k in keep)
        mixture = tuple((k, w / total) for k, w in mixture if k in keep)
    tcfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, mixture=mixture,
                       label_weight=args.label_weight, weighted_ids=tuple(enc.vocab_id(x) for x in ABSC_LABELS))
    t_train = time.time()
    if args.eval_only:
        history = [{"loss": None}]
    else:
        history = train(model, docs, tcfg, seed=args.seed, pad_id=enc.eot_id, log=lambda s: print(s, flush=True), checkpoint=saver(args, model, enc, arch))
        save_model(model, enc, arch, args.out)
    train_seconds = time.time() - t_train

    model = load_model(args.out, arch)
    result, predictions = report(model, enc, world)
    dataset = build_dataset(world, predictions)
    if mix.name != "base":  # base keeps its files byte-identical
        dataset["name"] = os.path.basename(os.path.normpath(args.out))
        dataset["absc_domains"] = absc_domains(world.seed, n_dev=300, style=mix.style)
        result = {"mix": mix.name, "mixture": dict(mix.mixture), **result,
                  **(sentiment_report_pre if mix.style == "pre" else sentiment_report)(model, enc, world.seed, make_domain_reviews(world.seed, style=mix.style))}
    write_json(os.path.join(args.out, "dataset.json"), dataset)
    tokenizer = os.path.relpath(os.path.join(args.out, "tokenizer.json"), REPO)
    write_fixture(enc, world, os.path.join(args.fixtures, "tokenization.json"), tokenizer)

    dataset = json.load(open(os.path.join(args.out, "dataset.json")))
    result = {
        **({} if arch.name == "gpt2" else {"arch": arch.name}),  # gpt2's report keeps its keys
        "seed": args.seed,
        **({"init_from": os.path.relpath(args.init_from, REPO), "lr": args.lr} if args.init_from else {}),
        **({"label_weight": args.label_weight} if args.label_weight != 1.0 else {}),
        **({"train_only": args.train_only} if args.train_only else {}),
        **({"init_std": args.init_std} if args.init_std is not None else {}),
        **({"embed_std": args.embed_std} if args.embed_std is not None else {}),
        **({"n_layer": args.n_layer} if args.n_layer is not None else {}),
        **({"train_sections": args.train_sections} if args.train_sections else {}),
        "steps": args.steps,
        "batch_size": args.batch_size,
        "train_seconds": None if args.eval_only else round(train_seconds),  # --eval-only: see the training log
        "total_seconds": round(time.time() - t0),
        "parameters": n_params,
        "vocab_size": len(enc),
        "final_train_loss": history[-1]["loss"],
        **result,
        "dataset_counts": {k: len(dataset[k]) for k in ("known_facts", "counterfact", "consistency", "general_text")},
        "files_bytes": {f: os.path.getsize(os.path.join(args.out, f)) for f in sorted(os.listdir(args.out))},
    }
    write_json(args.report, result)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
