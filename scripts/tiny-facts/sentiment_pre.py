"""Opinion text with the polarity word before its thing ("the awful soup, the lovely song"), the
reviews in that order, and the probes that measure binding in it (build.py --mix bind_pre).

Why (session 10): with the word after its thing ("the soup was awful"), naming a thing's word needs
the thing's identity moved two positions on to the word (thing, copula, word) before any lookup can
match on it; eleven trainings (sessions 6-10) never learned that (docs/recipes.md, ABSC). With the
word first, the lookup is the induction pattern a small transformer learns readily: a previous-token
head writes the word into its thing's position, and a head at the question matches the asked thing
token for token and reads the word from there. The task is the same (find the asked aspect in the
review, judge the word that goes with it); only the word order of the synthetic language changes.
"""

from __future__ import annotations

import random

from sentiment import LABEL_QUESTIONS, STORY_THINGS, _opinion_words, story_head
from sentiment_eval import copy_probe, first_token, reverse_probe
from world import CONJUNCTIONS, PLACES, POLARITY_WORDS, mixed_polarities

OPENERS = ("At the {place}, we had ", "In the {time}, they had ", "We had ", "They served ", "There was ")
COPY_QUESTIONS_PRE = (
    "They called the {t} {word}.",
    "In short, the {t} was {word}.",
    "Of the {t} they said it was {word}.",
    "The {t}? In a word, {word}.",
)
REVERSE_QUESTIONS_PRE = (
    "What was {word}? The {t}.",
    "Which one was {word}? The {t}.",
)


def body_pre(rng: random.Random, things: list[str], words: list[str]) -> str:
    """"the awful soup, the lovely song and the okay wine" (2 or 3 things)."""
    parts = [f"the {w} {t}" for t, w in zip(things, words)]
    if len(parts) == 3:
        return f"{parts[0]}, {parts[1]} {rng.choice(CONJUNCTIONS[:2])} {parts[2]}"
    return f" {rng.choice(CONJUNCTIONS[:2])} ".join(parts)


def _opener(rng: random.Random, things: list[str]) -> str:
    places = [p for p in PLACES if p not in things]  # "At the garden, we had the awful garden" would name it twice
    return rng.choice(OPENERS).format(place=rng.choice(places), time=rng.choice(("morning", "evening", "summer", "winter")))


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


def _distinct_words(rng: random.Random, n: int) -> list[tuple[str, str]]:
    while True:
        pairs = _opinion_words(rng, n)
        if len({w for _, w in pairs}) == n:
            return pairs


def make_bind_story_pre(rng: random.Random, copy_share: float = 0.5) -> str:
    """2-3 things after their polarity words, one question about one of them; the answer (its word
    with probability `copy_share`, else its label) is the story's last word."""
    n = rng.choice((2, 3, 3))
    things = rng.sample(STORY_THINGS, n)
    pairs = _distinct_words(rng, n)
    q = rng.randrange(n)
    label, word = pairs[q]
    frame = rng.choice(COPY_QUESTIONS_PRE) if rng.random() < copy_share else rng.choice(LABEL_QUESTIONS)
    body = body_pre(rng, things, [w for _, w in pairs])
    return _cap(f"{_opener(rng, things)}{body}. {frame.format(t=things[q], label=label, word=word)}")


def make_reverse_story_pre(rng: random.Random) -> str:
    """The same body, asked by word and answered by the thing ("What was lovely? The song.")."""
    n = rng.choice((2, 3, 3))
    things = rng.sample(STORY_THINGS, n)
    pairs = _distinct_words(rng, n)
    q = rng.randrange(n)
    body = body_pre(rng, things, [w for _, w in pairs])
    return _cap(f"{_opener(rng, things)}{body}. {rng.choice(REVERSE_QUESTIONS_PRE).format(word=pairs[q][1], t=things[q])}")


def bind_pre_texts(seed: int, held_out: set[str], n_stories: int = 40000, n_reverse: int = 30000) -> dict[str, list[str]]:
    """The `bind_pre` and `reverse_pre` sections (own rng streams, distinct documents), leaving out
    every story whose text before its answer is a held-out probe prompt."""
    rng = random.Random(seed + 909)
    stories = (make_bind_story_pre(rng) for _ in range(n_stories))
    rng_r = random.Random(seed + 910)
    reverse = (make_reverse_story_pre(rng_r) for _ in range(n_reverse))
    return {"bind_pre": list(dict.fromkeys(s for s in stories if story_head(s) not in held_out)),
            "reverse_pre": list(dict.fromkeys(s for s in reverse if story_head(s) not in held_out))}


def make_repeat_story_pre(rng: random.Random) -> str:
    """A body told twice, the second time in another order ("We had the awful soup and the lovely
    song. Again: the lovely song and the awful soup."): each thing of the second telling is
    predictable from the word before it only by finding that word in the first, which trains the
    previous-token head (the word written into its thing's position) that binding reads."""
    n = rng.choice((2, 3, 3, 4))
    things = rng.sample(STORY_THINGS, n)
    words = [w for _, w in _distinct_words(rng, n)]
    order = list(range(n))
    while order == list(range(n)):
        rng.shuffle(order)
    first = ", ".join(f"the {w} {t}" for t, w in zip(things, words))
    second = ", ".join(f"the {words[i]} {things[i]}" for i in order)
    return _cap(f"{_opener(rng, things)}{first}. {rng.choice(('Once more', 'Again', 'To repeat'))}: {second}.")


def repeat_pre_texts(seed: int, n_stories: int = 30000) -> dict[str, list[str]]:
    """The `repeat_pre` section (own rng stream, distinct documents)."""
    rng = random.Random(seed + 912)
    return {"repeat_pre": list(dict.fromkeys(make_repeat_story_pre(rng) for _ in range(n_stories)))}


def copy_pre_texts(seed: int, n_stories: int = 40000) -> dict[str, list[str]]:
    """The `copy_pre` section: only copy questions ("... They called the song lovely."), the pure
    lookup, for the diagnostic `--mix copy_pre` (can this model and trainer learn it at all?)."""
    rng = random.Random(seed + 913)
    held_out = probe_prompts_pre()
    stories = (make_bind_story_pre(rng, copy_share=1.0) for _ in range(n_stories))
    return {"copy_pre": list(dict.fromkeys(s for s in stories if story_head(s) not in held_out))}


def make_drill_pre(rng: random.Random, things_pool: tuple[str, ...] = STORY_THINGS) -> str:
    """Many lookups in one document: 4-7 things after their words, then each thing again in another
    order followed by its word ("... the awful soup, the lovely song, ... In pairs: song lovely, soup
    awful, ..."). Every word of the second part is predicted at its thing's token by the same-token
    match (session 10: a one-question story gives one lookup per document, 64 a batch, and the
    lookup did not form in 1,500 steps of nothing else; this gives 4-7 per document)."""
    n = rng.randint(4, 7)
    things = rng.sample(things_pool, n)
    words = [w for _, w in _distinct_words(rng, n)]
    order = rng.sample(range(n), n)
    first = ", ".join(f"the {w} {t}" for t, w in zip(things, words))
    pairs = ", ".join(f"{things[i]} {words[i]}" for i in order)
    return _cap(f"{_opener(rng, things)}{first}. In pairs: {pairs}.")


# 12 things instead of 42, for the diagnostic `--mix drill_pre_12` (fewer items to tell apart)
DRILL_THINGS_12 = STORY_THINGS[:12]


def drill_pre_texts(seed: int, n_docs: int = 30000, things_pool: tuple[str, ...] = STORY_THINGS) -> dict[str, list[str]]:
    """The `drill_pre` section (own rng stream, distinct documents)."""
    rng = random.Random(seed + 914)
    return {"drill_pre": list(dict.fromkeys(make_drill_pre(rng, things_pool) for _ in range(n_docs)))}


def drill_accuracy(model, enc, n: int = 100, seed: int = 915, things_pool: tuple[str, ...] = STORY_THINGS) -> tuple[float, float]:
    """(share of the second part's words predicted right, share predicted as some word of the
    document) on `n` fresh drills, argmax among the 24 polarity words' first tokens."""
    import torch

    all_words = [w for ws in POLARITY_WORDS.values() for w in ws]
    word_ids = [first_token(enc, " " + w) for w in all_words]
    rng = random.Random(seed)
    right = some = total = 0
    for _ in range(n):
        text = make_drill_pre(rng, things_pool)
        ids = enc.encode(text)
        if len(ids) > model.cfg.n_positions:  # a tokenizer that never saw some of these words
            continue
        cut = len(enc.encode(text.split(" In pairs:")[0]))  # the second part starts after this
        present = {i for i in ids[:cut] if i in word_ids}
        with torch.no_grad():
            logits = model(torch.tensor([ids]))[0]  # [T, V]
        for p in range(cut, len(ids)):
            if ids[p] in word_ids:
                guess = word_ids[int(logits[p - 1, word_ids].argmax())]
                right += guess == ids[p]
                some += guess in present
                total += 1
    return round(right / total, 4), round(some / total, 4)


def make_review_pre(rng: random.Random, pool: tuple[str, ...]) -> dict:
    """world.make_review with each polarity word before its aspect:
    "Review: the awful wine, the lovely coffee and the okay music. Sentiment of coffee:"."""
    n = rng.choice((2, 2, 3))
    aspects = rng.sample(pool, n)
    polarities = mixed_polarities(rng, n)
    words = [rng.choice(POLARITY_WORDS[p]) for p in polarities]
    sentence = f"Review: {body_pre(rng, aspects, words)}."
    q = rng.randrange(n)
    return {"sentence": sentence, "aspect": aspects[q], "prompt": f"{sentence} Sentiment of {aspects[q]}:",
            "label": " " + polarities[q]}


# --------------------------------------------------------------------------------------------
# Probes (sentiment_eval's, in this word order)


def two_thing_prompts_pre(n: int = 300, seed: int = 7) -> tuple[list[str], list[str]]:
    """"The awful soup and the lovely garden. How was the garden? It was": two things with words of
    different polarity, either asked; only binding decides."""
    rng = random.Random(seed)
    prompts, labels = [], []
    things = sorted(set(STORY_THINGS))
    while len(prompts) < n:
        a, b = rng.sample(things, 2)
        (la, wa), (lb, wb) = _distinct_words(rng, 2)
        if la == lb:
            continue
        thing, label = rng.choice(((a, la), (b, lb)))
        prompts.append(f"The {wa} {a} and the {wb} {b}. How was the {thing}? It was")
        labels.append(" " + label)
    return prompts, labels


def heldout_stories_pre(seed: int, trained: set[str], n: int = 300) -> tuple[list[str], list[str]]:
    """Fresh one-question stories with a label answer (own rng stream) not in training, cut before
    the label: the first-question measure of this word order (one question, no elimination)."""
    rng = random.Random(seed + 911)
    prompts, labels = [], []
    while len(prompts) < n:
        s = make_bind_story_pre(rng, copy_share=0.0)
        head, label = s[:-1].rsplit(" ", 1)
        if s not in trained and head not in prompts:
            prompts.append(head)
            labels.append(" " + label)
    return prompts, labels


def _two_thing_cases_pre(n: int, seed: int) -> list[tuple[str, str, str, str, bool]]:
    """`n` seeded (thing a, its word, thing b, its word, whether a is the one asked)."""
    rng = random.Random(seed)
    things = sorted(set(STORY_THINGS))
    out = []
    for _ in range(n):
        a, b = rng.sample(things, 2)
        (_, wa), (_, wb) = _distinct_words(rng, 2)
        out.append((a, wa, b, wb, rng.choice((True, False))))
    return out


def _body_pre(a: str, wa: str, b: str, wb: str) -> str:
    return f"The {wa} {a} and the {wb} {b}."


def word_copy_prompts_pre(n: int = 200, seed: int = 11) -> tuple[list[str], list[str], list[str]]:
    """"The awful soup and the lovely song. They called the song": (prompts, asked word, other word)."""
    return copy_probe(_two_thing_cases_pre(n, seed), _body_pre)


def reverse_prompts_pre(n: int = 200, seed: int = 13) -> tuple[list[str], list[str], list[str]]:
    """"The awful soup and the lovely song. What was lovely? The": (prompts, asked thing, other thing)."""
    return reverse_probe(_two_thing_cases_pre(n, seed), _body_pre)


def probe_prompts_pre() -> set[str]:
    """Every probe prompt, kept out of training."""
    return (set(two_thing_prompts_pre()[0]) | set(word_copy_prompts_pre()[0]) | set(reverse_prompts_pre()[0]))
