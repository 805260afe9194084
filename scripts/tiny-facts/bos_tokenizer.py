"""tiny-facts' byte-level BPE with a BOS token in front of every text, Llama 3's layout.

tiny-facts-llama reuses tiny-facts' merges and ids unchanged and adds one special token,
`<|begin_of_text|>`, at the next id. Its tokenizer.json is laid out as Llama 3's is: a
ByteLevel pre-tokenizer and a `Sequence[ByteLevel, TemplateProcessing]` post-processor that
puts the BOS token before every encoded text, so the model is trained, evaluated and prompted
with the BOS at position 0 (the subject's tokens start at position 1).
"""

from __future__ import annotations

import bpe

BOS = "<|begin_of_text|>"


class BosEncoder(bpe.Encoder):
    """bpe.Encoder whose `encode` prepends the BOS id (as HF does with add_special_tokens)."""

    def __init__(self, merges: list[tuple[str, str]]):
        super().__init__(merges)
        self.bos_id = len(self.id_to_token)
        self.id_to_token = [*self.id_to_token, BOS]
        self.vocab = {**self.vocab, BOS: self.bos_id}

    def encode(self, text: str) -> list[int]:
        return [self.bos_id, *super().encode(text)]

    def tokens(self, text: str) -> list[str]:
        return [BOS, *super().tokens(text)]

    def vocab_id(self, text: str) -> int:
        """The id of a text that encodes to exactly one token after the BOS."""
        ids = super().encode(text)
        assert len(ids) == 1, f"{text!r} is {len(ids)} tokens: {super().tokens(text)}"
        return ids[0]

    def decode(self, ids: list[int]) -> str:
        return super().decode([i for i in ids if i != self.bos_id])


def tokenizer_json(enc: BosEncoder) -> dict:
    """tiny-facts' tokenizer.json plus the BOS added token and Llama 3's post-processor."""
    out = bpe.tokenizer_json(enc)
    out["added_tokens"].append({**out["added_tokens"][0], "id": enc.bos_id, "content": BOS})
    bos = {"SpecialToken": {"id": BOS, "type_id": 0}}
    template = {
        "type": "TemplateProcessing",
        "single": [bos, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [
            bos,
            {"Sequence": {"id": "A", "type_id": 0}},
            {"SpecialToken": {"id": BOS, "type_id": 1}},
            {"Sequence": {"id": "B", "type_id": 1}},
        ],
        "special_tokens": {BOS: {"id": BOS, "ids": [enc.bos_id], "tokens": [BOS]}},
    }
    out["post_processor"] = {"type": "Sequence", "processors": [out["post_processor"], template]}
    return out
