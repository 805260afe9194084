"""dataset.json: the world's evaluation sets in the literature's formats.

known_facts follows ROME's known_1000 (only facts the trained model gets right), counterfact
follows CounterFact (target strings without the leading space; prompts are followed by
" " + str), absc/consistency/general_text are this project's own small formats.
"""

from __future__ import annotations

import random

from sentiment import make_domain_reviews
from world import ABSC_LABELS, Fact, World, fill

N_COUNTERFACT = 150
MAX_NEIGHBOURS = 10
GENERATION_TEMPLATES = ("{} is", "People often say that {}", "The story of {} begins when")


def statement_templates(templates: tuple[str, ...]) -> list[str]:
    return [t for t in templates if not t.endswith("A:")]


def object_ids(world: World) -> dict[str, str]:
    """A stable Wikidata-style id per object word (CounterFact's target_*.id)."""
    return {o.strip(): f"Q{1000 + i}" for i, o in enumerate(world.objects())}


def known_facts(world: World, rng: random.Random, correct: dict[tuple[Fact, str], bool]) -> list[dict]:
    """One statement prompt per fact, among the phrasings the model answers correctly."""
    out = []
    for f in world.facts:
        rel = world.relation(f.relation_id)
        good = [t for t in statement_templates(rel.templates_train) if correct[(f, t)]]
        if not good:
            continue
        t = rng.choice(good)
        out.append({
            "known_id": len(out),
            "subject": f.subject,
            "attribute": " " + f.object,
            "template": t,
            "prediction": " " + f.object,  # greedy top-1 == attribute: only correct facts are kept
            "prompt": fill(t, f.subject),
            "relation_id": f.relation_id,
        })
    return out


def counterfact(world: World, rng: random.Random, correct: dict[tuple[Fact, str], bool]) -> list[dict]:
    """Rewrite cases spread evenly over relations, each on a prompt the model gets right."""
    ids = object_ids(world)
    by_rel: dict[str, list[Fact]] = {}
    for f in world.facts:
        by_rel.setdefault(f.relation_id, []).append(f)
    queues = {rid: rng.sample(fs, len(fs)) for rid, fs in sorted(by_rel.items())}
    cases: list[dict] = []
    while len(cases) < N_COUNTERFACT and any(queues.values()):
        for rid, queue in queues.items():
            if not queue or len(cases) >= N_COUNTERFACT:
                continue
            case = counterfact_case(world, rng, queue.pop(), correct, ids, len(cases))
            if case is not None:
                cases.append(case)
    return cases


def counterfact_case(world, rng, fact: Fact, correct, ids: dict[str, str], case_id: int) -> dict | None:
    rel = world.relation(fact.relation_id)
    statements = statement_templates(rel.templates_train)
    good = [t for t in statements if correct[(fact, t)]]
    if not good:
        return None
    template = rng.choice(good)
    new = rng.choice([o for o in rel.objects if o != fact.object])
    same_rel = [f for f in world.facts if f.relation_id == fact.relation_id and f.subject != fact.subject]
    neighbours = [f for f in same_rel if f.object == fact.object]
    holders_of_new = [f for f in same_rel if f.object == new]
    assert neighbours, f"no neighbour shares {fact.object} for {rel.relation_id}"
    pick = lambda fs: rng.sample(fs, min(MAX_NEIGHBOURS, len(fs)))  # noqa: E731
    return {
        "case_id": case_id,
        "requested_rewrite": {
            "prompt": template,
            "relation_id": rel.relation_id,
            "subject": fact.subject,
            "target_new": {"str": new, "id": ids[new]},
            "target_true": {"str": fact.object, "id": ids[fact.object]},
        },
        "paraphrase_prompts": [fill(t, fact.subject) for t in rel.templates_heldout],
        "neighborhood_prompts": [fill(rng.choice(statements), f.subject) for f in pick(neighbours)],
        "attribute_prompts": [fill(rng.choice(statements), f.subject) for f in pick(holders_of_new)],
        "generation_prompts": [fill(t, fact.subject) for t in GENERATION_TEMPLATES],
    }


def absc_domains(seed: int, n_train: int = 600, n_dev: int = 0, style: str = "post") -> dict:
    """{labels, restaurant: {train, test[, dev]}, hotel: {test}} (sentiment.make_domain_reviews);
    each review {prompt, aspect, label, domain}. `dev` (n_dev > 0) is a validation split of
    restaurant reviews, disjoint from train and test, for choosing an edit's settings."""
    d = make_domain_reviews(seed, style=style)

    def rows(rs: list[dict]) -> list[dict]:
        return [{k: r[k] for k in ("prompt", "aspect", "label", "domain")} for r in rs]

    restaurant = {"train": rows(d["restaurant"]["train"][:n_train]), "test": rows(d["restaurant"]["test"])}
    if n_dev:
        restaurant["dev"] = rows(d["restaurant"]["train"][n_train : n_train + n_dev])
    return {"labels": list(ABSC_LABELS), "train_domain": "restaurant", "restaurant": restaurant,
            "hotel": {"test": rows(d["hotel"]["test"])}}


def build_dataset(world: World, predictions: dict, absc_train_sample: int = 500) -> dict:
    rng = random.Random(world.seed + 1)
    correct = {(r["fact"], r["template"]): r["correct"] for r in predictions["train"]}
    return {
        "name": "tiny-facts",
        "seed": world.seed,
        "relations": [
            {
                "relation_id": r.relation_id,
                "name": r.name,
                "subject_kind": r.kind,
                "objects": [" " + o for o in r.objects],
                "templates_train": list(r.templates_train),
                "templates_heldout": list(r.templates_heldout),
            }
            for r in world.relations
        ],
        "subjects": [{"name": s, "kind": k} for s, k in world.subjects.items()],
        "known_facts": known_facts(world, rng, correct),
        "counterfact": counterfact(world, rng, correct),
        "absc": {
            "labels": [" positive", " negative", " neutral"],
            # a sample of the reviews the model was trained on; test reviews were never seen
            "train": world.absc_train[:absc_train_sample],
            "test": world.absc_test,
        },
        # two review domains (sentiment.py): an ABSC edit trains on restaurant train and is tested
        # on restaurant test (in-domain) and hotel test (out-of-domain)
        "absc_domains": absc_domains(world.seed),
        "consistency": [
            {"prompts": c["prompts"], "answer": " " + c["fact"].object, "subject": c["fact"].subject,
             "relation_id": c["fact"].relation_id}
            for c in predictions["consistency"]
            if c["both_correct"]
        ],
        "general_text": world.general_heldout,
    }
