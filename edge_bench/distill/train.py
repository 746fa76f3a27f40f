"""Contrastive training and CLIP-KD distillation of EdgeCLIP models on the CPU.

Without a teacher this is CLIP training (symmetric InfoNCE with a learnable
temperature): it makes the teacher and the same-budget scratch baselines.
With a teacher, the student also matches the teacher's embeddings (feature
distillation) and its image-text similarity distributions (similarity
distillation). Teacher embeddings of the whole training split are computed
once up front, so a distillation step costs no teacher forward pass.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from edge_bench.data import RetrievalSet
from edge_bench.distill.config import TrainConfig
from edge_bench.distill.data import TrainArrays, arrays_for, epoch_order, pick_captions
from edge_bench.distill.losses import clip_loss, feature_distillation, similarity_distillation
from edge_bench.models import ClipModel

Progress = Callable[[str, int, int], None]


@dataclass
class TrainResult:
    """A trained model and what happened."""

    model: ClipModel
    losses: list[float]
    """Mean total loss per logged interval."""
    steps: int
    wall_s: float
    val_recall: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    """Validation figures over training (with eval_every)."""


@dataclass
class TeacherTargets:
    """The teacher's embeddings of every training image and caption."""

    image: torch.Tensor
    text: torch.Tensor


def teacher_targets(teacher: ClipModel, dataset: RetrievalSet, batch_size: int = 256, progress: Progress | None = None) -> TeacherTargets:
    """Encode the training split with the teacher, once (its own preprocessing and tokenizer).

    A trained teacher's targets are cached on disk by its weights' sha256 and the
    split, so several seeds and students share one pass.
    """
    from edge_bench import paths
    from edge_bench.evaluate import embed_dataset

    path = None
    if teacher.weights.sha256:
        path = paths.cache_dir() / "teacher-targets" / f"{teacher.weights.sha256[:16]}-{dataset.name}-{dataset.fingerprint}.npz"
        if path.is_file():
            data = np.load(path)
            return TeacherTargets(torch.from_numpy(data["image"]), torch.from_numpy(data["text"]))
    image, text, _ = embed_dataset(teacher.eval(), dataset, batch_size, progress)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, image=image, text=text)
        tmp.replace(path)
    return TeacherTargets(torch.from_numpy(image), torch.from_numpy(text))


def _param_groups(modules: list[nn.Module], weight_decay: float) -> list[dict]:
    decay, no_decay = [], []
    for module in modules:
        for name, p in module.named_parameters():
            if not p.requires_grad:
                continue
            (decay if p.ndim >= 2 and "embed" not in name and "pos" not in name else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _lr_at(step: int, total: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps)
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


class _Trainer:
    """One training run's state: model, optimiser, batches, optional teacher targets."""

    def __init__(self, student: ClipModel, arrays: TrainArrays, cfg: TrainConfig, targets: TeacherTargets | None) -> None:
        self.student, self.arrays, self.cfg, self.targets = student, arrays, cfg, targets
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.projector = None
        if targets is not None and targets.image.shape[1] != student.embed_dim:
            self.projector = nn.Linear(student.embed_dim, targets.image.shape[1], bias=False)
        modules = [student.image_encoder, student.text_encoder] + ([self.projector] if self.projector else [])
        groups = _param_groups(modules, cfg.weight_decay)
        groups[1]["params"].append(self.logit_scale)
        self.optimizer = torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.98), eps=1e-6)
        pp = student.preprocess
        self.mean = torch.tensor(pp.mean).view(1, 3, 1, 1)
        self.std = torch.tensor(pp.std).view(1, 3, 1, 1)

    def step(self, images: np.ndarray, captions: np.ndarray, lr: float) -> float:
        """One optimiser step on a batch; returns the total loss."""
        cfg = self.cfg
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        pixels = (torch.from_numpy(self.arrays.pixels[images]).float() / 255.0 - self.mean) / self.std
        tokens = torch.from_numpy(self.arrays.tokens[captions])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            s_image = self.student.image_encoder(pixels).float()
            s_text = self.student.text_encoder(tokens).float()
        loss = cfg.task_weight * clip_loss(s_image, s_text, self.logit_scale)
        if self.targets is not None:
            t_image, t_text = self.targets.image[images], self.targets.text[captions]
            if cfg.fd_weight:
                p_image, p_text = (self.projector(s_image), self.projector(s_text)) if self.projector else (s_image, s_text)
                p_image = p_image / p_image.norm(dim=-1, keepdim=True)
                p_text = p_text / p_text.norm(dim=-1, keepdim=True)
                loss = loss + cfg.fd_weight * 0.5 * (feature_distillation(p_image, t_image) + feature_distillation(p_text, t_text))
            if cfg.sd_weight:
                loss = loss + cfg.sd_weight * similarity_distillation(s_image, s_text, t_image, t_text, cfg.sd_temperature)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for g in self.optimizer.param_groups for p in g["params"]], 1.0)
        self.optimizer.step()
        return float(loss.detach())


def train(
    student: ClipModel,
    train_set: RetrievalSet,
    cfg: TrainConfig,
    teacher: ClipModel | None = None,
    val_set: RetrievalSet | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """Train `student` in place (contrastive; distilled when a teacher is given)."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    arrays = arrays_for(student, train_set, progress)
    targets = teacher_targets(teacher, train_set, progress=progress) if teacher is not None and (cfg.fd_weight or cfg.sd_weight) else None
    trainer = _Trainer(student, arrays, cfg, targets)
    keep_pairs = cfg.hard_negatives and train_set.name == "synthetic"
    steps_per_epoch = max(1, arrays.n_images // cfg.batch_size)
    total = max(1, int(round(cfg.epochs * steps_per_epoch)))
    eval_steps = int(cfg.eval_every * steps_per_epoch) if cfg.eval_every else 0
    student.image_encoder.train()
    student.text_encoder.train()
    losses, window, history, order = [], [], [], np.zeros(0, dtype=np.int64)
    log_every = max(1, min(20, total // 20))
    start = time.perf_counter()
    for step in range(total):
        if len(order) < cfg.batch_size:
            order = np.concatenate([order, epoch_order(arrays.n_images, rng, keep_pairs)])
        images, order = order[: cfg.batch_size], order[cfg.batch_size :]
        window.append(trainer.step(images, pick_captions(arrays, images, rng), _lr_at(step, total, cfg)))
        if len(window) == log_every or step == total - 1:
            losses.append(float(np.mean(window)))
            window = []
        if progress:
            progress("train", step + 1, total)
        if eval_steps and val_set is not None and (step + 1) % eval_steps == 0 and step + 1 < total:
            history.append({"step": step + 1, **_validate(student, val_set)})
    wall = time.perf_counter() - start
    student.eval()
    val = _validate(student, val_set) if val_set is not None else {}
    if val:
        history.append({"step": total, **val})
    return TrainResult(student, losses, total, wall, val, history)


def _validate(model: ClipModel, val_set: RetrievalSet) -> dict:
    from edge_bench.evaluate import evaluate

    model.eval()
    result = evaluate(model, val_set)
    model.image_encoder.train()
    model.text_encoder.train()
    out = dict(result.recall)
    out.update(result.extra)
    return out
