"""tiny-facts-llama's shipped files through the independent numpy reference vs the torch trainer.

    /usr/bin/python3 scripts/tiny-facts/check_llama_ref.py [--out public/models/tiny-facts-llama]
                                                          [--standin DIR] [--write-goldens]

Reads the written model files (not the trainer's memory) twice: into the torch model that
trained them (llama_model.py, cpu_ops' convolution products) and into
scripts/reference/llama_ref.py (plain numpy, float64, written from HF's definition). Prompts are
tokenized by the Python encoder (bos_tokenizer.py: BOS first), not by the app. Prints the largest
logit difference and fails above 1e-4. With --write-goldens it also writes
test/fixtures/tiny-facts-llama/golden.json (numpy logits at the last position of each prompt,
and the subject spans), the numbers the tfjs tests compare with; with --standin it reads the
BF16 sharded hub stand-in (scripts/hub-standin/llama.ts) and writes its golden too.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "scripts/reference"))

import llama_ref  # noqa: E402
import safetensors_io  # noqa: E402
from archs import ARCHS  # noqa: E402
from bos_tokenizer import BosEncoder  # noqa: E402

PROMPTS = [
    ("Ralkrok Stennos lives in the city of", "Ralkrok Stennos"),
    ("Q: Where does Gosre Statistis live? A:", "Gosre Statistis"),
    ("The home city of Stenvuk Gredan is", "Stenvuk Gredan"),
]
TOP = 10


def encoder_from(tokenizer_path: str) -> BosEncoder:
    """The Python encoder over the shipped merges (the same BPE the trainer built)."""
    with open(tokenizer_path) as fh:
        merges = [tuple(m.split(" ")) for m in json.load(fh)["model"]["merges"]]
    enc = BosEncoder(merges)
    with open(tokenizer_path) as fh:
        vocab = json.load(fh)["model"]["vocab"]
    assert enc.vocab == vocab, "tokenizer.json's vocab differs from the encoder's"
    return enc


def subject_span(enc: BosEncoder, prompt: str, subject: str) -> list[int]:
    """Tokens overlapping the subject's characters; the BOS holds no text (ROME's rule)."""
    texts = [""] + [enc.decode([i]) for i in enc.encode(prompt)[1:]]
    at = "".join(texts).index(subject)
    starts = np.cumsum([0] + [len(t) for t in texts])
    ids = [i for i in range(1, len(texts)) if starts[i] < at + len(subject) and starts[i + 1] > at]
    return [ids[0], ids[-1] + 1]


def golden(cfg, w, enc: BosEncoder, source: str) -> dict:
    cases = []
    for prompt, subject in PROMPTS:
        ids = enc.encode(prompt)
        logits, _ = llama_ref.forward(cfg, w, [ids])
        last = logits[0, -1]
        top = np.argsort(-last, kind="stable")[:TOP]
        cases.append({
            "prompt": prompt, "subject": subject, "ids": ids, "subject_range": subject_span(enc, prompt, subject),
            "top": [{"id": int(i), "logit": float(last[i])} for i in top],
            "logits_last": [round(float(v), 6) for v in last],
        })
    return {"made_by": "scripts/tiny-facts/check_llama_ref.py (numpy llama_ref, float64)", "source": source, "cases": cases}


def check_bf16(f32: dict[str, np.ndarray], standin: str) -> None:
    """Every BF16 tensor of the stand-in's shards is torch's .to(bfloat16) of the F32 file."""
    n = 0
    for path in llama_ref.checkpoint_files(standin):
        data = open(path, "rb").read()
        (size,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8 : 8 + size])
        for name, info in header.items():
            if name == "__metadata__":
                continue
            assert info["dtype"] == "BF16", f"{name}: {info['dtype']}"
            begin, end = info["data_offsets"]
            bits = np.frombuffer(data[8 + size + begin : 8 + size + end], dtype="<u2")
            want = torch.from_numpy(f32[name]).to(torch.bfloat16).view(torch.int16).numpy().view("<u2").reshape(-1)
            assert np.array_equal(bits, want), f"{name}: BF16 bits differ from torch's rounding"
            n += bits.size
    assert n == sum(a.size for a in f32.values()), "the shards do not hold every tensor"
    print(f"stand-in: {n:,} BF16 values, all equal to torch's .to(bfloat16)")


def write(path: str, obj: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(obj, fh, indent=1)
        fh.write("\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=ARCHS["llama"].out)
    p.add_argument("--standin", help="the BF16 sharded stand-in folder")
    p.add_argument("--write-goldens", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)

    enc = encoder_from(os.path.join(args.out, "tokenizer.json"))
    cfg, w = llama_ref.load_llama(args.out)
    with open(os.path.join(args.out, "config.json")) as fh:
        model = ARCHS["llama"].from_hf(json.load(fh))
    tensors = safetensors_io.load_file(os.path.join(args.out, "model.safetensors"))
    model.load_hf_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
    model.eval()

    worst = 0.0
    batch = [enc.encode(prompt) for prompt, _ in PROMPTS]
    for ids in batch:
        ref, _ = llama_ref.forward(cfg, w, [ids])  # [1, T, V] float64
        with torch.no_grad():
            got = model(torch.tensor([ids])).double().numpy()  # [1, T, V]
        worst = max(worst, float(np.abs(ref - got).max()))
    print(f"numpy llama_ref vs torch trainer, {len(batch)} prompts, every position: max |Δlogit| = {worst:.2e}")
    assert worst < 1e-4, "the trainer's model and the reference disagree"

    if args.write_goldens:
        write(os.path.join(REPO, "test/fixtures/tiny-facts-llama/golden.json"), golden(cfg, w, enc, "public/models/tiny-facts-llama"))
    if args.standin:
        check_bf16(tensors, args.standin)
        scfg, sw = llama_ref.load_llama(args.standin)
        g = golden(scfg, sw, enc, "hub stand-in causeway-test/tiny-facts-llama-bf16 (BF16, 2 shards)")
        bf16_gap = max(abs(a["top"][0]["logit"] - b["top"][0]["logit"]) for a, b in zip(g["cases"], golden(cfg, w, enc, "")["cases"]))
        print(f"BF16 stand-in vs F32 files: top logit moves by at most {bf16_gap:.3f}")
        if args.write_goldens:
            write(os.path.join(REPO, "test/fixtures/hub-standin/llama-golden.json"), g)


if __name__ == "__main__":
    main()
