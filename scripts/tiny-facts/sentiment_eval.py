"""What the model knows about sentiment: word polarity, opinion binding, the two review domains.

All top-1 at the prompt's last position among the three labels (' positive', ' negative',
' neutral'), the way the ABSC edit is scored; `absc_*_top1_vocab` is top-1 over the whole
vocabulary (does the model even answer with a label?).
"""

from __future__ import annotations

import random

from evaluate import last_logits
from sentiment import make_opinion_story, make_opinion_story_qa, opinion_qa_texts
from world import ABSC_LABELS, POLARITY_WORDS


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


def sentiment_report(model, enc, seed: int, domains: dict) -> dict:
    wp, wl = word_polarity_prompts()
    sp, sl = heldout_stories(seed)
    qp, ql = heldout_qa_stories(seed, lambda p: len(enc.encode(p)) < model.cfg.n_positions)
    out = {"sentiment_word_polarity": label_accuracy(model, enc, wp, wl)[0],
           "opinion_story_heldout": label_accuracy(model, enc, sp, sl)[0],
           "opinion_qa_story_heldout": label_accuracy(model, enc, qp, ql)[0]}
    for domain, splits in domains.items():
        rows = splits["test"]
        among, full = label_accuracy(model, enc, [r["prompt"] for r in rows], [r["label"] for r in rows])
        out[f"absc_{domain}_test_top1"] = among
        out[f"absc_{domain}_test_top1_vocab"] = full
    return out
