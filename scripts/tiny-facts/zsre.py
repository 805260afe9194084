"""Adds a zsRE-format section ("zsre") to a built dataset.json, from the world's question phrasings,
without retraining and without changing any other key (the file is rewritten as build.py writes it,
so every other byte stays the same).

Each record has the fields of MEND's zsre_mend_eval.json that ROME reads (dsets/zsre.py):

  subject    the fact's subject
  src        a trained question phrasing the model answers correctly ("Q: Where does X live? A:"),
             taken from dataset.json's `consistency` (both trained questions answered correctly)
  rephrase   the relation's held-out question phrasing (never trained)
  answers    [the true object]; pred: the model's answer (the same: only correct facts are used)
  alt        the edit's new object: another object of the relation (MEND's edit target)
  loc        a question about an unrelated fact (another subject, another relation), trained
             phrasing, answered correctly by the model; loc_ans its answer
  relation_id, case_id

Objects are written without the leading space (as zsRE and CounterFact store them).

    /usr/bin/python3 scripts/tiny-facts/zsre.py [--dataset public/models/tiny-facts/dataset.json]
"""

from __future__ import annotations

import argparse
import json
import random

N_ZSRE = 150


def question_heldout(relation: dict) -> str:
    return next(t for t in relation["templates_heldout"] if t.endswith("A:"))


def zsre_records(dataset: dict, seed: int = 14) -> list[dict]:
    rng = random.Random(seed)
    relations = {r["relation_id"]: r for r in dataset["relations"]}
    pool = dataset["consistency"]
    by_rel: dict[str, list[dict]] = {}
    for c in pool:
        by_rel.setdefault(c["relation_id"], []).append(c)
    queues = {rid: rng.sample(cs, len(cs)) for rid, cs in sorted(by_rel.items())}
    out: list[dict] = []
    while len(out) < N_ZSRE and any(queues.values()):
        for rid, queue in queues.items():
            if not queue or len(out) >= N_ZSRE:
                continue
            c = queue.pop()
            rel = relations[rid]
            true = c["answer"].strip()
            alt = rng.choice([o.strip() for o in rel["objects"] if o.strip() != true])
            other = rng.choice([x for x in pool if x["relation_id"] != rid and x["subject"] != c["subject"]])
            out.append({
                "case_id": len(out),
                "subject": c["subject"],
                "src": c["prompts"][0],
                "rephrase": question_heldout(rel).replace("{}", c["subject"]),
                "answers": [true],
                "pred": true,
                "alt": alt,
                "loc": other["prompts"][0],
                "loc_ans": other["answer"].strip(),
                "relation_id": rid,
            })
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="public/models/tiny-facts/dataset.json")
    args = ap.parse_args()
    with open(args.dataset, encoding="utf-8") as fh:
        dataset = json.load(fh)
    dataset["zsre"] = zsre_records(dataset)
    with open(args.dataset, "w", encoding="utf-8") as fh:
        json.dump(dataset, fh, indent=1, ensure_ascii=False)  # as build.py's write_json
        fh.write("\n")
    print(f"{args.dataset}: {len(dataset['zsre'])} zsre records")


if __name__ == "__main__":
    main()
