"""Sentiment knowledge for the world: opinion text for pre-training and two review domains.

The reviews in world.py ask "Sentiment of <aspect>:" about one of 2-3 aspects. A small model
trained on those prompts alone stays near chance (it must find the aspect in the review, read the
word after it and know that word's polarity, from one answer token per review). This module adds
what a real LM would bring from pre-training, in other words than the ABSC prompt:

- lexicon sentences: every polarity word used with its polarity spelled out in ordinary text
  ("The baker said the bread was awful, a negative thing to hear.");
- opinion stories: 2-3 everyday things, each with a polarity word, then a question about one of
  them in a different frame than the review prompt ("How was the soup? It was negative").

The review prompt format ("Review: ... Sentiment of food:") is not in this text, so the model
knows the vocabulary's polarity and how to bind a thing to its word, but the ABSC prompt itself
stays weakly learned: that is what an ABSC edit has to unlock.

Two review domains (same prompt format, disjoint aspects) give in-domain and out-of-domain test
splits: an edit trained on restaurant reviews is tested on held-out restaurant reviews and on
hotel reviews. They come from their own rng stream, so adding them moves nothing else in the world.
"""

from __future__ import annotations

import random

from world import ADJECTIVES, ASPECTS, CONJUNCTIONS, NOUNS, PLACES, POLARITY_WORDS, RELATIVES, THINGS, make_review, mixed_polarities

DOMAINS = {
    "restaurant": ("food", "service", "coffee", "wine", "dessert", "music"),
    "hotel": ("room", "view", "location", "decor", "staff", "price"),
}
# Things opinions are about in pre-training: everyday words, none of them a review aspect.
OPINION_THINGS = THINGS + ("bread", "weather", "journey", "garden", "song", "market", "harbour", "lesson", "supper")
COPULAS_OPINION = ("was", "was", "seemed", "felt", "looked")

LEXICON_PATTERNS = (
    "The {noun} said the {thing} was {word}, a {label} thing to hear.",
    "To call the {thing} {word} is to say something {label}.",
    "My {rel} thought the {thing} at the {place} was {word}. That is a {label} opinion.",
    "When a {noun} calls something {word}, the feeling is {label}.",
    "The word {word} is {label}.",
    "Everyone at the {place} felt {label} because the {thing} was {word}.",
)


def _opinion_words(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """`n` (label, word) pairs with at least two different labels."""
    return [(p, rng.choice(POLARITY_WORDS[p])) for p in mixed_polarities(rng, n)]


def make_lexicon_sentence(rng: random.Random) -> str:
    label = rng.choice(list(POLARITY_WORDS))
    text = rng.choice(LEXICON_PATTERNS).format(
        noun=rng.choice(NOUNS), thing=rng.choice(OPINION_THINGS), word=rng.choice(POLARITY_WORDS[label]),
        label=label, rel=rng.choice(RELATIVES), place=rng.choice(PLACES),
    )
    return text[0].upper() + text[1:]


def make_opinion_story(rng: random.Random) -> str:
    """2-3 things with polarity words, then a question about one of them, answered by its label."""
    n = rng.choice((2, 2, 3))
    things = rng.sample(OPINION_THINGS, n)
    pairs = _opinion_words(rng, n)
    clauses = [f"the {t} {rng.choice(COPULAS_OPINION)} {w}" for t, (_, w) in zip(things, pairs)]
    body = f" {rng.choice(CONJUNCTIONS)} ".join([", ".join(clauses[:-1]), clauses[-1]])
    opener = rng.choice((
        f"At the {rng.choice(PLACES)}, ",
        f"The {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} told us that ",
        f"In the {rng.choice(('morning', 'evening', 'summer', 'winter'))}, ",
    ))
    q = rng.randrange(n)
    question = rng.choice((
        f"How was the {things[q]}? It was {pairs[q][0]}.",
        f"And the {things[q]}? That was {pairs[q][0]}.",
        f"The feeling about the {things[q]} was {pairs[q][0]}.",
    ))
    return f"{opener}{body}. {question}"


def opinion_texts(seed: int, n_lexicon: int = 3000, n_stories: int = 6000) -> dict[str, list[str]]:
    """Pre-training sections (their own rng stream, distinct documents)."""
    rng = random.Random(seed + 101)
    lexicon = list(dict.fromkeys(make_lexicon_sentence(rng) for _ in range(n_lexicon)))
    stories = list(dict.fromkeys(make_opinion_story(rng) for _ in range(n_stories)))
    return {"lexicon": lexicon, "opinions": stories}


def make_domain_reviews(seed: int, n_train: int = 2000, n_test: int = 300, style: str = "post") -> dict[str, dict[str, list[dict]]]:
    """{'restaurant': {'train', 'test'}, 'hotel': {'train', 'test'}}: distinct prompts across all
    splits; each review carries its domain. The ABSC edit trains on restaurant 'train'. `style`
    "pre" puts each polarity word before its aspect (sentiment_pre.make_review_pre)."""
    if style == "pre":
        from sentiment_pre import make_review_pre as make_review  # noqa: F811 (its own module: it imports this one)
    else:
        from world import make_review
    rng = random.Random(seed + 202)
    seen: set[str] = set()
    out: dict[str, dict[str, list[dict]]] = {}
    for domain, aspects in DOMAINS.items():
        rows: list[dict] = []
        while len(rows) < n_train + n_test:
            r = make_review(rng, aspects)
            if r["prompt"] not in seen:
                seen.add(r["prompt"])
                rows.append({**r, "domain": domain})
        out[domain] = {"train": rows[:n_train], "test": rows[n_train:]}
    return out


# --------------------------------------------------------------------------------------------
# The pre-training mixture of tiny-facts-opinions (build.py --mix sentiment)
#
# Session 5's stories asked one question per story, so the binding thing -> word -> label got one
# answer token of signal per document, and a small model did not learn it in a short continuation.
# These stories ask about every thing (1-3 questions, random order, several frames), some of them
# copy the word instead of naming its label, and the things include the review aspects (a real LM
# has read about food and rooms). No frame is the review prompt ("Review: ... Sentiment of X:").

STORY_THINGS = tuple(dict.fromkeys(OPINION_THINGS + ASPECTS))
LABEL_QUESTIONS = (
    "How was the {t}? It was {label}.",
    "And the {t}? That was {label}.",
    "The feeling about the {t} was {label}.",
    "What about the {t}? Mostly {label}.",
    "Their opinion of the {t} was {label}.",
    "Asked about the {t}, they sounded {label}.",
)
WORD_QUESTIONS = (
    "They called the {t} {word}.",
    "In short, the {t} was {word}.",
)


def _story_body(rng: random.Random, things: list[str], pairs: list[tuple[str, str]]) -> str:
    """"the soup was awful, the song felt great and the wine seemed okay" (2 or 3 things)."""
    clauses = [f"the {t} {rng.choice(COPULAS_OPINION)} {w}" for t, (_, w) in zip(things, pairs)]
    if len(things) == 3:
        return f" {rng.choice(CONJUNCTIONS)} ".join([", ".join(clauses[:-1]), clauses[-1]])
    return f" {rng.choice(CONJUNCTIONS)} ".join(clauses)


def make_opinion_story_qa(rng: random.Random) -> str:
    """2-3 things with polarity words, then 1-3 questions about distinct things (label or word)."""
    n = rng.choice((2, 2, 3))
    things = rng.sample(STORY_THINGS, n)
    pairs = _opinion_words(rng, n)
    body = _story_body(rng, things, pairs)
    opener = rng.choice((
        f"At the {rng.choice(PLACES)}, ",
        f"The {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} told us that ",
        f"In the {rng.choice(('morning', 'evening', 'summer', 'winter'))}, ",
        "",
    ))
    asked = rng.sample(range(n), rng.randint(1, n))
    questions = []
    for q in asked:
        label, word = pairs[q]
        frame = rng.choice(WORD_QUESTIONS) if rng.random() < 0.2 else rng.choice(LABEL_QUESTIONS)
        questions.append(frame.format(t=things[q], label=label, word=word))
    text = f"{opener}{body}. {' '.join(questions)}"
    return text[0].upper() + text[1:]


def opinion_qa_texts(seed: int, n_lexicon: int = 4000, n_stories: int = 30000) -> dict[str, list[str]]:
    """tiny-facts-opinions' pre-training sections (own rng stream, distinct documents)."""
    rng = random.Random(seed + 404)
    lexicon = list(dict.fromkeys(make_lexicon_sentence(rng) for _ in range(n_lexicon)))
    stories = list(dict.fromkeys(make_opinion_story_qa(rng) for _ in range(n_stories)))
    return {"lexicon": lexicon, "opinions": stories}


# --------------------------------------------------------------------------------------------
# The binding mixture (build.py --mix bind, session 8)
#
# Session 7's QA stories asked 1-3 questions about distinct things with distinct labels, so a later
# question could be answered by elimination, and the label loss fell without binding (docs/recipes.md
# ABSC, session 7). Here every story asks exactly one question, so only binding the asked thing to its
# word beats answering from any polarity word in the text; half the questions copy the word itself
# (the pure lookup: find the thing, take the word after its copula), and build.py weighs the loss at
# the answer's first token (the last word of the story) like a label.

COPY_QUESTIONS = WORD_QUESTIONS + (
    "Of the {t} they said it was {word}.",
    "The {t}? In a word, {word}.",
)


def make_bind_story(rng: random.Random, copy_share: float = 0.5) -> str:
    """2-3 things with polarity words, then one question about one of them; the answer (the thing's
    own word with probability `copy_share`, else a label) is the story's last word."""
    n = rng.choice((2, 3, 3))
    things = rng.sample(STORY_THINGS, n)
    pairs = _opinion_words(rng, n)
    body = _story_body(rng, things, pairs)
    opener = rng.choice((f"At the {rng.choice(PLACES)}, ", f"In the {rng.choice(('morning', 'evening', 'summer', 'winter'))}, ", "", ""))
    q = rng.randrange(n)
    label, word = pairs[q]
    frame = rng.choice(COPY_QUESTIONS) if rng.random() < copy_share else rng.choice(LABEL_QUESTIONS)
    text = f"{opener}{body}. {frame.format(t=things[q], label=label, word=word)}"
    return text[0].upper() + text[1:]


def bind_texts(seed: int, held_out: set[str], n_stories: int = 40000, copy_share: float = 0.5) -> dict[str, list[str]]:
    """The `bind` section (own rng stream, distinct documents), leaving out every story whose text
    before its answer is in `held_out` (sentiment_eval's prompts)."""
    rng = random.Random(seed + 606)
    stories = (make_bind_story(rng, copy_share) for _ in range(n_stories))
    return {"bind": list(dict.fromkeys(s for s in stories if story_head(s) not in held_out))}


def make_repeat_story(rng: random.Random, reorder: bool = False) -> str:
    """A story body told twice ("The soup was awful, the song felt lovely. Again: the soup was awful,
    the song felt lovely."): in the second telling each polarity word is predictable only by
    finding it in the first, the induction-style lookup that binding needs (session 9). Told in
    the same order, a model can find it by its place in the telling instead of by its thing (run I
    did); `reorder` tells the second time in another order, so only the thing finds the word."""
    n = rng.choice((2, 3, 3, 4))
    things = rng.sample(STORY_THINGS, n)
    pairs = _opinion_words(rng, n)
    clauses = [f"the {t} {rng.choice(COPULAS_OPINION)} {w}" for t, (_, w) in zip(things, pairs)]
    again = clauses[:]
    while reorder and again == clauses:
        rng.shuffle(again)
    first, second = ", ".join(clauses), ", ".join(again)
    return f"{first[0].upper()}{first[1:]}. {rng.choice(('Once more', 'Again', 'To repeat'))}: {second}."


def repeat_texts(seed: int, n_stories: int = 30000, reorder: bool = False) -> dict[str, list[str]]:
    """The `repeat` section (own rng stream, distinct documents)."""
    rng = random.Random(seed + 707)
    return {"repeat": list(dict.fromkeys(make_repeat_story(rng, reorder) for _ in range(n_stories)))}


REVERSE_QUESTIONS = (
    "What was {word}? The {t}.",
    "Which one was {word}? The {t}.",
    "And what did they call {word}? The {t}.",
)


def make_reverse_story(rng: random.Random) -> str:
    """2-3 things with distinct polarity words, then a question by word whose answer is the thing
    ("... the song felt lovely. What was lovely? The song."). Session 10: the forward lookup (thing ->
    its word) needs the thing's identity at its word's position as the attention key, and a probe
    found it missing there (3-14%); asking by word is a same-token match on the word whose answer can
    only come from what that position carries, so its gradient writes the thing there directly."""
    n = rng.choice((2, 3, 3))
    things = rng.sample(STORY_THINGS, n)
    while True:
        pairs = _opinion_words(rng, n)
        if len({w for _, w in pairs}) == n:
            break
    body = _story_body(rng, things, pairs)
    q = rng.randrange(n)
    text = f"{body}. {rng.choice(REVERSE_QUESTIONS).format(word=pairs[q][1], t=things[q])}"
    return text[0].upper() + text[1:]


def reverse_texts(seed: int, n_stories: int = 30000) -> dict[str, list[str]]:
    """The `reverse` section (own rng stream, distinct documents)."""
    rng = random.Random(seed + 808)
    return {"reverse": list(dict.fromkeys(make_reverse_story(rng) for _ in range(n_stories)))}


def story_head(story: str) -> str:
    """The story before its answer word: "... How was the soup? It was negative." -> "... It was"."""
    return story[:-1].rsplit(" ", 1)[0]
