"""One or more seeds of training/distillation, with checkpoints and JSON cards."""

from __future__ import annotations

import json
import platform
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from edge_bench.distill.config import TrainConfig
from edge_bench.errors import ConfigError, ModelError

Progress = Callable[[str, int, int], None]
RECALL_KEYS = [f"{d}_retrieval_recall@{k}" for d in ("image", "text") for k in (1, 5, 10)] + ["mean_recall", "binding_score"]


def fresh_student(name: str, seed: int, vocab_from: list[str] | None = None):
    """A randomly initialised EdgeCLIP model of a zoo entry's architecture."""
    from edge_bench.models import get_spec
    from edge_bench.models.builtin import FAMILY, architecture, assemble, default_tokenizer
    from edge_bench.models.tokenizers import WordTokenizer

    spec = get_spec(name)
    if spec.family != FAMILY:
        raise ModelError(f"students must be EdgeCLIP models; {name!r} is {spec.family}", hint="e.g. --student edgeclip-s-distilled")
    from importlib import resources

    entry = json.loads(resources.files("edge_bench.models").joinpath("configs/edgeclip.json").read_text())["entries"][name]
    tokenizer = default_tokenizer() if vocab_from is None else WordTokenizer.from_corpus(vocab_from, context_length=32)
    return assemble(architecture(entry["arch"], tokenizer), tokenizer, name, seed=seed)


def card_for(result, cfg: TrainConfig, student_name: str, teacher, dataset, out: Path) -> dict:
    """The JSON card of one training run."""
    from edge_bench import __version__

    return {
        "student": student_name,
        "architecture": result.model.image_encoder.config.as_dict(),
        "teacher": None if teacher is None else {"name": teacher.name, "weights_sha256": teacher.weights.sha256},
        "data": {"dataset": dataset.name, "split": dataset.split, "images": dataset.n_images, "captions": dataset.n_captions},
        "settings": cfg.as_dict(),
        "losses": {"task": cfg.task_weight, "feature_distillation": cfg.fd_weight, "similarity_distillation": cfg.sd_weight},
        "steps": result.steps,
        "epochs": cfg.epochs,
        "seed": cfg.seed,
        "wall_s": round(result.wall_s, 1),
        "loss_curve": [round(x, 4) for x in result.losses],
        "val": result.val_recall,
        "history": result.history,
        "checkpoint": out.name,
        "edge_bench": __version__,
        "machine": platform.machine(),
    }


def run_seeds(
    student: str,
    cfg: TrainConfig,
    seeds: int,
    out: Path,
    dataset: str = "synthetic",
    data_dir: Path | None = None,
    teacher: str | None = None,
    teacher_weights: Path | None = None,
    progress: Progress | None = None,
) -> dict:
    """Train `seeds` runs (seed, seed+1, ...); write a checkpoint and a card per run and a summary."""
    from edge_bench.data import load_dataset
    from edge_bench.distill.train import train
    from edge_bench.models import create_model
    from edge_bench.models.builtin import save_checkpoint

    if out.suffix != ".safetensors":
        raise ConfigError(f"--out must end in .safetensors: {out}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {out.parent}: {exc.strerror}") from None
    train_set = load_dataset(dataset, "train", data_dir=data_dir, n_images=cfg.train_images)
    val_set = load_dataset(dataset, "val", data_dir=data_dir, n_images=cfg.val_images)
    teacher_model = create_model(teacher, teacher_weights) if teacher else None
    if teacher_model is not None and not teacher_model.weights.trained:
        raise ModelError(f"teacher {teacher!r} has no trained weights", hint="pass --teacher-weights or train it first")
    vocab = None if dataset == "synthetic" else train_set.captions
    runs = []
    for i in range(seeds):
        seed_cfg = replace(cfg, seed=cfg.seed + i)
        path = out if seeds == 1 else out.with_name(f"{out.stem}-seed{seed_cfg.seed}{out.suffix}")
        model = fresh_student(student, seed_cfg.seed, vocab)
        result = train(model, train_set, seed_cfg, teacher=teacher_model, val_set=val_set, progress=progress)
        card = card_for(result, seed_cfg, student, teacher_model, train_set, path)
        save_checkpoint(result.model, path, card=card)
        path.with_suffix(".json").write_text(json.dumps(card, indent=2))
        runs.append(card)
    summary = {"runs": runs, "val_mean": {}, "val_sd": {}}
    for key in RECALL_KEYS:
        values = [r["val"][key] for r in runs if key in r["val"]]
        if values:
            summary["val_mean"][key] = float(np.mean(values))
            summary["val_sd"][key] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    if seeds > 1:
        out.with_name(f"{out.stem}-summary.json").write_text(json.dumps(summary, indent=2))
    return summary
