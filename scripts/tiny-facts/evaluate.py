"""Measures what the trained model knows: facts per phrasing, reviews, consistency, general text.

Every metric is next-token top-1 at the prompt's last position, the way the app and ROME's
known_1000 read a prediction. Held-out phrasings are reported two ways: top-1 over the whole
vocabulary (strict) and top-1 among the relation's objects (does the model at least retrieve
the right object when the phrasing is unfamiliar?).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from bpe import Encoder
from model import GPT2LMHeadModel
from world import ABSC_LABELS, World, fill

BATCH = 256


@torch.no_grad()
def last_logits(model: GPT2LMHeadModel, enc: Encoder, prompts: list[str]) -> torch.Tensor:
    """Logits at each prompt's last token: [len(prompts), V]."""
    out = []
    for i in range(0, len(prompts), BATCH):
        ids = [enc.encode(p) for p in prompts[i : i + BATCH]]
        T = max(map(len, ids))
        x = torch.full((len(ids), T), enc.eot_id, dtype=torch.long)  # [B, T], right-padded
        for r, seq in enumerate(ids):
            x[r, : len(seq)] = torch.tensor(seq)
        logits = model(x)  # [B, T, V]
        last = torch.tensor([len(s) - 1 for s in ids])  # [B]
        out.append(logits[torch.arange(len(ids)), last])  # [B, V]
    return torch.cat(out)


def top1(model: GPT2LMHeadModel, enc: Encoder, prompts: list[str]) -> list[int]:
    return last_logits(model, enc, prompts).argmax(-1).tolist()


def fact_predictions(model: GPT2LMHeadModel, enc: Encoder, world: World, split: str) -> list[dict]:
    """One row per (fact, phrasing) of the split ('train' or 'heldout')."""
    rows = []
    for f in world.facts:
        rel = world.relation(f.relation_id)
        for t in rel.templates_train if split == "train" else rel.templates_heldout:
            rows.append({"fact": f, "template": t, "prompt": fill(t, f.subject)})
    logits = last_logits(model, enc, [r["prompt"] for r in rows])  # [R, V]
    for r, lg in zip(rows, logits):
        rel = world.relation(r["fact"].relation_id)
        target = enc.vocab_id(" " + r["fact"].object)
        candidates = [enc.vocab_id(" " + o) for o in rel.objects]
        r["pred_id"] = int(lg.argmax())
        r["correct"] = r["pred_id"] == target
        r["correct_among_objects"] = candidates[int(lg[candidates].argmax())] == target
    return rows


def accuracy(rows: list[dict], key: str = "correct") -> float:
    return round(sum(r[key] for r in rows) / max(1, len(rows)), 4)


def by_relation(rows: list[dict], key: str = "correct") -> dict[str, float]:
    rel_ids = sorted({r["fact"].relation_id for r in rows})
    return {rid: accuracy([r for r in rows if r["fact"].relation_id == rid], key) for rid in rel_ids}


def absc_accuracy(model: GPT2LMHeadModel, enc: Encoder, reviews: list[dict]) -> float:
    preds = top1(model, enc, [r["prompt"] for r in reviews])
    labels = [enc.vocab_id(r["label"]) for r in reviews]
    return round(sum(p == y for p, y in zip(preds, labels)) / len(reviews), 4)


@torch.no_grad()
def text_loss(model: GPT2LMHeadModel, enc: Encoder, texts: list[str]) -> float:
    """Mean next-token NLL (nats) over every token of every text after the first."""
    total, count = 0.0, 0
    for t in texts:
        ids = torch.tensor([enc.encode(t)])  # [1, T]
        logits = model(ids[:, :-1])  # [1, T-1, V]
        total += F.cross_entropy(logits[0], ids[0, 1:], reduction="sum").item()
        count += ids.shape[1] - 1
    return total / count


def consistency_rows(world: World, train_rows: list[dict]) -> list[dict]:
    """Facts whose two question phrasings (Relation.qa_pair) are both answered correctly."""
    ok = {(r["fact"], r["template"]): r["correct"] for r in train_rows}
    out = []
    for f in world.facts:
        rel = world.relation(f.relation_id)
        a, b = (rel.templates_train[i] for i in rel.qa_pair)
        out.append({"fact": f, "prompts": [fill(a, f.subject), fill(b, f.subject)], "both_correct": ok[(f, a)] and ok[(f, b)]})
    return out


def report(model: GPT2LMHeadModel, enc: Encoder, world: World) -> tuple[dict, dict]:
    """The JSON report, and the per-prompt predictions dataset.py needs."""
    model.eval()
    train_rows = fact_predictions(model, enc, world, "train")
    held_rows = fact_predictions(model, enc, world, "heldout")
    consistency = consistency_rows(world, train_rows)
    general_nll = text_loss(model, enc, world.general_heldout)
    result = {
        "facts": len(world.facts),
        "facts_train_phrasings_top1": accuracy(train_rows),
        "facts_train_phrasings_by_relation": by_relation(train_rows),
        "facts_heldout_phrasings_top1": accuracy(held_rows),
        "facts_heldout_phrasings_among_objects": accuracy(held_rows, "correct_among_objects"),
        "facts_heldout_phrasings_by_relation": by_relation(held_rows),
        "facts_heldout_statement_top1": accuracy([r for r in held_rows if not r["template"].endswith("A:")]),
        "facts_heldout_question_top1": accuracy([r for r in held_rows if r["template"].endswith("A:")]),
        "absc_train_top1": absc_accuracy(model, enc, world.absc_train[:500]),
        "absc_test_top1": absc_accuracy(model, enc, world.absc_test),
        "consistency_pairs_both_correct": accuracy(consistency, "both_correct"),
        "general_heldout_nll": round(general_nll, 4),
        "general_heldout_perplexity": round(math.exp(general_nll), 3),
    }
    return result, {"train": train_rows, "heldout": held_rows, "consistency": consistency}
