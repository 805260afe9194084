"""A small SentencePiece-style ("▁") BPE tokenizer with byte fallback, in Llama 2's tokenizer.json
layout (and the newer Metaspace layout), plus ids, display texts and subject spans computed here.

No `tokenizers` or `sentencepiece` package is installed, so this file is the independent side:
it learns a few hundred merges from a small corpus, writes the tokenizer.json files, and encodes
the test strings with its own encoder written from the format's definition:

    normalize   text with every " " replaced by "▁", and "▁" put in front (Llama 2: Prepend +
                Replace, always; Metaspace with prepend_scheme "first" and split false: only when
                the text does not already start with "▁", as HF's Rust Metaspace does)
    pieces      each character that is in the vocabulary; any other character becomes its UTF-8
                bytes as "<0xNN>" pieces (byte_fallback)
    merge       repeatedly merge the adjacent pair with the lowest merge rank (BPE)
    post        "<s>" (id 1) in front (TemplateProcessing "<s> $A")

Display texts (what the token strip shows): "▁" as a space, byte pieces assembled into their
character on the token that completes it (U+FFFD on the tokens before), "<s>" as itself.

    python3 scripts/reference/make_sentencepiece_fixture.py   # writes test/fixtures/tokenizers/sp-*/
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test/fixtures/tokenizers"
SP = "▁"
SPECIALS = ["<unk>", "<s>", "</s>"]
BOS = 1

CORPUS = [
    "Gosre Statistis lives in the city of Parrow",
    "The home city of Stenvuk Gredan is Velmo",
    "Every morning, Darner Drislulgor walks through the streets of Orvane",
    "Q: Where does Nisvon Vaskrok live? A: Parrow",
    "Danbilvas Tisdres plays the lute. The café is open.",
    "The Eiffel Tower is in Paris, the capital of France.",
    "It's a small world; numbers 0 12 345 stay digits.",
] * 3

CASES = [
    ("Gosre Statistis lives in the city of", "Gosre Statistis"),
    ("The home city of Stenvuk Gredan is", "Stenvuk Gredan"),
    ("Q: Where does Nisvon Vaskrok live? A:", "Nisvon Vaskrok"),
    ("The Eiffel Tower is in", "Eiffel Tower"),
    ("The café near Gosre Statistis", "Gosre Statistis"),
    ("Prices in € and ¥ for Danbilvas Tisdres", "Danbilvas Tisdres"),
    ("日本 and Gosre", "Gosre"),
    ("emoji 🙂 then Velmo", "Velmo"),
    ("  two leading spaces and Orvane", "Orvane"),
    ("Zebra Quixx", "Zebra Quixx"),
    ("a", None),
]
N_MERGES = 120


def normalize(text: str, layout: str = "llama2") -> str:
    text = text.replace(" ", SP)
    return text if layout == "metaspace" and text.startswith(SP) else SP + text


def train(corpus: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Characters of the corpus, then merges by pair frequency (ties: the pair itself), within
    "▁word" pieces as SentencePiece trains (no merge spans a word boundary)."""
    words = Counter("▁" + w for t in corpus for w in t.split(" "))
    chars = sorted({c for w in words for c in w})
    seqs = {w: list(w) for w in words}
    merges: list[tuple[str, str]] = []
    vocab = set(chars)
    while len(merges) < N_MERGES:
        counts: Counter[tuple[str, str]] = Counter()
        for w, s in seqs.items():
            for a, b in zip(s, s[1:]):
                counts[(a, b)] += words[w]
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        if counts[best] < 2:
            break
        merges.append(best)
        vocab.add(best[0] + best[1])
        for w, s in seqs.items():
            seqs[w] = merge_pair(s, best)
    pieces = chars + [a + b for a, b in merges if a + b not in chars]
    return list(dict.fromkeys(pieces)), merges


def merge_pair(s: list[str], pair: tuple[str, str]) -> list[str]:
    out, i = [], 0
    while i < len(s):
        if i + 1 < len(s) and (s[i], s[i + 1]) == pair:
            out.append(s[i] + s[i + 1])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return out


def byte_piece(b: int) -> str:
    return f"<0x{b:02X}>"


def encode(text: str, vocab: dict[str, int], ranks: dict[tuple[str, str], int], layout: str) -> list[str]:
    """Pieces of a text (no BOS), by the definition in the module docstring."""
    syms: list[str] = []
    for c in normalize(text, layout):
        syms += [c] if c in vocab else [byte_piece(b) for b in c.encode("utf-8")]
    while len(syms) > 1:
        pairs = [(ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(syms, syms[1:]))]
        rank, _ = min(pairs)
        if rank == 1 << 30:
            break
        syms = merge_pair(syms, next(p for p, r in ranks.items() if r == rank))
    return syms


def display_texts(pieces: list[str]) -> list[str]:
    """One text per piece: "▁" as space; byte pieces join into the character they complete."""
    out: list[str] = []
    pending = b""
    for p in pieces:
        if p.startswith("<0x") and p.endswith(">") and len(p) == 6:
            pending += bytes([int(p[3:5], 16)])
            try:
                out.append(pending.decode("utf-8"))
                pending = b""
            except UnicodeDecodeError:
                out.append("\ufffd")
            continue
        pending = b""
        out.append(p if p in SPECIALS else p.replace(SP, " "))
    return out


def subject_span(texts: list[str], specials: list[bool], subject: str) -> list[int]:
    """ROME's find_token_range on the display texts, special tokens counting as no text."""
    texts = ["" if s else t for t, s in zip(texts, specials)]
    whole = "".join(texts)
    at = whole.index(subject)
    end, pos, b = at + len(subject), 0, -1
    for i, t in enumerate(texts):
        nxt = pos + len(t)
        if b < 0 and nxt > at:
            b = i
        if nxt >= end:
            return [b, i + 1]
        pos = nxt
    raise AssertionError("unreachable")


def tokenizer_json(vocab: dict[str, int], merges: list[tuple[str, str]], layout: str) -> dict:
    added = [
        {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
        for i, t in enumerate(SPECIALS)
    ]
    bos = {"SpecialToken": {"id": "<s>", "type_id": 0}}
    post = {
        "type": "TemplateProcessing",
        "single": [bos, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [bos, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [BOS], "tokens": ["<s>"]}},
    }
    model = {
        "type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
        "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
        "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges],
    }
    if layout == "llama2":  # Llama 2 / TinyLlama / Mistral's conversion
        normalizer = {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": SP}, {"type": "Replace", "pattern": {"String": " "}, "content": SP}]}
        pre = None
        decoder = {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": SP}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    else:  # newer conversions: Metaspace pre-tokenizer and decoder
        normalizer = None
        pre = {"type": "Metaspace", "replacement": SP, "prepend_scheme": "first", "split": False}
        decoder = {"type": "Sequence", "decoders": [
            {"type": "Metaspace", "replacement": SP, "prepend_scheme": "first", "split": False}, {"type": "ByteFallback"}, {"type": "Fuse"}]}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": normalizer,
            "pre_tokenizer": pre, "post_processor": post, "decoder": decoder, "model": model}


def main() -> None:
    pieces, merges = train(CORPUS)
    vocab = {t: i for i, t in enumerate(SPECIALS + [byte_piece(b) for b in range(256)] + pieces)}
    ranks = {m: i for i, m in enumerate(merges)}
    cases: dict[str, list[dict]] = {"llama2": [], "metaspace": []}
    for (text, subject), layout in ((c, lay) for c in CASES for lay in cases):
        toks = ["<s>"] + encode(text, vocab, ranks, layout)
        texts = display_texts(toks)
        specials = [t in SPECIALS for t in toks]
        case = {"text": text, "ids": [vocab[t] for t in toks], "pieces": toks, "texts": texts}
        if subject is not None:
            case["subject"] = subject
            case["subject_range"] = subject_span(texts, specials, subject)
        cases[layout].append(case)
    for layout in ("llama2", "metaspace"):
        d = OUT / f"sp-{layout}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "tokenizer.json").write_text(json.dumps(tokenizer_json(vocab, merges, layout), ensure_ascii=False) + "\n")
    (OUT / "sp-cases.json").write_text(json.dumps({"made_by": "scripts/reference/make_sentencepiece_fixture.py", "bos_id": BOS, "cases": cases}, ensure_ascii=False, indent=1) + "\n")
    print(f"vocab {len(vocab)}, merges {len(merges)}, cases {len(CASES)} per layout")


if __name__ == "__main__":
    main()
