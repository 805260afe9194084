"""Golden fixtures for the model runtime tests, computed by the numpy reference (gpt2_ref.py).

Regenerate (re-runnable; deterministic; run from the repo root with numpy installed):

    python3 scripts/reference/make_random_gpt2.py      # test/fixtures/random-gpt2-f16/ (only if it changed)
    python3 scripts/reference/make_goldens.py random    # test/fixtures/golden/random-gpt2-f16.{json,safetensors}
    python3 scripts/reference/make_goldens.py bundled   # test/fixtures/golden/tiny-facts.{json,safetensors}
    python3 scripts/reference/make_goldens.py           # both

Re-run `bundled` whenever public/models/tiny-facts/ is retrained. The bundled prompts are token-id
lists; their ids are stored in the manifest (the reference takes ids, never text). They come from
the model's tokenizer.json via scripts/reference/encode.mts (the tokenizer library, not Causeway's
code), so the JS test can also check that Causeway's tokenizer gives the same ids.

Each golden set is a JSON manifest plus one float32 safetensors file whose tensors are named
`<case>/logits` ([B, T, V], every position) and `<case>/<hook name>` (shapes as in
lib/model/intervention.ts). A case lists its ids ([B][T]), its interventions (plain JSON in the
lib/model/intervention.ts format), an optional activation override, and which hooks it recorded.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from gpt2_ref import Config, forward, hook_names, load_model, softmax, write_safetensors

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "test" / "fixtures" / "golden"
RANDOM_DIR = ROOT / "test" / "fixtures" / "random-gpt2-f16"
BUNDLED_DIR = ROOT / "public" / "models" / "tiny-facts"
MAX_BYTES = 2_000_000
ENGINE_PROMPT = "Hello, world! 42"


def run_cases(cfg: Config, w: dict, cases: list[dict]) -> tuple[list[dict], dict[str, np.ndarray]]:
    tensors: dict[str, np.ndarray] = {}
    manifest_cases = []
    all_hooks = hook_names(cfg.n_layer)
    for case in cases:
        logits, acts = forward(cfg, w, case["ids"], case.get("interventions"), case.get("activation"))
        record = all_hooks if case.get("record") == "all" else case.get("record", [])
        name = case["name"]
        shapes = {"logits": list(logits.shape)}
        tensors[f"{name}/logits"] = logits.astype(np.float32)
        probs = softmax(logits[:, -1, :])  # [B, V] next-token distribution after the last position
        tensors[f"{name}/probs_last"] = probs.astype(np.float32)
        shapes["probs_last"] = list(probs.shape)
        for h in record:
            tensors[f"{name}/{h}"] = acts[h].astype(np.float32)
            shapes[h] = list(acts[h].shape)
        entry = {k: v for k, v in case.items() if k != "record"}
        entry["recorded"] = list(record)
        entry["tensors"] = shapes
        manifest_cases.append(entry)
    return manifest_cases, tensors


def write_set(stem: str, model_dir: Path, cfg: Config, cases: list[dict]) -> None:
    _, w = load_model(model_dir)
    manifest_cases, tensors = run_cases(cfg, w, cases)
    GOLDEN.mkdir(parents=True, exist_ok=True)
    st = GOLDEN / f"{stem}.safetensors"
    write_safetensors(st, tensors)
    manifest = {
        "generator": "scripts/reference/make_goldens.py (numpy reference, float64 computed, float32 stored)",
        "model": str(model_dir.relative_to(ROOT)),
        # lets the tests tell stale goldens (a retrained model) from a broken runtime
        "modelSha256": hashlib.sha256((model_dir / "model.safetensors").read_bytes()).hexdigest(),
        "hooks": hook_names(cfg.n_layer),
        "cases": manifest_cases,
    }
    (GOLDEN / f"{stem}.json").write_text(json.dumps(manifest, indent=1) + "\n")
    size = st.stat().st_size
    print(f"wrote {st.relative_to(ROOT)} ({size} bytes, {len(tensors)} tensors) and {stem}.json")
    if size > MAX_BYTES:
        sys.exit(f"{st} is {size} bytes, over the {MAX_BYTES}-byte fixture budget")


def _r(rng: np.random.Generator, n: int, std: float = 1.0) -> list[float]:
    """Values rounded to float32 so the JSON manifest carries exactly what the test uploads."""
    return [float(np.float32(x)) for x in rng.normal(0.0, std, size=n)]


def random_cases(cfg: Config) -> list[dict]:
    rng = np.random.default_rng(7)
    V, D, E = cfg.vocab_size, cfg.d_model, cfg.d_model // cfg.n_head

    def ids(t: int) -> list[int]:
        return [int(x) for x in rng.integers(0, V, size=t)]

    pair = [ids(8), ids(8)]  # a batch of two rows for the intervention cases
    return [
        {"name": "p0", "ids": [ids(6)], "record": "all"},
        {"name": "p1", "ids": [ids(11)], "record": "all"},
        {"name": "full_ctx", "ids": [ids(cfg.n_ctx)], "record": ["blocks.1.attn.hook_pattern"]},
        {"name": "batch2", "ids": pair, "record": "all"},
        {"name": "gelu_exact", "ids": [ids(9)], "activation": "gelu", "record": "all"},
        {
            "name": "zero_head_z",
            "ids": pair,
            "interventions": [{"hook": "blocks.0.attn.hook_z", "op": "zero", "heads": [1], "positions": [2, 5]}],
            "record": "all",
        },
        {
            "name": "embed_noise",
            "ids": pair,
            "interventions": [
                {"hook": "hook_embed", "op": "add", "batchIndex": [1], "positions": [1, 2, 3], "value": _r(rng, 3 * D, 1.5)}
            ],
            "record": ["hook_embed", "blocks.0.hook_resid_pre", "blocks.1.hook_resid_post"],
        },
        {
            "name": "embed_noise_shared",
            "ids": pair,
            "interventions": [{"hook": "hook_embed", "op": "add", "positions": [0, 4], "value": _r(rng, D, 1.0)}],
            "record": ["hook_embed"],
        },
        {
            "name": "replace_resid_pre",
            "ids": pair,
            "interventions": [{"hook": "blocks.1.hook_resid_pre", "op": "replace", "positions": [4], "value": _r(rng, D)}],
            "record": ["blocks.1.hook_resid_pre", "blocks.1.attn.hook_pattern", "blocks.1.hook_resid_post"],
        },
        {
            "name": "scale_mlp_out",
            "ids": pair,
            "interventions": [{"hook": "blocks.0.hook_mlp_out", "op": "scale", "value": 0.5}],
            "record": ["blocks.0.hook_mlp_out", "blocks.1.hook_resid_pre"],
        },
        {
            "name": "pattern_scale",
            "ids": pair,
            "interventions": [
                {"hook": "blocks.1.attn.hook_pattern", "op": "scale", "heads": [0, 3], "positions": [6], "value": 2.0}
            ],
            "record": ["blocks.1.attn.hook_pattern", "blocks.1.attn.hook_z"],
        },
        {
            "name": "pattern_replace_slice",
            "ids": pair,
            "interventions": [
                {
                    "hook": "blocks.0.attn.hook_pattern",
                    "op": "replace",
                    "batchIndex": [1],
                    "positions": [3, 4],
                    "heads": [1, 2],
                    # rows × positions × heads × Tk
                    "value": [float(np.float32(x)) for x in rng.dirichlet(np.ones(8), size=4).reshape(-1)],
                }
            ],
            "record": ["blocks.0.attn.hook_pattern", "blocks.0.attn.hook_z"],
        },
        {
            "name": "qkv_edits",
            "ids": pair,
            "interventions": [
                {"hook": "blocks.0.attn.hook_q", "op": "scale", "heads": [0], "value": 3.0},
                {"hook": "blocks.0.attn.hook_k", "op": "add", "positions": [1], "heads": [2], "value": _r(rng, E)},
                {
                    "hook": "blocks.1.attn.hook_v",
                    "op": "replace",
                    "batchIndex": [0],
                    "positions": [0, 3],
                    "heads": [2, 3],
                    "value": _r(rng, 2 * 2 * E),
                },
            ],
            "record": ["blocks.0.attn.hook_q", "blocks.0.attn.hook_k", "blocks.0.attn.hook_pattern", "blocks.1.attn.hook_v"],
        },
        {
            "name": "stacked",
            "ids": pair,
            "interventions": [
                {"hook": "blocks.0.mlp.hook_post", "op": "add", "positions": [7], "value": _r(rng, cfg.d_mlp, 0.5)},
                {"hook": "blocks.0.mlp.hook_post", "op": "scale", "batchIndex": [0], "value": -1.0},
                {"hook": "blocks.1.hook_attn_out", "op": "zero", "positions": [0, 1, 2]},
                {"hook": "ln_final.hook_normalized", "op": "scale", "positions": [7], "value": 0.25},
            ],
            "record": ["blocks.0.mlp.hook_post", "blocks.1.hook_attn_out", "ln_final.hook_normalized"],
        },
        {
            # subject-noise corruption: one [P × D] value, the same noise in every row
            "name": "embed_noise_rows",
            "ids": pair,
            "interventions": [{"hook": "hook_embed", "op": "add", "positions": [2, 3, 4], "value": _r(rng, 3 * D, 1.5)}],
            "record": ["hook_embed", "blocks.1.hook_resid_post"],
        },
        {
            # a [Hs × E] value at hook_z: one vector per head, on every row and position
            "name": "z_per_head",
            "ids": pair,
            "interventions": [{"hook": "blocks.1.attn.hook_z", "op": "replace", "heads": [0, 3], "value": _r(rng, 2 * E)}],
            "record": ["blocks.1.attn.hook_z", "blocks.1.hook_attn_out"],
        },
        # Engine.predict on this model's byte-level tokenizer: these bytes are the token ids
        {"name": "engine_prompt", "text": ENGINE_PROMPT, "ids": [list(ENGINE_PROMPT.encode())], "record": []},
    ]


def make_random() -> None:
    cfg, _ = load_model(RANDOM_DIR)
    write_set("random-gpt2-f16", RANDOM_DIR, cfg, random_cases(cfg))


def encode(model_dir: Path, prompts: list[str]) -> list[list[int]]:
    out = subprocess.run(
        ["npx", "tsx", str(Path(__file__).with_name("encode.mts")), str(model_dir / "tokenizer.json"), *prompts],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def bundled_prompts() -> tuple[list[str], dict]:
    """Two known facts of different relations and a general-text prefix, from dataset.json."""
    ds = json.loads((BUNDLED_DIR / "dataset.json").read_text())
    facts = ds["known_facts"]
    first = facts[0]
    other = next((f for f in facts if f["relation_id"] != first["relation_id"]), facts[1])
    general = " ".join(ds["general_text"][0].split()[:8])
    return [first["prompt"], other["prompt"], general], first


def make_bundled() -> None:
    cfg, _ = load_model(BUNDLED_DIR)
    prompts, fact = bundled_prompts()
    # subject span: the tokens of the prompt up to the subject (its leading space belongs to the
    # subject's first token) and through the subject's end
    at = fact["prompt"].index(fact["subject"])
    head = fact["prompt"][:at].rstrip()
    upto = fact["prompt"][: at + len(fact["subject"])]
    *ids, ids_head, ids_upto = encode(BUNDLED_DIR, [*prompts, head or upto, upto])
    before, through = (len(ids_head) if head else 0), len(ids_upto)
    assert ids[0][:through] == ids_upto and before < through, "subject does not split on token boundaries"
    subject = list(range(before, through))
    rng = np.random.default_rng(11)
    D = cfg.d_model
    cases: list[dict] = []
    for i, (text, row) in enumerate(zip(prompts, ids, strict=True)):
        # every hook for the first prompt; logits (and the next-token distribution) for the rest
        cases.append({"name": f"p{i}", "text": text, "ids": [row], "record": "all" if i == 0 else []})
    cases += [
        {
            "name": "subject_noise",
            "text": prompts[0],
            "ids": [ids[0]],
            "interventions": [
                {"hook": "hook_embed", "op": "add", "positions": subject, "value": _r(rng, len(subject) * D, 0.5)}
            ],
            "record": ["blocks.0.hook_resid_pre"],
        },
        {
            "name": "ablate",
            "text": prompts[0],
            "ids": [ids[0]],
            "interventions": [
                {"hook": f"blocks.{cfg.n_layer // 2}.attn.hook_z", "op": "zero", "heads": [0, 1]},
                {"hook": f"blocks.{cfg.n_layer - 1}.hook_mlp_out", "op": "scale", "value": 0.0},
            ],
            "record": [],
        },
    ]
    write_set("tiny-facts", BUNDLED_DIR, cfg, cases)


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    if which in ("random", "all"):
        make_random()
    if which in ("bundled", "all"):
        make_bundled()
