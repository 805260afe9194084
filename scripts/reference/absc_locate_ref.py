"""Reference for dataset mode's answerAmong (lib/interp/dataset.ts) on the ABSC locate study.

    /usr/bin/python3 scripts/reference/absc_locate_ref.py   # numpy; writes
                                                           # test/fixtures/trace/absc-locate.json

Independent of Causeway's code: the GPT-2 forward is gpt2_ref.forward (numpy, float64), ids come
from the tokenizer library (scripts/reference/encode.mts), and the two rules are written here:
  among labels   right when the label's first token has the highest last-position logit among the
                 three labels' first tokens (ABSC accuracy; the locate study traces these)
  whole vocab    right when the label's first token is the last position's top-1 (ROME's rule)
The bundled tiny-facts was trained on the reviews, so on their own prompts it ranks a label first
over the whole vocabulary and both rules agree. Each review is therefore kept in two forms:
  seen     the dataset's prompt, "... Sentiment of music:"
  unseen   the same without the final colon, "... Sentiment of music", a prompt the model never
           answers with a label over the whole vocabulary, yet still ranks the labels
From the train domain's in-domain test reviews (dataset.json absc_domains, in order) it keeps the
first N_RIGHT right and N_WRONG wrong among the labels in the unseen form, each with a margin of at
least MARGIN logits on every decision of both rules in both forms, so float32 (tfjs) cannot flip
them. Recorded per review and form: the prompt, the three label logits, the top-1 id, the label's
probability (softmax over the vocabulary) and both rules' verdicts; and the review's index in the split, aspect and label.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from gpt2_ref import forward, load_model  # noqa: E402
from loreft_train_ref import encode  # noqa: E402  (the tiny-facts tokenizer, via encode.mts)

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "public/models/tiny-facts"
OUT = ROOT / "test/fixtures/trace/absc-locate.json"
N_RIGHT, N_WRONG = 4, 4
MARGIN = 1e-2


def unseen(prompt: str) -> str:
    assert prompt.endswith(":"), prompt
    return prompt[:-1]


def verdicts(cfg, w, ids: list[int], label_ids: list[int], truth: int) -> dict | None:
    """Both rules on one prompt; None when a decision is within MARGIN logits."""
    logits, _ = forward(cfg, w, [ids])
    last = logits[0, -1]  # [V]
    lab = last[label_ids]  # [3]
    top = np.sort(lab)
    whole = np.sort(last)
    if top[-1] - top[-2] < MARGIN or whole[-1] - whole[-2] < MARGIN:
        return None
    top1 = int(np.argmax(last))
    p = np.exp(last - last.max())
    return {
        "label_logits": [float(x) for x in lab], "top1": top1,
        "label_prob": float(p[label_ids[truth]] / p.sum()),  # what a trace of the review measures
        "right_among_labels": int(np.argmax(lab)) == truth,
        "right_whole_vocab": top1 == label_ids[truth],
    }


def main() -> None:
    cfg, w = load_model(MODEL)
    doms = json.loads((MODEL / "dataset.json").read_text())["absc_domains"]
    labels = doms["labels"]
    reviews = doms[doms["train_domain"]]["test"]
    label_ids = [ids[0] for ids in encode(labels)]  # labels start with a space: as targetIds takes them
    seen_rows = encode([r["prompt"] for r in reviews])
    unseen_rows = encode([unseen(r["prompt"]) for r in reviews])
    kept: list[dict] = []
    right = wrong = 0
    for i, r in enumerate(reviews):
        if right >= N_RIGHT and wrong >= N_WRONG:
            break
        truth = labels.index(r["label"])
        u = verdicts(cfg, w, unseen_rows[i], label_ids, truth)
        s = verdicts(cfg, w, seen_rows[i], label_ids, truth)
        if u is None or s is None:
            continue  # too close to call in float32
        if (right if u["right_among_labels"] else wrong) >= (N_RIGHT if u["right_among_labels"] else N_WRONG):
            continue
        right += u["right_among_labels"]
        wrong += not u["right_among_labels"]
        kept.append({
            "index": i, "aspect": r["aspect"], "label": r["label"],
            "seen": {"prompt": r["prompt"], **s}, "unseen": {"prompt": unseen(r["prompt"]), **u},
        })
    OUT.write_text(json.dumps({
        "model": "tiny-facts", "labels": labels, "label_ids": label_ids, "margin": MARGIN,
        "reviews": kept,
    }, indent=1) + "\n")
    tally = {f: {k: sum(x[f][k] for x in kept) for k in ("right_among_labels", "right_whole_vocab")}
             for f in ("seen", "unseen")}
    print(f"wrote {OUT.relative_to(ROOT)}: {len(kept)} reviews, right per form and rule {tally}")


if __name__ == "__main__":
    main()
