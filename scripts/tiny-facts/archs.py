"""The two architectures build.py can train on the same world and tokenizer.

`gpt2` is the bundled tiny-facts (its files must stay byte-identical for the same seed);
`llama` is tiny-facts-llama: Llama layers, and the same BPE with a BOS token in front.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import bos_tokenizer
import bpe
from llama_model import LlamaConfig, LlamaForCausalLM
from model import GPT2LMHeadModel, GPTConfig

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


@dataclass(frozen=True)
class Arch:
    name: str
    out: str  # default output folder
    fixtures: str  # where tokenization.json goes
    report: str  # the JSON report
    encoder: type[bpe.Encoder]
    tokenizer_json: Callable[[bpe.Encoder], dict]
    new_model: Callable[[int], object]  # vocab size -> freshly initialised model
    from_hf: Callable[[dict], object]  # config.json -> model (uninitialised weights)


def _gpt2_from_hf(hf: dict) -> GPT2LMHeadModel:
    cfg = GPTConfig(hf["vocab_size"], hf["n_layer"], hf["n_head"], hf["n_embd"], hf["n_positions"], hf["layer_norm_epsilon"])
    return GPT2LMHeadModel(cfg)


ARCHS = {
    "gpt2": Arch(
        name="gpt2",
        out=os.path.join(REPO, "public/models/tiny-facts"),
        fixtures=os.path.join(REPO, "test/fixtures/tiny-facts"),
        report=os.path.join(HERE, "report.json"),
        encoder=bpe.Encoder,
        tokenizer_json=bpe.tokenizer_json,
        new_model=lambda vocab: GPT2LMHeadModel(GPTConfig(vocab_size=vocab)),
        from_hf=_gpt2_from_hf,
    ),
    "llama": Arch(
        name="llama",
        out=os.path.join(REPO, "public/models/tiny-facts-llama"),
        fixtures=os.path.join(REPO, "test/fixtures/tiny-facts-llama"),
        report=os.path.join(HERE, "report-llama.json"),
        encoder=bos_tokenizer.BosEncoder,
        tokenizer_json=bos_tokenizer.tokenizer_json,
        new_model=lambda vocab: LlamaForCausalLM(LlamaConfig(vocab_size=vocab)),
        from_hf=lambda hf: LlamaForCausalLM(LlamaConfig.from_hf(hf)),
    ),
}
