"""The synthetic world: subjects, relations, facts, reviews and general text, all from a seed.

Everything the model learns comes from here. Design choices that matter downstream:
- Subject names are built from a shared syllable pool, so BPE learns syllables rather than
  names and every subject spans several tokens (causal tracing needs a "last subject token"
  distinct from the first one and from the prompt's last token).
- Objects are single words that are frequent in the corpus; bpe.force_single_tokens makes
  sure each is one token with its leading space.
- Each relation keeps some phrasings out of training entirely; their words still appear in
  the general text ("bridge" sentences), so a held-out prompt contains no unseen token and
  measures paraphrase generalisation, not unknown-word handling.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# --------------------------------------------------------------------------------------------
# Relations


@dataclass(frozen=True)
class Relation:
    relation_id: str
    name: str
    kind: str  # which subjects it applies to
    objects: tuple[str, ...]  # without the leading space
    templates_train: tuple[str, ...]  # "{}" marks the subject; the object follows after " "
    templates_heldout: tuple[str, ...]
    # indices into templates_train of two question phrasings (consistency pairs)
    qa_pair: tuple[int, int]


CITIES = ("Orvane", "Belkor", "Tessari", "Quorin", "Halvek", "Mirello", "Dunmara", "Castev", "Ylden", "Parrow")

RELATIONS: tuple[Relation, ...] = (
    Relation(
        "P1", "lives in city", "person", CITIES,
        ("{} lives in the city of", "The home city of {} is", "Every morning, {} walks through the streets of",
         "Q: Where does {} live? A:", "Q: Which city is home to {}? A:"),
        ("{} resides in the city of", "Q: In which city does {} reside? A:"),
        (3, 4),
    ),
    Relation(
        "P2", "speaks language", "person",
        ("Morvic", "Talish", "Quenic", "Surrin", "Baldic", "Ostric", "Veshan", "Kallic"),
        ("{} speaks the language", "The native language of {} is", "{} writes letters in",
         "Q: What language does {} speak? A:", "Q: Which language is spoken by {}? A:"),
        ("{} is fluent in", "Q: What is the native language of {}? A:"),
        (3, 4),
    ),
    Relation(
        "P3", "works as profession", "person",
        ("baker", "doctor", "pilot", "farmer", "painter", "teacher", "sailor", "miner", "lawyer", "singer"),
        ("{} works as a", "By profession, {} is a", "{} earns a living as a",
         "Q: What does {} do for a living? A:", "Q: What is the job of {}? A:"),
        ("{} is employed as a", "Q: What is the profession of {}? A:"),
        (3, 4),
    ),
    Relation(
        "P4", "plays instrument", "person",
        ("piano", "violin", "drums", "flute", "harp", "guitar", "trumpet", "cello"),
        ("{} plays the", "The favourite instrument of {} is the", "Every evening, {} practises the",
         "Q: Which instrument does {} play? A:", "Q: What instrument does {} practise? A:"),
        ("{} is a talented player of the", "Q: What does {} play in the band? A:"),
        (3, 4),
    ),
    Relation(
        "P5", "headquartered in city", "company", CITIES,
        ("The company {} is headquartered in", "{} has its head office in", "The headquarters of {} are in",
         "Q: Where is {} based? A:", "Q: In which city is {} headquartered? A:"),
        ("{} is based in the city of", "Q: Where is the head office of {}? A:"),
        (3, 4),
    ),
    Relation(
        "P6", "makes product", "company",
        ("cars", "phones", "toys", "shoes", "boats", "lamps", "books", "clocks"),
        ("The company {} makes", "{} is famous for its", "The main product of {} is",
         "Q: What does {} make? A:", "Q: What does {} sell? A:"),
        ("{} produces", "Q: What kind of goods does {} produce? A:"),
        (3, 4),
    ),
    Relation(
        "P7", "habitat", "creature",
        ("forest", "desert", "swamp", "ocean", "mountains", "caves", "jungle", "tundra"),
        ("The creature {} lives in the", "{} makes its home in the", "The natural habitat of {} is the",
         "Q: Where does the creature {} live? A:", "Q: What is the habitat of {}? A:"),
        ("{} can be found in the", "Q: In what kind of place does {} live? A:"),
        (3, 4),
    ),
    Relation(
        "P8", "eats", "creature",
        ("berries", "fish", "insects", "grass", "seeds", "mushrooms", "roots", "worms"),
        ("The creature {} eats", "The favourite food of {} is", "{} hunts for",
         "Q: What does {} eat? A:", "Q: What is the favourite food of {}? A:"),
        ("{} feeds on", "Q: What does {} like to eat? A:"),
        (3, 4),
    ),
    Relation(
        "P9", "town in country", "place",
        ("Valdor", "Estmere", "Korrin", "Lunadia", "Brevost", "Samora"),
        ("The town of {} is in the country of", "{} is a town in", "{} lies within the borders of",
         "Q: Which country is {} in? A:", "Q: In what country is the town of {}? A:"),
        ("{} is located in", "Q: Where is the town of {} located? A:"),
        (3, 4),
    ),
)

KIND_COUNTS = {"person": 120, "company": 30, "creature": 30, "place": 20}

# --------------------------------------------------------------------------------------------
# Subjects


def syllable_pool(rng: random.Random, n: int = 48) -> list[str]:
    """Consonant-vowel(-consonant) syllables shared by every name, so BPE learns syllables."""
    onsets = ["b", "d", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr", "kr", "tr", "st", "sk"]
    vowels = ["a", "e", "i", "o", "u"]
    codas = ["", "", "n", "r", "l", "s", "k"]
    pool = sorted({o + v + c for o in onsets for v in vowels for c in codas})
    return rng.sample(pool, n)


def make_names(rng: random.Random, n: int, reserved: set[str]) -> list[str]:
    """`n` distinct two-word names; no word repeats, so each name is identified by both words."""
    syllables = syllable_pool(rng)
    used_words: set[str] = set()
    names: list[str] = []

    def word() -> str:
        while True:
            w = "".join(rng.choice(syllables) for _ in range(rng.choice((2, 2, 3)))).capitalize()
            if w not in used_words and w.lower() not in reserved and 4 <= len(w) <= 10:
                used_words.add(w)
                return w

    while len(names) < n:
        names.append(f"{word()} {word()}")
    return names


@dataclass(frozen=True)
class Fact:
    subject: str
    relation_id: str
    object: str  # without the leading space


@dataclass
class World:
    seed: int
    subjects: dict[str, str]  # name -> kind
    relations: tuple[Relation, ...]
    facts: list[Fact]
    absc_train: list[dict]
    absc_test: list[dict]
    general_train: list[str]
    general_heldout: list[str]
    bios: list[str] = field(default_factory=list)

    def relation(self, relation_id: str) -> Relation:
        return next(r for r in self.relations if r.relation_id == relation_id)

    def objects(self) -> list[str]:
        """Every object word once, with its leading space (each must be one token)."""
        return sorted({" " + o for r in self.relations for o in r.objects})

    def subject_words(self) -> set[str]:
        return {w for s in self.subjects for w in s.split()}


def fill(template: str, subject: str) -> str:
    return template.replace("{}", subject)


def fact_sentence(template: str, fact: Fact) -> str:
    """A training sentence: the prompt, then the object, then a full stop unless it is a QA."""
    text = f"{fill(template, fact.subject)} {fact.object}"
    return text if template.endswith("A:") else text + "."


def assign_facts(rng: random.Random, subjects: dict[str, str]) -> list[Fact]:
    """Each subject gets one object per relation of its kind, spread evenly over the objects
    (round-robin on a shuffled list) so every object has several subjects: CounterFact's
    neighbourhood prompts need other subjects with the same true object."""
    facts = []
    for rel in RELATIONS:
        members = [s for s, k in subjects.items() if k == rel.kind]
        rng.shuffle(members)
        objs = list(rel.objects)
        rng.shuffle(objs)
        for i, s in enumerate(members):
            facts.append(Fact(s, rel.relation_id, objs[i % len(objs)]))
    return facts


def make_bios(rng: random.Random, facts: list[Fact], per_subject: int = 3, max_facts: int = 3) -> list[str]:
    """Short multi-fact paragraphs about one subject (statement phrasings, shuffled order).

    Seeing the same subject's facts in varied orders and phrasings pushes the model to store
    them with the subject rather than with one template, which is what helps held-out phrasings.
    """
    by_subject: dict[str, list[Fact]] = {}
    for f in facts:
        by_subject.setdefault(f.subject, []).append(f)
    bios = []
    for s in sorted(by_subject):
        for _ in range(per_subject):
            chosen = rng.sample(by_subject[s], min(max_facts, len(by_subject[s])))
            sentences = []
            for f in chosen:
                rel = next(r for r in RELATIONS if r.relation_id == f.relation_id)
                statements = [t for t in rel.templates_train if not t.endswith("A:")]
                sentences.append(fact_sentence(rng.choice(statements), f))
            bios.append(" ".join(sentences))
    return bios


# --------------------------------------------------------------------------------------------
# Aspect-based sentiment reviews

ASPECTS = ("food", "service", "staff", "price", "music", "room", "view", "coffee", "location", "decor", "wine", "dessert")
POLARITY_WORDS = {
    "positive": ("great", "excellent", "wonderful", "lovely", "superb", "amazing", "perfect", "delightful"),
    "negative": ("terrible", "awful", "poor", "bad", "disappointing", "horrible", "dreadful", "rude"),
    "neutral": ("average", "okay", "ordinary", "acceptable", "standard", "typical", "plain", "unremarkable"),
}
ABSC_LABELS = (" positive", " negative", " neutral")
CONJUNCTIONS = ("but", "and", "while", "although", "whereas")
COPULAS = ("was", "was", "is", "seemed", "felt")


def mixed_polarities(rng: random.Random, n: int) -> list[str]:
    """`n` seeded polarity labels, at least two of them different (drawn again until they are)."""
    while True:
        polarities = [rng.choice(list(POLARITY_WORDS)) for _ in range(n)]
        if len(set(polarities)) >= 2:
            return polarities


def make_review(rng: random.Random, pool: tuple[str, ...] = ASPECTS) -> dict:
    """One review with 2 or 3 aspects from `pool`, at least two of different polarity, and a question."""
    n = rng.choice((2, 2, 3))
    aspects = rng.sample(pool, n)
    polarities = mixed_polarities(rng, n)
    clauses = [f"the {a} {rng.choice(COPULAS)} {rng.choice(POLARITY_WORDS[p])}" for a, p in zip(aspects, polarities)]
    if n == 2:
        body = f"{clauses[0]} {rng.choice(CONJUNCTIONS)} {clauses[1]}"
    else:
        body = f"{clauses[0]}, {clauses[1]} {rng.choice(CONJUNCTIONS)} {clauses[2]}"
    sentence = f"Review: {body}."
    q = rng.randrange(n)
    return {
        "sentence": sentence,
        "aspect": aspects[q],
        "prompt": f"{sentence} Sentiment of {aspects[q]}:",
        "label": " " + polarities[q],
    }


def make_reviews(rng: random.Random, n_train: int, n_test: int) -> tuple[list[dict], list[dict]]:
    """Distinct train and test reviews: no test prompt occurs in training."""
    seen: set[str] = set()
    out: list[dict] = []
    while len(out) < n_train + n_test:
        r = make_review(rng)
        if r["prompt"] not in seen:
            seen.add(r["prompt"])
            out.append(r)
    return out[:n_train], out[n_train:]


# --------------------------------------------------------------------------------------------
# General text: a tiny grammar of everyday sentences and short stories

NOUNS = ("dog", "cat", "farmer", "child", "old man", "young woman", "teacher", "baker", "bird", "horse",
         "fisherman", "girl", "boy", "traveller", "merchant", "king", "queen", "soldier", "cook", "sailor")
PLACES = ("river", "market", "forest", "village", "hill", "bridge", "garden", "harbour", "castle", "field",
          "mountains", "lake", "school", "library", "square")
ADJECTIVES = ("old", "young", "tall", "small", "quiet", "happy", "tired", "clever", "brave", "kind",
              "busy", "lonely", "cheerful", "careful", "hungry")
VERBS_PAST = ("walked", "ran", "sang", "slept", "waited", "worked", "danced", "rested", "talked", "laughed")
ADVERBS = ("slowly", "quickly", "happily", "quietly", "carefully", "loudly", "all day", "for a while")
TIMES = ("morning", "evening", "afternoon", "winter", "summer", "spring", "night")
THINGS = ("bread", "apples", "soup", "flowers", "stones", "letters", "songs", "stories", "tools", "coins")
RELATIVES = ("mother", "father", "sister", "brother", "uncle", "aunt", "grandmother", "friend", "neighbour")

# Sentence patterns. The "bridge" patterns carry the words of held-out phrasings (resides,
# fluent, employed, talented, player, band, produces, goods, kind, found, place, feeds, like,
# located) in unrelated contexts; world.check_bridge_words asserts none is missing.
PATTERNS = (
    "The {adj} {noun} {verb} to the {place}.",
    "The {noun} {verb} {adv} near the {place}.",
    "In the {time}, the {adj} {noun} {verb} by the {place}.",
    "A {noun} and a {noun2} {verb} together in the {place}.",
    "My {rel} bought some {thing} at the {place}.",
    "The {noun} was {adj} because it was {time}.",
    "Every {time} the {noun} carries {thing} across the {place}.",
    "The {noun} gave the {noun2} some {thing}.",
    "There is a {adj} {noun} who lives near the {place}.",
    "The {noun} resides in a {adj} house near the {place}.",
    "Many families reside near the {place}.",
    "My {rel} is fluent in many old {thing}.",
    "The {noun} was employed at the {place} for many years.",
    "The {noun} is a talented player of games.",
    "The band played {adv} in the {place}.",
    "The workshop produces {thing} for the whole village.",
    "The people of the {place} produce goods of every kind.",
    "A {adj} {noun} can be found near the {place}.",
    "The {place} is a {adj} place in the {time}.",
    "The {noun} feeds on {thing} in the {time}.",
    "The children like to eat {thing}.",
    "The {place} is located next to the {place2}.",
    "What kind of {noun} is that?",
)

STORY_OPENERS = (
    "Once upon a time, a {adj} {noun} lived near the {place}.",
    "Long ago, there was a {adj} {noun} in the {place}.",
)
STORY_MIDDLES = (
    "Every {time}, it {verb} {adv}.",
    "One day, it met a {noun2} who {verb} by the {place2}.",
    "It liked {thing} more than anything.",
)
STORY_ENDINGS = ("In the end, everyone was {adj}.", "And that is the end of the story.")


def _fill_pattern(rng: random.Random, pattern: str) -> str:
    noun, noun2 = rng.sample(NOUNS, 2)
    place, place2 = rng.sample(PLACES, 2)
    return pattern.format(
        adj=rng.choice(ADJECTIVES), noun=noun, noun2=noun2, verb=rng.choice(VERBS_PAST),
        adv=rng.choice(ADVERBS), place=place, place2=place2, time=rng.choice(TIMES),
        thing=rng.choice(THINGS), rel=rng.choice(RELATIVES),
    )


def make_general(rng: random.Random) -> str:
    """Either one or two plain sentences, or a three-sentence story."""
    if rng.random() < 0.3:
        parts = [rng.choice(STORY_OPENERS), rng.choice(STORY_MIDDLES), rng.choice(STORY_ENDINGS)]
    else:
        parts = rng.sample(PATTERNS, rng.choice((1, 2)))
    text = " ".join(_fill_pattern(rng, p) for p in parts)
    return text[0].upper() + text[1:]


def make_general_texts(rng: random.Random, n_train: int, n_heldout: int) -> tuple[list[str], list[str]]:
    """Distinct training and held-out general texts (held-out ones never occur in training)."""
    train = list(dict.fromkeys(make_general(rng) for _ in range(n_train)))
    seen = set(train)
    heldout: list[str] = []
    while len(heldout) < n_heldout:
        t = make_general(rng)
        if t not in seen:
            seen.add(t)
            heldout.append(t)
    return train, heldout


# --------------------------------------------------------------------------------------------


def reserved_words() -> set[str]:
    """Every word of the non-name vocabulary, lower-cased; names must avoid them."""
    texts = [t for r in RELATIONS for t in r.templates_train + r.templates_heldout + r.objects]
    texts += list(PATTERNS + STORY_OPENERS + STORY_MIDDLES + STORY_ENDINGS)
    texts += list(NOUNS + PLACES + ADJECTIVES + VERBS_PAST + ADVERBS + TIMES + THINGS + RELATIVES + ASPECTS)
    texts += [w for ws in POLARITY_WORDS.values() for w in ws] + list(CONJUNCTIONS) + list(COPULAS)
    return {w.strip(".,:?").lower() for t in texts for w in t.split()}


def build_world(seed: int) -> World:
    rng = random.Random(seed)
    names = make_names(rng, sum(KIND_COUNTS.values()), reserved_words())
    subjects: dict[str, str] = {}
    i = 0
    for kind, count in KIND_COUNTS.items():
        for name in names[i : i + count]:
            subjects[name] = kind
        i += count
    facts = assign_facts(rng, subjects)
    absc_train, absc_test = make_reviews(rng, n_train=4000, n_test=300)
    general_train, general_heldout = make_general_texts(rng, n_train=6000, n_heldout=300)
    world = World(seed, subjects, RELATIONS, facts, absc_train, absc_test, general_train, general_heldout)
    world.bios = make_bios(rng, facts)
    check_bridge_words(world)
    return world


def training_texts(world: World) -> dict[str, list[str]]:
    """Training documents by section (each becomes one sequence starting at position 0)."""
    facts = [fact_sentence(t, f) for f in world.facts for t in world.relation(f.relation_id).templates_train]
    absc = [r["prompt"] + r["label"] for r in world.absc_train]
    return {"facts": facts, "bios": world.bios, "absc": absc, "general": world.general_train}


def check_bridge_words(world: World) -> None:
    """Every word of every held-out phrasing must occur somewhere in the training text."""
    seen = {w.strip(".,:?") for ts in training_texts(world).values() for t in ts for w in t.split()}
    for r in world.relations:
        for t in r.templates_heldout:
            missing = [w for w in fill(t, "").split() if w.strip(".,:?") and w.strip(".,:?") not in seen]
            assert not missing, f"held-out phrasing {t!r} has words never seen in training: {missing}"
