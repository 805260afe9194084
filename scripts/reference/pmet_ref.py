"""Reference for PMET and PMET+BLUE (lib/edit/pmet.ts, pmet-delta.ts) in torch float64.

    /usr/bin/python3 scripts/reference/pmet_ref.py    # Debian's python3-torch; writes
                                                      # test/fixtures/pmet/pmet.json

Independent of Causeway's code: the forward passes are written here in torch (GPT-2 from the HF
GPT2LMHeadModel maths; Llama with check_families.py's torch attention and rotary), the weights
read with gpt2_ref / llama_ref, autograd gives the gradients and torch.optim.Adam (eps = 1e-7,
tfjs' default) the steps; the closed form and BLUE's layer choice are memit_ref.py's
(numpy.linalg.solve). It follows xpq-tech/PMET:

  compute_zs   δ_attn on the attention output and δ_mlp on the FFN output of layer l at the
               subject's last token of every prompt, one Adam over both; loss = nll_loss_factor ·
               NLL + kl_factor · KL(new ‖ orig on "{} is a") + v_weight_decay · (‖δ_mlp‖/‖h_mlp‖²
               + ‖δ_attn‖/‖h_attn‖²); each δ clamped to clamp_norm_factor · ‖h‖; the NLL weight
               drops to a tenth while the target is top-1 everywhere (stop once KL ≤ 0.01 too);
               stop below a loss of 0.05; no step after the last forward pass
  execute_pmet z = h_mlp + δ_mlp at the last layer; per layer i: K = FFN keys (mlp.hook_post at
               the subject's last token), R = (z − FFN output at the last layer now) / √(L − i),
               ΔW = (λC + K Kᵀ)⁻¹ K R, applied before the next layer
  BLUE         (xpq-tech/BLUE execute_pmet_lbl) first and last layer only, each with its own
               targets at that layer and its whole residual

Both subjects end their prompts, so that the NLL at layer 1 (the last) depends on δ there: a
subject inside the prompt leaves only the KL and the norm penalty, whose gradients at δ = 0 are
rounding noise that Adam blows up to steps of lr, differently in float32 and float64.

Cases: the random GPT-2 fixture (test/fixtures/random-gpt2-f16) and the Llama GQA fixture
(test/fixtures/families/llama-gqa-bf16), each with and without BLUE, two requests, C = I,
character token ids (index in the alphabet of test/fixtures/edit/random-model.ts), only the bare
prompt as context. test/edit-pmet.test.ts runs the app on the same cases and compares ΔW per layer.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
import gpt2_ref  # noqa: E402
import llama_ref  # noqa: E402
from check_families import t_attention, t_inv_freq, t_rms  # noqa: E402
from memit_ref import blue_layers, memit_delta  # noqa: E402

torch.set_default_dtype(torch.float64)
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test/fixtures/pmet/pmet.json"
ALPHABET = "abcdefghijklmnopqrstuvwxyz .,?!:ABCDEFGHIJKLMNOPQR"

REQUESTS = [
    {"prompt": "the home of {}", "subject": "bob", "target_new": "x"},
    {"prompt": "a game by {}", "subject": "amy", "target_new": "q"},
]
HPARAMS = {
    "v_num_grad_steps": 4,
    "v_lr": 0.1,
    "v_weight_decay": 0.5,
    "clamp_norm_factor": 0.75,
    "kl_factor": 0.5,
    "nll_loss_factor": 1,
    "mom2_update_weight": 0.5,
    "mom2_dataset": "identity",
    "context": {"per_length": 0},
}
EARLY_STOP = 0.05  # compute_zs: `if loss < 5e-2: break`


def enc(s: str) -> list[int]:
    return [ALPHABET.index(ch) for ch in s]


class Model:
    """A family's forward in torch with additive edits at hook_attn_out / hook_mlp_out."""

    def __init__(self, family: str, d: Path):
        self.family = family
        self.cfg = json.loads((d / "config.json").read_text())
        if family == "gpt2":
            _, w = gpt2_ref.load_model(d)
        else:
            _, w = llama_ref.load_llama(d)
        self.w = {k: torch.tensor(v) for k, v in w.items()}
        self.n_layer = self.cfg["n_layer"] if family == "gpt2" else self.cfg["num_hidden_layers"]

    def out_weight(self, layer: int) -> str:
        return f"h.{layer}.mlp.c_proj.weight" if self.family == "gpt2" else f"model.layers.{layer}.mlp.down_proj.weight"

    def add_delta(self, layer: int, dw: np.ndarray) -> None:
        """dW in the runtime layout [d_mlp, d_model] (Conv1D); nn.Linear holds its transpose."""
        t = torch.tensor(dw)
        name = self.out_weight(layer)
        self.w[name] = self.w[name] + (t if self.family == "gpt2" else t.T)

    def forward(self, ids: list[int], adds: dict | None = None):
        """(logits [T, V], acts {hook: [T, F]}) of one row; adds: {hook: (position, vector)}."""
        adds = adds or {}
        acts: dict[str, torch.Tensor] = {}

        def hook(name: str, x: torch.Tensor) -> torch.Tensor:  # x [1, T, F]
            if name in adds:
                pos, vec = adds[name]
                mask = torch.zeros(x.shape[1], 1)
                mask[pos] = 1
                x = x + mask[None] * vec
            acts[name] = x[0]
            return x

        return (self._gpt2 if self.family == "gpt2" else self._llama)(torch.tensor([ids]), hook), acts

    def _gpt2(self, ids, hook):
        w, c = self.w, self.cfg
        D, H = c["n_embd"], c["n_head"]
        E, T, eps = D // H, ids.shape[1], c["layer_norm_epsilon"]
        ln = lambda x, p: F.layer_norm(x, (D,), w[p + ".weight"], w[p + ".bias"], eps)  # noqa: E731
        x = w["wte.weight"][ids] + w["wpe.weight"][:T][None]
        causal = torch.ones(T, T).triu(1).bool()
        for layer in range(self.n_layer):
            p, n = f"h.{layer}.", f"blocks.{layer}."
            q, k, v = (ln(x, p + "ln_1") @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]).split(D, dim=-1)
            q, k, v = (a.view(1, T, H, E).transpose(1, 2) for a in (q, k, v))  # [1, H, T, E]
            att = torch.softmax((q @ k.transpose(-1, -2) / math.sqrt(E)).masked_fill(causal, float("-inf")), -1)
            z = (att @ v).transpose(1, 2).reshape(1, T, D)
            a = hook(n + "hook_attn_out", z @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"])
            x = x + a
            post = hook(n + "mlp.hook_post", F.gelu(ln(x, p + "ln_2") @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"], approximate="tanh"))
            x = x + hook(n + "hook_mlp_out", post @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"])
        return ln(x, "ln_f") @ w["wte.weight"].T

    def _llama(self, ids, hook):
        w, c = self.w, self.cfg
        H, Hkv = c["num_attention_heads"], c["num_key_value_heads"]
        E, eps, T = c["head_dim"], c["rms_norm_eps"], ids.shape[1]
        inv = t_inv_freq(E, c.get("rope_theta", 10000.0), c.get("rope_scaling"))
        x = w["model.embed_tokens.weight"][ids]
        for layer in range(self.n_layer):
            p, n = f"model.layers.{layer}.", f"blocks.{layer}."
            h = t_rms(x, w[p + "input_layernorm.weight"], eps)
            q, k, v = (F.linear(h, w[p + f"self_attn.{m}_proj.weight"]) for m in "qkv")
            z = t_attention(n, q.view(1, T, H, E), k.view(1, T, Hkv, E), v.view(1, T, Hkv, E), inv, {})
            x = x + hook(n + "hook_attn_out", F.linear(z, w[p + "self_attn.o_proj.weight"]))
            h = t_rms(x, w[p + "post_attention_layernorm.weight"], eps)
            post = hook(n + "mlp.hook_post", F.silu(F.linear(h, w[p + "mlp.gate_proj.weight"])) * F.linear(h, w[p + "mlp.up_proj.weight"]))
            x = x + hook(n + "hook_mlp_out", F.linear(post, w[p + "mlp.down_proj.weight"]))
        head = w["model.embed_tokens.weight"] if c.get("tie_word_embeddings") else w["lm_head.weight"]
        return F.linear(t_rms(x, w["model.norm.weight"], eps), head)


def bare(r: dict) -> tuple[list[int], int]:
    """The request's prompt with its subject, and the subject's last position."""
    text = r["prompt"].replace("{}", r["subject"])
    return enc(text), r["prompt"].index("{}") + len(r["subject"]) - 1


def compute_zs(m: Model, r: dict, layer: int, hp: dict):
    """PMET's compute_zs for one request: (z_mlp, z_attn, losses)."""
    ids, s = bare(r)
    target = enc(" " + r["target_new"])
    row = ids + target[:-1]
    kl_text = "{} is a".replace("{}", r["subject"])
    kl_ids, kl_s = enc(kl_text), len(r["subject"]) - 1
    A, M = f"blocks.{layer}.hook_attn_out", f"blocks.{layer}.hook_mlp_out"
    with torch.no_grad():
        _, acts = m.forward(row)
        h_attn, h_mlp = acts[A][s].clone(), acts[M][s].clone()
        kl_init = torch.log_softmax(m.forward(kl_ids)[0][0, kl_s], -1)
    D = h_mlp.shape[0]
    d_attn = torch.zeros(D, requires_grad=True)
    d_mlp = torch.zeros(D, requires_grad=True)
    opt = torch.optim.Adam([d_mlp, d_attn], lr=hp["v_lr"], eps=1e-7)
    nll_factor = hp["nll_loss_factor"]
    losses = []
    tpos = [len(ids) - 1 + i for i in range(len(target))]
    for it in range(hp["v_num_grad_steps"]):
        opt.zero_grad()
        adds = {A: (s, d_attn), M: (s, d_mlp)}
        lp = torch.log_softmax(m.forward(row, adds)[0][0], -1)  # [T, V]
        tgt = torch.stack([lp[t, target[i]] for i, t in enumerate(tpos)])
        mx = torch.stack([lp[t].max() for t in tpos])
        nll_each = -tgt.sum() / len(target)
        kl_lp = torch.log_softmax(m.forward(kl_ids, {A: (kl_s, d_attn), M: (kl_s, d_mlp)})[0][0, kl_s], -1)
        kl = hp["kl_factor"] * F.kl_div(kl_init[None], kl_lp[None], log_target=True, reduction="batchmean")
        decay = hp["v_weight_decay"] * (d_mlp.norm() / h_mlp.norm() ** 2 + d_attn.norm() / h_attn.norm() ** 2)
        loss = nll_factor * nll_each + kl + decay
        losses.append(loss.item())
        if loss.item() < EARLY_STOP:
            break
        if bool((mx == tgt).all()):  # max_prob == prob
            nll_factor = 0.1 * hp["nll_loss_factor"]
            if kl.item() <= 0.01:
                break
        else:
            nll_factor = hp["nll_loss_factor"]
        if it == hp["v_num_grad_steps"] - 1:
            break
        loss.backward()
        opt.step()
        with torch.no_grad():
            for d, h in ((d_mlp, h_mlp), (d_attn, h_attn)):
                mx_norm = hp["clamp_norm_factor"] * h.norm()
                if d.norm() > mx_norm:
                    d[...] = d * mx_norm / d.norm()
    return (h_mlp + d_mlp).detach().numpy(), (h_attn + d_attn).detach().numpy(), losses


def at_subject(m: Model, hook: str) -> np.ndarray:
    """[n, F]: the hook at each request's subject's last token in its bare prompt."""
    rows = []
    with torch.no_grad():
        for r in REQUESTS:
            ids, s = bare(r)
            rows.append(m.forward(ids)[1][hook][s].numpy())
    return np.stack(rows)


def run(family: str, d: Path, layers: list[int], blue: bool) -> dict:
    m = Model(family, d)
    hp = HPARAMS
    moved = blue_layers(layers, blue)
    targets = []
    out_layers = []
    zs = None
    if not blue:
        zs = [compute_zs(m, r, layers[-1], hp) for r in REQUESTS]
        targets += [{"z": z.tolist(), "z_attn": za.tolist(), "losses": ls, "z_layer": layers[-1]} for z, za, ls in zs]
    for i, layer in enumerate(moved):
        z_layer = layer if blue else layers[-1]
        if blue:
            zs = [compute_zs(m, r, layer, hp) for r in REQUESTS]
            targets += [{"z": z.tolist(), "z_attn": za.tolist(), "losses": ls, "z_layer": layer} for z, za, ls in zs]
        K = at_subject(m, f"blocks.{layer}.mlp.hook_post").T  # [M, n]
        h = at_subject(m, f"blocks.{z_layer}.hook_mlp_out")  # [n, D]
        share = 1.0 if blue else math.sqrt(len(moved) - i)
        R = (np.stack([z for z, _, _ in zs]) - h) / share  # [n, D]
        C = np.eye(K.shape[0])
        _, dw = memit_delta(C, K, R, hp["mom2_update_weight"])  # [M, D]
        m.add_delta(layer, dw)
        out_layers.append({"layer": layer, "dw": dw.ravel().tolist(), "shape": list(dw.shape)})
    return {
        "family": family,
        "model": str(d.relative_to(ROOT)),
        "layers": layers,
        "blue": blue,
        "targets": targets,
        "updates": out_layers,
    }


def main() -> None:
    models = [
        ("gpt2", ROOT / "test/fixtures/random-gpt2-f16"),
        ("llama", ROOT / "test/fixtures/families/llama-gqa-bf16"),
    ]
    cases = [run(f, d, [0, 1], blue) for f, d in models for blue in (False, True)]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"requests": REQUESTS, "hparams": HPARAMS, "cases": cases}))
    for c in cases:
        print(c["family"], "blue" if c["blue"] else "", [len(t["losses"]) for t in c["targets"]],
              [round(float(np.linalg.norm(u["dw"])), 5) for u in c["updates"]])
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
