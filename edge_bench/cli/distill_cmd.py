"""`edge-bench distill`: train a teacher, distil a student, or train a same-budget baseline."""

from __future__ import annotations

from pathlib import Path

import typer

from edge_bench.cli import app


@app.command("distill")
def distill_command(
    student: str = typer.Option(..., "--student", "-s", help="EdgeCLIP entry whose architecture is trained (e.g. edgeclip-s-distilled)."),
    teacher: str = typer.Option(None, "--teacher", "-t", help="Teacher entry; omit to train contrastively from scratch."),
    teacher_weights: Path = typer.Option(None, "--teacher-weights", help="Checkpoint for the teacher (default: its shipped weights)."),
    dataset: str = typer.Option("synthetic", "--dataset", "-d", help="synthetic, flickr30k or mscoco (train and val splits)."),
    data_dir: Path = typer.Option(None, "--data-dir", help="Folder with the Karpathy JSON and images (flickr30k, mscoco)."),
    epochs: float = typer.Option(2.0, "--epochs", min=0.01, help="Passes over the training images."),
    seeds: int = typer.Option(1, "--seeds", min=1, help="Independent runs (seeds seed..seed+K-1); a summary gives mean and spread."),
    seed: int = typer.Option(0, "--seed", help="First seed."),
    batch_size: int = typer.Option(256, "--batch-size", min=2, help="Image-caption pairs per step."),
    lr: float = typer.Option(2e-3, "--lr", help="Peak learning rate."),
    fd_weight: float = typer.Option(None, "--fd-weight", help="Feature-distillation weight (default 1 with a teacher, else 0)."),
    sd_weight: float = typer.Option(None, "--sd-weight", help="Similarity-distillation weight (default 1 with a teacher, else 0)."),
    train_images: int = typer.Option(None, "--train-images", help="Use only the first N training images."),
    val_images: int = typer.Option(1000, "--val-images", help="Validation images for the card's recall."),
    threads: int = typer.Option(None, "--threads", min=1, help="PyTorch threads (default: PyTorch's choice)."),
    out: Path = typer.Option(Path("distilled.safetensors"), "--out", "-o", help="Checkpoint to write (.safetensors); a JSON card goes beside it."),
) -> None:
    """Train an EdgeCLIP model: distilled from a teacher (CLIP-KD losses), or from scratch.

    Writes an fp16 safetensors checkpoint and a JSON card (data, losses and
    weights, epochs, steps, seed, wall time, validation recall) per seed;
    evaluate it with `edge-bench eval --model STUDENT --weights OUT`.
    """
    from rich.table import Table

    from edge_bench.cli.ui import console, pct, progress_bars
    from edge_bench.distill.config import TrainConfig
    from edge_bench.distill.run import RECALL_KEYS, run_seeds

    with_teacher = teacher is not None
    cfg = TrainConfig(
        epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, threads=threads,
        fd_weight=(1.0 if with_teacher else 0.0) if fd_weight is None else fd_weight,
        sd_weight=(1.0 if with_teacher else 0.0) if sd_weight is None else sd_weight,
        train_images=train_images, val_images=val_images, bf16=False,
    )
    with progress_bars() as update:
        summary = run_seeds(student, cfg, seeds, out, dataset, data_dir, teacher, teacher_weights, update)
    table = Table(title=f"{student} {'distilled from ' + teacher if teacher else 'from scratch'}: validation recall %")
    table.add_column("metric")
    table.add_column("mean", justify="right")
    table.add_column("sd", justify="right")
    for key in RECALL_KEYS:
        if key in summary["val_mean"]:
            table.add_row(key, pct(summary["val_mean"][key]), pct(summary["val_sd"][key]))
    console.print(table)
    for run in summary["runs"]:
        console.print(f"wrote {out.parent / run['checkpoint']} ({run['steps']} steps, {run['wall_s']:.0f} s)")
