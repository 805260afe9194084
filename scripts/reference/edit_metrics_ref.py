"""Goldens for the editing metrics (lib/edit/eval-fluency.ts, metrics.ts, eval-cases.ts), computed
outside tfjs with the literature's own code paths:

  words        nltk's NLTKWordTokenizer (the tokenizer nltk.word_tokenize applies per sentence),
               sentences split after . ! ? and white space (Punkt needs model data nothing ships)
  fluency      ROME's compute_n_gram_entropy / n_gram_entropy (kmeng01/rome
               experiments/py/eval_utils_counterfact.py), copied, with numpy
  CounterFact  ROME's summarize.py: per case the mean of NLL comparisons (success) and of
               exp(-nll) differences (magnitudes), then the mean over cases; the score is
               scipy.stats.hmean of efficacy, paraphrase and neighbourhood
  zsRE         ROME's summarize: per case the mean of the per-token top-1 hits, then over cases

    apt-get install python3-nltk python3-scipy
    /usr/bin/python3 scripts/reference/edit_metrics_ref.py   # writes test/fixtures/eval/metrics.json
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from nltk.tokenize import NLTKWordTokenizer
from scipy.stats import hmean

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "eval" / "metrics.json"

TOK = NLTKWordTokenizer()


def word_tokenize(text: str) -> list[str]:
    return [w for s in re.split(r"(?<=[.!?])\s+", text) for w in TOK.tokenize(s)]


# ROME's code, with nltk.word_tokenize replaced by word_tokenize above
def compute_freq(sentence, n=2):
    tokens = word_tokenize(sentence)
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    freq: dict = {}
    for g in grams:
        freq[g] = freq.get(g, 0) + 1
    return freq


def compute_n_gram_entropy(sentence, ns=None, weights=None):
    ns = ns or [2, 3]
    weights = weights or [2 / 3, 4 / 3]
    entropy_list = []
    for n in ns:
        fdist = compute_freq(sentence, n)
        freqs = np.array([freq for _, freq in fdist.items()], dtype=np.float64)
        freqs = freqs / freqs.sum() if freqs.size else freqs
        entropy_list.append(np.sum(-freqs * np.log(freqs) / np.log(2)))
    return float(np.mean(np.array(entropy_list) * np.array(weights)))


def n_gram_entropy(gen_texts):
    return float(np.mean([compute_n_gram_entropy(t) for t in gen_texts]))


TEXTS = [
    "Rekin Staral lives in the city of Halvek. Rekin Staral lives in the city of Halvek.",
    "Rekin Staral is a baker who works in Parrow. People often say that he plays the lute, "
    "and his friends don't mind: \"it's fine\", they say (mostly).",
    "The story of Gosre Statistis begins when the old miner sold his boat... Then he left! Why? Nobody knows.",
    "the the the the the the the the",
    "one two",
    "single",
    "",
    "Cannot you see? I'm gonna wanna go -- she said 'hello' & left; 50% of #1 @home cost $3.88.",
    "Q: Where does Vonbak Nerbak live? A: Orvane. Q: Which city is home to Nosluk Krasre? A: Parrow.",
    "A «quoted» word, “curly” quotes and ‘single’ ones; {braces} [brackets] <angles> *stars*.",
]


def counterfact_cases(rng: np.random.Generator):
    """Random per-prompt NLL pairs (new, true) for rewrite, paraphrase and neighbourhood prompts."""
    cases = []
    for i in range(12):
        n_para = int(rng.integers(0, 4))
        n_neigh = int(rng.integers(0, 6))
        nll = lambda k: [  # noqa: E731
            {"target_new": float(a), "target_true": float(b)}
            for a, b in rng.uniform(0.01, 6.0, size=(k, 2))
        ]
        cases.append({"case_id": i, "rewrite": nll(1), "paraphrase": nll(n_para), "neighborhood": nll(n_neigh)})
    return cases


def summarize_counterfact(cases):
    """ROME's summarize.py over CounterFact cases (its 'post' keys), without the ×100."""
    cur: dict[str, list] = {}
    for c in cases:
        for key, name in [("rewrite", "rewrite"), ("paraphrase", "paraphrase")]:
            xs = c[key]
            if not xs:
                continue
            cur.setdefault(f"{name}_success", []).append(np.mean([x["target_true"] > x["target_new"] for x in xs]))
            cur.setdefault(f"{name}_diff", []).append(
                np.mean([np.exp(-x["target_new"]) - np.exp(-x["target_true"]) for x in xs])
            )
        xs = c["neighborhood"]
        if xs:
            cur.setdefault("neighborhood_success", []).append(np.mean([x["target_true"] < x["target_new"] for x in xs]))
            cur.setdefault("neighborhood_diff", []).append(
                np.mean([np.exp(-x["target_true"]) - np.exp(-x["target_new"]) for x in xs])
            )
    m = {k: float(np.mean(v)) for k, v in cur.items()}
    m["score"] = float(hmean([m["rewrite_success"], m["paraphrase_success"], m["neighborhood_success"]]))
    return m


def main() -> None:
    rng = np.random.default_rng(14)
    cases = counterfact_cases(rng)
    zsre = [
        {
            "rewrite": [int(x) for x in rng.integers(0, 2, size=int(rng.integers(1, 4)))],
            "paraphrase": [int(x) for x in rng.integers(0, 2, size=int(rng.integers(1, 7)))],
            "neighborhood": [int(x) for x in rng.integers(0, 2, size=int(rng.integers(1, 4)))],
        }
        for _ in range(9)
    ]
    zm = {k: float(np.mean([np.mean(z[k]) for z in zsre])) for k in ["rewrite", "paraphrase", "neighborhood"]}
    zm["score"] = float(hmean([zm["rewrite"], zm["paraphrase"], zm["neighborhood"]]))
    hm_inputs = [[0.5, 0.25, 1.0], [1.0, 1.0, 1.0], [0.9, 0.3], [0.2]]
    out = {
        "source": "scripts/reference/edit_metrics_ref.py (nltk NLTKWordTokenizer, numpy, scipy hmean)",
        "texts": [
            {"text": t, "words": word_tokenize(t), "ngram_entropy": compute_n_gram_entropy(t)} for t in TEXTS
        ],
        "n_gram_entropy_all": n_gram_entropy([t for t in TEXTS if t]),
        "harmonic_means": [{"xs": xs, "hmean": float(hmean(xs))} for xs in hm_inputs],
        "counterfact": {"cases": cases, "summary": summarize_counterfact(cases)},
        "zsre": {"cases": zsre, "summary": zm},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
