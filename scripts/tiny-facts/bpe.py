"""Byte-level BPE in GPT-2's style: trainer, encoder, and an HF tokenizer.json writer.

No `tokenizers` package is available here, so this is a small from-scratch version. The
encoder must give exactly the ids that @huggingface/tokenizers computes from the written
tokenizer.json (test/tiny-facts-tokenizer.test.ts checks it), so it follows GPT-2's own
`encoder.py`: regex pre-tokenisation, bytes mapped to printable unicode, then merges applied
lowest rank first.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

EOT = "<|endoftext|>"

# GPT-2's pre-tokeniser regex. Its \p{L} and \p{N} become [A-Za-z] and [0-9]: every text in
# this world is ASCII (world.py asserts it), where the two patterns match identically.
PRETOKENIZE = re.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+"""
)


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map (space becomes 'Ġ')."""
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    # Insertion order is GPT-2's: it fixes the ids of the 256 byte tokens.
    return dict(zip(bs, map(chr, cs)))


BYTE_ENCODER = bytes_to_unicode()


def pretokenize(text: str) -> list[str]:
    """Splits text with GPT-2's regex and maps each piece's bytes to unicode symbols."""
    assert text.isascii(), f"non-ASCII text breaks the regex equivalence: {text!r}"
    return ["".join(BYTE_ENCODER[b] for b in piece.encode("utf-8")) for piece in PRETOKENIZE.findall(text)]


def _merge_pair(symbols: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    """Replaces every non-overlapping occurrence of `pair`, left to right."""
    out: list[str] = []
    i = 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == pair[0] and symbols[i + 1] == pair[1]:
            out.append(pair[0] + pair[1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


def train_bpe(
    texts: Iterable[str],
    vocab_size: int,
    forbidden: set[str] = frozenset(),
    min_count: int = 2,
) -> list[tuple[str, str]]:
    """Learns merges from `texts` until the vocabulary (bytes + merges + EOT) has `vocab_size`.

    `forbidden` lists pre-tokens (already byte-mapped, e.g. 'ĠVelmo') that must never become a
    single token: merges producing them are skipped, so subject names always span several
    tokens. Ties break on the pair itself so the result does not depend on dict order.
    """
    words = Counter(w for t in texts for w in pretokenize(t))
    # symbols of each distinct pre-token, with its count
    pieces = {w: tuple(w) for w in words}
    merges: list[tuple[str, str]] = []
    n_tokens = 256 + 1  # bytes + EOT
    seen = set(BYTE_ENCODER.values())
    while n_tokens < vocab_size:
        pair_counts: Counter[tuple[str, str]] = Counter()
        for w, syms in pieces.items():
            for a, b in zip(syms, syms[1:]):
                if a + b not in forbidden:
                    pair_counts[(a, b)] += words[w]
        if not pair_counts:
            break
        best = min(pair_counts, key=lambda p: (-pair_counts[p], p))
        if pair_counts[best] < min_count:
            break
        merges.append(best)
        if best[0] + best[1] not in seen:
            seen.add(best[0] + best[1])
            n_tokens += 1
        for w, syms in pieces.items():
            if best[0] in syms:
                pieces[w] = _merge_pair(syms, best)
    return merges


class Encoder:
    """GPT-2-style encoder over a merge list (ids: 256 bytes, then merges, then EOT)."""

    def __init__(self, merges: list[tuple[str, str]]):
        self.merges = list(merges)
        self.ranks = {pair: i for i, pair in enumerate(self.merges)}
        # Two merge paths can spell the same token ('ab'+'c', 'a'+'bc'): it keeps one id.
        tokens = list(dict.fromkeys(list(BYTE_ENCODER.values()) + [a + b for a, b in self.merges]))
        tokens.append(EOT)
        self.vocab = {tok: i for i, tok in enumerate(tokens)}
        self.id_to_token = tokens
        self.eot_id = self.vocab[EOT]
        self._cache: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return len(self.vocab)

    def vocab_id(self, text: str) -> int:
        """The id of a text that must encode to exactly one token (e.g. ' Orvane')."""
        ids = self.encode(text)
        assert len(ids) == 1, f"{text!r} is {len(ids)} tokens: {self.tokens(text)}"
        return ids[0]

    def bpe(self, piece: str) -> list[str]:
        """Applies merges to one pre-token, always taking the lowest-ranked pair present."""
        if piece in self._cache:
            return self._cache[piece]
        syms = tuple(piece)
        while len(syms) > 1:
            pairs = set(zip(syms, syms[1:]))
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            syms = _merge_pair(syms, best)
        self._cache[piece] = list(syms)
        return self._cache[piece]

    def encode(self, text: str) -> list[int]:
        """Ids as HF computes them: a literal '<|endoftext|>' is the special token."""
        ids: list[int] = []
        for i, part in enumerate(text.split(EOT)):
            if i > 0:
                ids.append(self.eot_id)
            ids += [self.vocab[t] for piece in pretokenize(part) for t in self.bpe(piece)]
        return ids

    def tokens(self, text: str) -> list[str]:
        """Token strings in GPT-2's unicode form ('Ġ' for a leading space)."""
        return [t for piece in pretokenize(text) for t in self.bpe(piece)]

    def decode(self, ids: list[int]) -> str:
        byte_decoder = {c: b for b, c in BYTE_ENCODER.items()}
        text = "".join(self.id_to_token[i] for i in ids if i != self.eot_id)
        return bytes(byte_decoder[c] for c in text).decode("utf-8", errors="replace")


def force_single_tokens(merges: list[tuple[str, str]], words: Iterable[str]) -> list[tuple[str, str]]:
    """Appends merges until every word in `words` (e.g. ' Orvane') encodes to one token.

    New merges go last (lowest priority), so all earlier tokenisations of other words are
    unchanged except where they contain the newly merged pair; callers re-check their
    invariants afterwards.
    """
    merges = list(merges)
    for word in words:
        (piece,) = pretokenize(word)  # a forced word must be one pre-token
        while len(syms := Encoder(merges).bpe(piece)) > 1:
            # Merge the longest-reaching adjacent pair first so the word closes in few merges.
            i = max(range(len(syms) - 1), key=lambda k: (len(syms[k]) + len(syms[k + 1]), -k))
            merges.append((syms[i], syms[i + 1]))
    return merges


def tokenizer_json(enc: Encoder) -> dict:
    """An HF tokenizer.json with exactly GPT-2's structure (tokenizers >= 0.13 layout)."""
    byte_level = {"add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": enc.eot_id,
                "content": EOT,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": True,
                "special": True,
            }
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", **byte_level},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": "",
            "end_of_word_suffix": "",
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": enc.vocab,
            "merges": [f"{a} {b}" for a, b in enc.merges],
        },
    }
