"""Fresh CounterFact cases for the bundled tiny-facts: a held-out split nobody has tuned on.

The bundled dataset.json has 150 CounterFact cases (dataset.py's `counterfact`), all of which
have been looked at while tuning ROME (docs/edits.md, "ROME on cases nobody tuned on"). This
script makes more cases by the very same recipe and writes them as a ROME counterfact.json
(a list of cases), for `causeway edit --dataset FILE`:

1. rebuilds the world from its seed (world.build_world) and asks the committed model, with the
   plain-numpy GPT-2 forward of scripts/reference/gpt2_ref.py and the committed tokenizer's
   merges (bpe.Encoder), whether its greedy top-1 after every fact's statement phrasings is the
   true object (dataset.py's "the model knows it" filter; the trainer took it from torch);
2. replays dataset.py with that filter: known_facts and the 150 counterfact cases must come out
   equal to the bundled dataset.json (asserted), so the recipe and its random stream are the
   same;
3. keeps drawing from the recipe's per-relation queues, round-robin as dataset.counterfact does,
   and keeps only facts whose subject is the subject of none of the 150 bundled cases; the new
   cases get case_ids 150, 151, … .

Nothing is trained and public/models/* is only read. Plain numpy:

    python3 scripts/tiny-facts/extra_counterfact.py [--n 100] [--out data/tiny-facts-counterfact-150-249.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections.abc import Iterator

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "scripts", "reference"))

import dataset as ds  # noqa: E402
import gpt2_ref  # noqa: E402
from bpe import Encoder  # noqa: E402
from world import Fact, World, build_world, fill  # noqa: E402

MODEL_DIR = os.path.join(REPO, "public", "models", "tiny-facts")


def load_encoder(model_dir: str) -> Encoder:
    tok = json.load(open(os.path.join(model_dir, "tokenizer.json")))
    enc = Encoder([tuple(m.split(" ")) for m in tok["model"]["merges"]])
    assert enc.vocab == tok["model"]["vocab"], "tokenizer.json's vocabulary is not its merges' vocabulary"
    return enc


def model_correct(world: World, model_dir: str) -> dict[tuple[Fact, str], bool]:
    """Greedy top-1 == the true object after every fact's statement phrasings (numpy forward)."""
    cfg, w = gpt2_ref.load_model(model_dir)
    enc = load_encoder(model_dir)
    items = [(f, t) for f in world.facts for t in ds.statement_templates(world.relation(f.relation_id).templates_train)]
    by_len: dict[int, list[tuple[Fact, str, list[int]]]] = {}
    for f, t in items:
        ids = enc.encode(fill(t, f.subject))
        by_len.setdefault(len(ids), []).append((f, t, ids))
    correct: dict[tuple[Fact, str], bool] = {}
    for group in by_len.values():
        for i in range(0, len(group), 64):
            chunk = group[i : i + 64]
            logits, _ = gpt2_ref.forward(cfg, w, [ids for _, _, ids in chunk])  # [B, T, V]
            top = np.argmax(logits[:, -1, :], axis=-1)
            for (f, t, _), y in zip(chunk, top):
                correct[(f, t)] = int(y) == enc.vocab_id(" " + f.object)
    return correct


def counterfact_stream(world: World, rng: random.Random, correct) -> Iterator[dict]:
    """dataset.counterfact's loop without its N_COUNTERFACT stop: every case the recipe would make."""
    ids = ds.object_ids(world)
    by_rel: dict[str, list[Fact]] = {}
    for f in world.facts:
        by_rel.setdefault(f.relation_id, []).append(f)
    queues = {rid: rng.sample(fs, len(fs)) for rid, fs in sorted(by_rel.items())}
    n = 0
    skip: set[str] = set()  # subjects the stream's consumer has excluded (set after case 149)
    while any(queues.values()):
        for queue in queues.values():
            while queue and queue[-1].subject in skip:
                queue.pop()  # an excluded subject's fact: no case, no random draw
            if not queue:
                continue
            case = ds.counterfact_case(world, rng, queue.pop(), correct, ids, n)
            if case is not None:
                n += 1
                sent = yield case  # the consumer may send the subjects to exclude from now on
                if sent is not None:
                    skip = sent


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=100, help="new cases")
    p.add_argument("--out", default=os.path.join(REPO, "data", "tiny-facts-counterfact-150-249.json"))
    args = p.parse_args()

    bundled = json.load(open(os.path.join(MODEL_DIR, "dataset.json")))
    world = build_world(bundled["seed"])
    correct = model_correct(world, MODEL_DIR)
    print(f"model knows {sum(correct.values())} of {len(correct)} statement prompts", file=sys.stderr)

    # dataset.build_dataset's random stream: known_facts first, then counterfact
    rng = random.Random(world.seed + 1)
    assert ds.known_facts(world, rng, correct) == bundled["known_facts"], "known_facts differ from dataset.json"
    stream = counterfact_stream(world, rng, correct)
    old = [next(stream) for _ in range(ds.N_COUNTERFACT)]
    assert old == bundled["counterfact"], "the replayed counterfact cases differ from dataset.json"
    used = {c["requested_rewrite"]["subject"] for c in old}

    new: list[dict] = []
    case = stream.send(used)
    while len(new) < args.n:
        assert case["requested_rewrite"]["subject"] not in used
        new.append({**case, "case_id": ds.N_COUNTERFACT + len(new)})
        case = next(stream, None)
        if case is None:
            break
    if len(new) < args.n:
        sys.exit(f"only {len(new)} cases can be made from facts of unused subjects")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(new, f, indent=1)
        f.write("\n")
    rels: dict[str, int] = {}
    for c in new:
        rels[c["requested_rewrite"]["relation_id"]] = rels.get(c["requested_rewrite"]["relation_id"], 0) + 1
    subjects = {c["requested_rewrite"]["subject"] for c in new}
    print(f"wrote {len(new)} cases ({len(subjects)} subjects, by relation {rels}) to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
