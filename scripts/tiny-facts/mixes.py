"""Pre-training mixtures build.py can train on (`--mix`).

`base` is tiny-facts' and tiny-facts-llama's (train.TrainConfig's mixture, with the ABSC reviews).
`sentiment` is tiny-facts-opinions': the same world without the ABSC reviews, plus opinion text
(sentiment.opinion_qa_texts) that teaches word polarity and binding an opinion word to its thing
in other frames than the review prompt, so the ABSC prompt is new to the model but the knowledge
it needs is there (issue 15.1). `bind` (session 8) replaces its QA stories with one-question
stories (sentiment.bind_texts) whose answer token is weighted: no elimination shortcut.
`bind_copy` (session 9) is `bind` with more of the batch on those stories and 80% of their
questions asking for the thing's own word (the pure lookup) instead of half. `bind_repeat`
(session 9) adds story bodies told twice (sentiment.repeat_texts), the classic induction-head
trigger, because a probe found that the thing's identity barely reaches its word's position;
`bind_reorder` tells the second time in another order (run I learned to copy by place in the
telling, not by thing). `bind_reverse` (session 10) adds questions asked by word and answered by
the thing (sentiment.reverse_texts), whose gradient writes the thing's identity at its word's
position: the key the forward lookup needs. `bind_pre` (session 10) puts each polarity word before
its thing (sentiment_pre.py), so binding becomes the induction pattern; its reviews and probes use
that word order too (`style` "pre").
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from sentiment_pre import DRILL_THINGS_12, bind_pre_texts, copy_pre_texts, drill_pre_texts, probe_prompts_pre, repeat_pre_texts
from sentiment import bind_texts, opinion_qa_texts, repeat_texts, reverse_texts, story_head
from sentiment_eval import heldout_qa_stories, reverse_prompts, two_thing_prompts
from train import TrainConfig
from world import World, training_texts

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


@dataclass(frozen=True)
class Mix:
    name: str
    mixture: tuple[tuple[str, float], ...]
    # only for mixes other than base: output folder, fixtures folder, report (else the arch's)
    out: str | None = None
    fixtures: str | None = None
    report: str | None = None
    drop: tuple[str, ...] = field(default_factory=tuple)  # sections of training_texts left out
    # sections whose documents end with an answer word whose first token is weighted like a label
    answer_sections: tuple[str, ...] = field(default_factory=tuple)
    # word order of the opinion text, the reviews and the probes: "post" (the soup was awful) or "pre" (the awful soup)
    style: str = "post"

    def sections(self, world: World) -> dict[str, list[str]]:
        sections = {k: v for k, v in training_texts(world).items() if k not in self.drop}
        if self.name == "sentiment":
            sections.update(opinion_qa_texts(world.seed))
        if self.name in ("bind", "bind_copy", "bind_repeat", "bind_reorder", "bind_reverse"):
            sections["lexicon"] = opinion_qa_texts(world.seed)["lexicon"]
            copy_share = 0.5 if self.name == "bind" else 0.8
            sections.update(bind_texts(world.seed, held_out_prompts(world.seed), copy_share=copy_share))
        if self.name in ("bind_repeat", "bind_reorder", "bind_reverse"):
            sections.update(repeat_texts(world.seed, reorder=self.name != "bind_repeat"))
        if self.name in ("bind_pre", "bind_pre_repeat", "bind_pre_drill"):
            sections["lexicon"] = opinion_qa_texts(world.seed)["lexicon"]
            sections.update(bind_pre_texts(world.seed, probe_prompts_pre()))
        if self.name == "drill_pre":
            sections = {"drill_pre": drill_pre_texts(world.seed)["drill_pre"]}
        if self.name == "bind_pre_drill":
            sections["drill_pre"] = drill_pre_texts(world.seed)["drill_pre"]
        if self.name == "drill_pre_12":
            sections = {"drill_pre": drill_pre_texts(world.seed, things_pool=DRILL_THINGS_12)["drill_pre"]}
        if self.name == "copy_pre":
            sections = {"copy_pre": copy_pre_texts(world.seed)["copy_pre"]}
        if self.name == "bind_pre_repeat":
            sections.update(repeat_pre_texts(world.seed))
        if self.name == "bind_reverse":  # without the reverse probe's prompts (sentiment_eval.reverse_prompts)
            probe = set(reverse_prompts()[0])
            sections["reverse"] = [s for s in reverse_texts(world.seed)["reverse"] if story_head(s) not in probe]
        return sections


def held_out_prompts(seed: int) -> set[str]:
    """sentiment_eval's held-out QA stories (a superset: 400, no length filter) and two-thing probe."""
    return set(heldout_qa_stories(seed, lambda p: True, n=400)[0]) | set(two_thing_prompts()[0])


# tiny-facts-opinions' folder, fixtures and report; its mixes leave out the ABSC reviews
OPINIONS_FILES = {
    "out": os.path.join(REPO, "public/models/tiny-facts-opinions"),
    "fixtures": os.path.join(REPO, "test/fixtures/tiny-facts-opinions"),
    "report": os.path.join(HERE, "report-opinions.json"),
    "drop": ("absc",),
}

MIXES = {
    "base": Mix("base", TrainConfig.mixture),
    "sentiment": Mix(
        "sentiment",
        (("facts", 0.25), ("bios", 0.05), ("general", 0.15), ("lexicon", 0.1), ("opinions", 0.45)),
        **OPINIONS_FILES,
    ),
    "bind": Mix(
        "bind",
        (("facts", 0.2), ("bios", 0.05), ("general", 0.15), ("lexicon", 0.05), ("bind", 0.55)),
        **OPINIONS_FILES,
        answer_sections=("bind",),
    ),
    "bind_copy": Mix(
        "bind_copy",
        (("facts", 0.15), ("bios", 0.05), ("general", 0.1), ("lexicon", 0.05), ("bind", 0.65)),
        **OPINIONS_FILES,
        answer_sections=("bind",),
    ),
    "bind_repeat": Mix(
        "bind_repeat",
        (("facts", 0.15), ("bios", 0.05), ("general", 0.1), ("lexicon", 0.05), ("bind", 0.4), ("repeat", 0.25)),
        **OPINIONS_FILES,
        answer_sections=("bind",),
    ),
    "bind_reorder": Mix(
        "bind_reorder",
        (("facts", 0.15), ("bios", 0.05), ("general", 0.1), ("lexicon", 0.05), ("bind", 0.4), ("repeat", 0.25)),
        **OPINIONS_FILES,
        answer_sections=("bind",),
    ),
    "bind_reverse": Mix(
        "bind_reverse",
        (("facts", 0.15), ("bios", 0.05), ("general", 0.1), ("lexicon", 0.05), ("bind", 0.3), ("repeat", 0.15), ("reverse", 0.2)),
        **OPINIONS_FILES,
        answer_sections=("bind", "reverse"),
    ),
    "bind_pre": Mix(
        "bind_pre",
        (("facts", 0.15), ("bios", 0.05), ("general", 0.1), ("lexicon", 0.05), ("bind_pre", 0.45), ("reverse_pre", 0.2)),
        **OPINIONS_FILES,
        answer_sections=("bind_pre", "reverse_pre"),
        style="pre",
    ),
    "bind_pre_repeat": Mix(
        "bind_pre_repeat",
        (("facts", 0.15), ("bios", 0.05), ("general", 0.1), ("lexicon", 0.05), ("bind_pre", 0.35), ("reverse_pre", 0.1),
         ("repeat_pre", 0.2)),
        **OPINIONS_FILES,
        answer_sections=("bind_pre", "reverse_pre"),
        style="pre",
    ),
    # session 11: bind_pre with a fifth of each batch in drills (4-7 lookups a document)
    "bind_pre_drill": Mix(
        "bind_pre_drill",
        (("facts", 0.15), ("bios", 0.05), ("general", 0.1), ("lexicon", 0.05), ("bind_pre", 0.35), ("reverse_pre", 0.1),
         ("drill_pre", 0.2)),
        **OPINIONS_FILES,
        answer_sections=("bind_pre", "reverse_pre"),
        style="pre",
    ),
    # diagnostic only (session 10): nothing but the pure lookup, to tell a data problem from a model one
    "copy_pre": Mix("copy_pre", (("copy_pre", 1.0),), **OPINIONS_FILES, answer_sections=("copy_pre",), style="pre"),
    # diagnostic (session 10): 4-7 lookups per document instead of one
    "drill_pre": Mix("drill_pre", (("drill_pre", 1.0),), **OPINIONS_FILES, style="pre"),
    "drill_pre_12": Mix("drill_pre_12", (("drill_pre", 1.0),), **OPINIONS_FILES, style="pre"),
}
