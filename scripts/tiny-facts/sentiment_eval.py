"""What the model knows about sentiment: word polarity, opinion binding, the two review domains.

All top-1 at the prompt's last position among the three labels (' positive', ' negative',
' neutral'), the way the ABSC edit is scored; `absc_*_top1_vocab` is top-1 over the whole
vocabulary (does the model even answer with a label?).
"""

from __future__ import annotations

import random

from evaluate import last_logits
from sentiment import OPINION_THINGS, STORY_THINGS, make_opinion_story, make_opinion_story_qa, make_repeat_story, opinion_qa_texts
from world import ABSC_LABELS, POLARITY_WORDS


def first_token(enc, text: str) -> int:
    """The first token of `text` as a continuation (after the BOS that the llama arch's encoder puts first)."""
    ids = enc.encode(text)
    return ids[1] if ids[0] == getattr(enc, "bos_id", None) else ids[0]


def label_accuracy(model, enc, prompts: list[str], labels: list[str]) -> tuple[float, float]:
    """(accuracy among the three labels, accuracy over the whole vocabulary)."""
    ids = [enc.vocab_id(lab) for lab in ABSC_LABELS]
    logits = last_logits(model, enc, prompts)  # [N, V]
    among = logits[:, ids].argmax(-1).tolist()
    full = logits.argmax(-1).tolist()
    n = len(prompts)
    a = sum(ABSC_LABELS[k] == y for k, y in zip(among, labels)) / n
    f = sum(enc.id_to_token[k] == y.replace(" ", "\u0120") for k, y in zip(full, labels)) / n
    return round(a, 4), round(f, 4)


def word_polarity_prompts() -> tuple[list[str], list[str]]:
    """Each polarity word in a frame that is in neither the lexicon patterns nor the reviews."""
    prompts, labels = [], []
    for label, words in POLARITY_WORDS.items():
        for w in words:
            prompts.append(f"Someone said it was {w}. The feeling was")
            labels.append(" " + label)
    return prompts, labels


def heldout_stories(seed: int, n: int = 300) -> tuple[list[str], list[str]]:
    """Fresh opinion stories (another rng stream), cut before the answer."""
    rng = random.Random(seed + 303)
    prompts, labels = [], []
    for _ in range(n):
        s = make_opinion_story(rng)
        head, label = s[:-1].rsplit(" ", 1)
        prompts.append(head)
        labels.append(" " + label)
    return prompts, labels


def heldout_qa_stories(seed: int, fits, n: int = 300) -> tuple[list[str], list[str]]:
    """Fresh question-answer stories (sentiment.make_opinion_story_qa, another rng stream) that end
    with a label, are not among tiny-facts-opinions' training stories and `fits(prompt)` (the
    context), cut before that label."""
    rng = random.Random(seed + 505)
    trained = set(opinion_qa_texts(seed)["opinions"])
    prompts, labels = [], []
    while len(prompts) < n:
        s = make_opinion_story_qa(rng)
        head, label = s[:-1].rsplit(" ", 1)
        if " " + label in ABSC_LABELS and s not in trained and head not in prompts and fits(head):
            prompts.append(head)
            labels.append(" " + label)
    return prompts, labels


def first_question(prompts: list[str], labels: list[str]) -> tuple[list[str], list[str]]:
    """The held-out QA stories whose cut question is the story's first (no answered question before
    it): a later question can be answered by elimination (the labels of a story differ, and earlier
    answers name some of them), the first only by binding the asked thing to its word."""
    keep = [(p, y) for p, y in zip(prompts, labels) if len(p.split(". ")) == 2]
    return [p for p, _ in keep], [y for _, y in keep]


def two_thing_prompts(n: int = 300, seed: int = 7) -> tuple[list[str], list[str]]:
    """"The soup was awful but the song was lovely. How was the song? It was": two things with
    words of different polarity, the first or the second asked (binding, nothing else decides)."""
    rng = random.Random(seed)
    prompts, labels = [], []
    for _ in range(n):
        a, b = rng.sample(sorted(set(OPINION_THINGS)), 2)  # OPINION_THINGS has "bread" twice
        la, lb = rng.sample(list(POLARITY_WORDS), 2)
        wa, wb = rng.choice(POLARITY_WORDS[la]), rng.choice(POLARITY_WORDS[lb])
        thing, label = rng.choice(((a, la), (b, lb)))
        prompts.append(f"The {a} was {wa} but the {b} was {wb}. How was the {thing}? It was")
        labels.append(" " + label)
    return prompts, labels


def two_thing_cases(n: int, seed: int) -> list[tuple[str, str, str, str, bool]]:
    """`n` seeded (thing a, its word, thing b, its word, whether a is the one asked): two distinct
    things and two distinct polarity words, for the copy and reverse probes."""
    rng = random.Random(seed)
    words = [w for ws in POLARITY_WORDS.values() for w in ws]
    out = []
    for _ in range(n):
        a, b = rng.sample(sorted(set(OPINION_THINGS)), 2)
        wa, wb = rng.sample(words, 2)
        out.append((a, wa, b, wb, rng.choice((True, False))))
    return out


def copy_probe(cases, body) -> tuple[list[str], list[str], list[str]]:
    """(prompts "{body} They called the {asked thing}", the asked thing's word, the other's) for
    two_thing_cases-style cases; `body(a, wa, b, wb)` tells the two things in one word order."""
    prompts, right, other = [], [], []
    for a, wa, b, wb, first in cases:
        thing, w, o = (a, wa, wb) if first else (b, wb, wa)
        prompts.append(f"{body(a, wa, b, wb)} They called the {thing}")
        right.append(w)
        other.append(o)
    return prompts, right, other


def reverse_probe(cases, body) -> tuple[list[str], list[str], list[str]]:
    """(prompts "{body} What was {asked word}? The", the asked word's thing, the other thing)."""
    prompts, right, other = [], [], []
    for a, wa, b, wb, first in cases:
        w, thing, o = (wa, a, b) if first else (wb, b, a)
        prompts.append(f"{body(a, wa, b, wb)} What was {w}? The")
        right.append(thing)
        other.append(o)
    return prompts, right, other


def _body_post(a: str, wa: str, b: str, wb: str) -> str:
    return f"The {a} was {wa} but the {b} was {wb}."


def word_copy_prompts(n: int = 200, seed: int = 11) -> tuple[list[str], list[str], list[str]]:
    """"The soup was awful but the song was lovely. They called the song": (prompts, the asked thing's
    word, the other thing's word). The pure lookup, in a trained copy frame: a model that binds copies
    the asked thing's word; one that answers from any word in the text picks either."""
    return copy_probe(two_thing_cases(n, seed), _body_post)


def word_copy_accuracy(model, enc, probe=word_copy_prompts) -> tuple[float, float]:
    """(share copying the asked thing's word, share copying the other thing's word): argmax among
    the 24 polarity words' first tokens (chance 1/24)."""
    prompts, right, other = probe()
    words = [w for ws in POLARITY_WORDS.values() for w in ws]
    ids = [first_token(enc, " " + w) for w in words]
    pred = [words[k] for k in last_logits(model, enc, prompts)[:, ids].argmax(-1).tolist()]  # [N]
    n = len(prompts)
    return round(sum(p == y for p, y in zip(pred, right)) / n, 4), round(sum(p == o for p, o in zip(pred, other)) / n, 4)


def reverse_prompts(n: int = 200, seed: int = 13) -> tuple[list[str], list[str], list[str]]:
    """"The soup was awful but the song was lovely. What was lovely? The": (prompts, the asked
    thing, the other thing). The reverse lookup (word -> its thing) that `--mix bind_reverse`
    trains: it reads the thing's identity at its word's position."""
    return reverse_probe(two_thing_cases(n, seed), _body_post)


def reverse_accuracy(model, enc, probe=None) -> tuple[float, float]:
    """(share naming the asked word's thing, share naming the other thing): argmax among the first
    tokens of the opinion things (chance ~1/40; things sharing a first token count as either)."""
    things = sorted(set(STORY_THINGS))
    ids = [first_token(enc, " " + t) for t in things]
    prompts, right, other = (probe or reverse_prompts)()
    pred = [ids[k] for k in last_logits(model, enc, prompts)[:, ids].argmax(-1).tolist()]  # [N]
    first = lambda t: first_token(enc, " " + t)  # noqa: E731
    n = len(prompts)
    return (round(sum(p == first(y) for p, y in zip(pred, right)) / n, 4),
            round(sum(p == first(o) for p, o in zip(pred, other)) / n, 4))


def second_telling_accuracy(model, enc, reorder: bool, n: int = 150, seed: int = 99) -> float:
    """Share of the polarity words in the second telling of `n` twice-told stories
    (sentiment.make_repeat_story, own seed) that the model predicts, argmax among the 24 words'
    first tokens: the lookup with the whole first telling in view. `reorder`: the second telling
    in another order, so only the thing (not the place in the telling) finds the word."""
    import torch

    words = [w for ws in POLARITY_WORDS.values() for w in ws]
    word_ids = [first_token(enc, " " + w) for w in words]
    rng = random.Random(seed)
    right = total = 0
    for _ in range(n):
        ids = enc.encode(make_repeat_story(rng, reorder))
        at = [i for i, t in enumerate(ids) if t in word_ids]  # both tellings' words
        with torch.no_grad():
            logits = model(torch.tensor([ids]))[0]  # [T, V]
        for p in at[len(at) // 2:]:
            right += word_ids[int(logits[p - 1, word_ids].argmax())] == ids[p]
            total += 1
    return round(right / total, 4)


def sentiment_report_pre(model, enc, seed: int, domains: dict) -> dict:
    """sentiment_report for `--mix bind_pre` (the polarity word before its thing)."""
    from sentiment_pre import (bind_pre_texts, heldout_stories_pre, probe_prompts_pre, reverse_prompts_pre,
                               two_thing_prompts_pre, word_copy_prompts_pre)

    wp, wl = word_polarity_prompts()
    sp, sl = heldout_stories_pre(seed, set(bind_pre_texts(seed, probe_prompts_pre())["bind_pre"]))
    tp, tl = two_thing_prompts_pre()
    out = {"sentiment_word_polarity": label_accuracy(model, enc, wp, wl)[0],
           "heldout_one_question_stories": label_accuracy(model, enc, sp, sl)[0],
           "opinion_two_thing_probe": label_accuracy(model, enc, tp, tl)[0]}
    out["word_copy_asked"], out["word_copy_other"] = word_copy_accuracy(model, enc, word_copy_prompts_pre)
    out["reverse_asked"], out["reverse_other"] = reverse_accuracy(model, enc, reverse_prompts_pre)
    for domain, splits in domains.items():
        rows = splits["test"]
        among, full = label_accuracy(model, enc, [r["prompt"] for r in rows], [r["label"] for r in rows])
        out[f"absc_{domain}_test_top1"] = among
        out[f"absc_{domain}_test_top1_vocab"] = full
    return out


def sentiment_report(model, enc, seed: int, domains: dict) -> dict:
    wp, wl = word_polarity_prompts()
    sp, sl = heldout_stories(seed)
    qp, ql = heldout_qa_stories(seed, lambda p: len(enc.encode(p)) < model.cfg.n_positions)
    fp, fl = first_question(qp, ql)
    tp, tl = two_thing_prompts()
    out = {"sentiment_word_polarity": label_accuracy(model, enc, wp, wl)[0],
           "opinion_story_heldout": label_accuracy(model, enc, sp, sl)[0],
           "opinion_qa_story_heldout": label_accuracy(model, enc, qp, ql)[0],
           "opinion_qa_story_heldout_first_question": label_accuracy(model, enc, fp, fl)[0],
           "opinion_qa_story_heldout_first_question_n": len(fp),
           "opinion_two_thing_probe": label_accuracy(model, enc, tp, tl)[0]}
    out["word_copy_asked"], out["word_copy_other"] = word_copy_accuracy(model, enc)
    out["reverse_asked"], out["reverse_other"] = reverse_accuracy(model, enc)
    out["second_telling"] = second_telling_accuracy(model, enc, reorder=False)
    out["second_telling_reordered"] = second_telling_accuracy(model, enc, reorder=True)
    for domain, splits in domains.items():
        rows = splits["test"]
        among, full = label_accuracy(model, enc, [r["prompt"] for r in rows], [r["label"] for r in rows])
        out[f"absc_{domain}_test_top1"] = among
        out[f"absc_{domain}_test_top1_vocab"] = full
    return out


def main() -> None:
    """`sentiment_eval.py DIR...`: this report for each model folder (e.g. build.py's checkpoints)."""
    import argparse
    import json
    import os

    import torch

    from archs import ARCHS
    from build import load_encoder, load_model
    from sentiment import make_domain_reviews

    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("dirs", nargs="+")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(1)
    for d in args.dirs:
        with open(os.path.join(d, "config.json")) as fh:
            arch = ARCHS["llama" if json.load(fh)["model_type"] == "llama" else "gpt2"]
        model = load_model(d, arch)
        print(json.dumps({"dir": d, **sentiment_report(model, load_encoder(d, arch), args.seed, make_domain_reviews(args.seed))}), flush=True)


if __name__ == "__main__":
    main()
