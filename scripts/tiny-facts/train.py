"""Training loop: a fixed mixture of sections per batch, AdamW, warmup + cosine schedule.

Each document is its own sequence starting at position 0 and ending with <|endoftext|>, so
training matches how the app prompts the model (no BOS, prompt at position 0). Each section
of a batch is its own right-padded sub-batch (short facts are not padded to the length of
long bios); with causal attention padding never influences real positions, and padded
targets are masked out of the loss. The loss is the mean over all real tokens of the batch.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from model import GPT2LMHeadModel

IGNORE = -100


@dataclass
class TrainConfig:
    steps: int = 3000
    batch_size: int = 64
    lr: float = 3e-3
    min_lr_ratio: float = 0.05
    warmup: int = 100
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    # documents per batch drawn from each section (sums to batch_size)
    mixture: tuple[tuple[str, float], ...] = (("facts", 0.45), ("bios", 0.15), ("absc", 0.15), ("general", 0.25))
    log_every: int = 50
    # weight of the loss at targets in `weighted_ids` (the ABSC labels for --mix sentiment): the label
    # after an opinion question is 1 token of ~40, so at weight 1 it barely moves the model
    label_weight: float = 1.0
    weighted_ids: tuple[int, ...] = ()


class SectionSampler:
    """Cycles through each section in seeded shuffled epochs, so every document is seen
    equally often and the order depends only on the seed."""

    def __init__(self, docs: dict[str, list[list[int]]], seed: int):
        self.docs = docs
        self.gen = torch.Generator().manual_seed(seed)
        self.queues: dict[str, list[int]] = {k: [] for k in docs}

    def take(self, section: str, n: int) -> list[list[int]]:
        out = []
        for _ in range(n):
            if not self.queues[section]:
                self.queues[section] = torch.randperm(len(self.docs[section]), generator=self.gen).tolist()
            out.append(self.docs[section][self.queues[section].pop()])
        return out


def batch_counts(cfg: TrainConfig) -> dict[str, int]:
    """Integer documents per section; rounding leftovers go to the first section."""
    counts = {k: int(w * cfg.batch_size) for k, w in cfg.mixture}
    counts[cfg.mixture[0][0]] += cfg.batch_size - sum(counts.values())
    return counts


class AnswerDoc(list):
    """A document's ids whose token at index `answer` (its answer's first token) is weighted like a
    label (TrainConfig.label_weight): build.py makes these for a mix's answer_sections."""

    def __init__(self, ids: list[int], answer: int):
        super().__init__(ids)
        self.answer = answer


def collate(docs: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Documents -> inputs [B, T], targets [B, T] (next token; padding = IGNORE) and a mask [B, T]
    of the targets that are an AnswerDoc's answer."""
    T = max(len(d) for d in docs) - 1
    x = torch.full((len(docs), T), pad_id, dtype=torch.long)
    y = torch.full((len(docs), T), IGNORE, dtype=torch.long)
    a = torch.zeros((len(docs), T), dtype=torch.bool)
    for i, d in enumerate(docs):
        ids = torch.tensor(d, dtype=torch.long)
        x[i, : len(d) - 1] = ids[:-1]
        y[i, : len(d) - 1] = ids[1:]
        if isinstance(d, AnswerDoc):
            a[i, d.answer - 1] = True  # the target at position t is id t + 1
    return x, y, a


def lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def make_optimizer(model: GPT2LMHeadModel, cfg: TrainConfig) -> torch.optim.AdamW:
    """Decay matrices only (not biases or LayerNorm gains), as in nanoGPT."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.98), eps=1e-8)


def accumulate_gradients(model: GPT2LMHeadModel, sub_batches: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], cfg: TrainConfig | None = None) -> float:
    """Backpropagates the token-mean loss over all sub-batches; returns that loss. With
    cfg.label_weight != 1 the targets in cfg.weighted_ids count label_weight times (weighted mean)."""
    if cfg is not None and cfg.label_weight != 1.0:
        return accumulate_weighted(model, sub_batches, cfg)
    n_tokens = sum(int((y != IGNORE).sum()) for _, y, _ in sub_batches)
    total = 0.0
    for x, y, _ in sub_batches:  # [B_s, T_s] each
        logits = model(x)  # [B_s, T_s, V]
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=IGNORE, reduction="sum")
        (loss / n_tokens).backward()
        total += loss.item()
    return total / n_tokens


def token_weights(y: torch.Tensor, answers: torch.Tensor, cfg: TrainConfig) -> torch.Tensor:
    """[B, T] weights: 0 at padding, label_weight at weighted ids and at answers, 1 elsewhere."""
    w = (y != IGNORE).float()
    return torch.where(torch.isin(y, torch.tensor(cfg.weighted_ids)) | answers, w * cfg.label_weight, w)


def accumulate_weighted(model: GPT2LMHeadModel, sub_batches: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], cfg: TrainConfig) -> float:
    total_w = sum(float(token_weights(y, a, cfg).sum()) for _, y, a in sub_batches)
    total = 0.0
    for x, y, a in sub_batches:  # [B_s, T_s] each
        logits = model(x)  # [B_s, T_s, V]
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=IGNORE, reduction="none")  # [B_s*T_s]
        loss = (nll * token_weights(y, a, cfg).reshape(-1)).sum()
        (loss / total_w).backward()
        total += loss.item()
    return total / total_w


def train(
    model: GPT2LMHeadModel,
    docs: dict[str, list[list[int]]],
    cfg: TrainConfig,
    seed: int,
    pad_id: int,
    log=print,
    checkpoint=None,
) -> list[dict]:
    """Trains in place; returns the logged history (step, loss, lr, seconds). `checkpoint(step)`,
    if given, runs after each logged step (build.py --save-every writes the files there)."""
    sampler = SectionSampler(docs, seed)
    counts = batch_counts(cfg)
    opt = make_optimizer(model, cfg)
    model.train()
    history = []
    start = time.time()
    running = 0.0
    for step in range(cfg.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg)
        sub_batches = [collate(sampler.take(section, n), pad_id) for section, n in counts.items()]
        opt.zero_grad(set_to_none=True)
        running += accumulate_gradients(model, sub_batches, cfg)
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
            n = (step % cfg.log_every) + 1
            entry = {"step": step + 1, "loss": round(running / n, 4), "lr": lr_at(step, cfg), "seconds": round(time.time() - start, 1)}
            history.append(entry)
            log(f"step {entry['step']:5d}  loss {entry['loss']:.4f}  lr {entry['lr']:.2e}  {entry['seconds']:.0f}s")
            running = 0.0
            if checkpoint is not None:
                checkpoint(step + 1)
    model.eval()
    return history
