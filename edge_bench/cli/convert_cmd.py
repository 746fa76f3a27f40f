"""`edge-bench convert`: a zoo model to ExecuTorch, Core ML and TFLite, checked against eager."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from edge_bench.cli import app


def parse_batch_sizes(text: str) -> list[int]:
    """'1,8' -> [1, 8]; anything else is a ConfigError."""
    from edge_bench.errors import ConfigError

    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise ConfigError(f"--batch-sizes takes positive integers separated by commas, got {text!r}")
    return sizes


def _quiet_toolchains() -> None:
    """Silence the toolchains' own progress bars and version nags (before they import)."""
    import logging

    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("LITERT_TORCH_SHOW_PROGRESS", "n")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in ("coremltools", "absl", "torchao"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _calibration_set(dataset: str, data_dir: Path | None, split: str):
    from edge_bench.converters.samples import default_dataset
    from edge_bench.data import load_dataset

    if dataset == "synthetic" and split == "val":
        return default_dataset()
    return load_dataset(dataset, split=split, data_dir=data_dir, n_images=64)


@app.command("convert")
def convert_command(
    model: str = typer.Argument(..., help="Zoo entry (see `edge-bench models`)."),
    backend: str = typer.Option("all", "--backend", "-b", help="executorch, coreml, tflite or all."),
    precision: str = typer.Option("fp32", "--precision", "-p", help="fp32, fp16, int8-dynamic, int8 or all."),
    out: Path = typer.Option(None, "--out", "-o", help="Folder for artifact sets (default: edge-bench's cache)."),
    batch_sizes: str = typer.Option("1,8", "--batch-sizes", help="Static batch sizes, one artifact each, e.g. 1,8."),
    weights: Path = typer.Option(None, "--weights", help="Checkpoint file or folder to load into the model; 'untrained': its random initialisation."),
    dataset: str = typer.Option("synthetic", "--dataset", "-d", help="Real inputs for calibration and parity."),
    data_dir: Path = typer.Option(None, "--data-dir", help="Folder with the Karpathy JSON and images (flickr30k, mscoco)."),
    split: str = typer.Option("val", "--split", help="Split the calibration and parity inputs come from."),
) -> None:
    """Convert both towers, check each artifact against PyTorch on real inputs, and summarise."""
    import warnings

    _quiet_toolchains()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the toolchains' deprecation and version nags
        _convert(model, backend, precision, out, batch_sizes, weights, dataset, data_dir, split)


def _convert(model, backend, precision, out, batch_sizes, weights, dataset, data_dir, split) -> None:
    from edge_bench.cli.ui import console, err_console, progress_bars
    from edge_bench.converters import convert, plan_conversions
    from edge_bench.converters.artifact import writable_dir
    from edge_bench.models import create_model

    sizes = parse_batch_sizes(batch_sizes)
    plan = plan_conversions(backend, precision)
    if out is not None:
        writable_dir(out)
    for message in plan.skipped:
        err_console.print(f"[yellow]{message}[/]")
    clip = create_model(model, weights)
    samples = _calibration_set(dataset, data_dir, split)
    sets = []
    with progress_bars() as update:
        for name, prec in plan.jobs:
            sets.append(convert(clip, name, prec, out_root=out, batch_sizes=sizes, dataset=samples, progress=update))
    console.print(summary_table(sets))
    for artifact_set in sets:
        for line in parity_notes(artifact_set):
            err_console.print(f"[yellow]{line}[/]")
        console.print(f"[dim]{artifact_set.backend} {artifact_set.precision}: {artifact_set.dir}[/]")


def _fmt_cos(value) -> str:
    return "-" if value is None else f"{value:.5f}"


def summary_table(sets: list):
    """One row per artifact set and tower: files, size, time, FLOPs, parity."""
    from rich.table import Table

    table = Table(
        title="converted artifacts, parity against PyTorch eager on real inputs",
        caption="spec only: Core ML runs need macOS; inputs, outputs, ops and weight dtypes were checked",
    )
    for column in ("artifact set", "tower", "batch", "MB", "conv s", "GFLOP", "cos min", "max |Δ|", "parity"):
        table.add_column(
            column, justify="left" if column in ("artifact set", "tower", "parity") else "right", no_wrap=column in ("artifact set", "parity")
        )
    for artifact_set in sets:
        for tower, entry in artifact_set.manifest["towers"].items():
            parity = entry["parity"]
            smallest = entry["artifacts"][0]
            diff = parity.get("max_abs_diff")
            table.add_row(
                f"{artifact_set.backend} {artifact_set.precision}", tower,
                ",".join(str(a["batch"]) for a in entry["artifacts"]),
                f"{smallest['size_bytes'] / 1e6:.2f}", f"{entry['convert_s']:.1f}", f"{entry['flops'] / 1e9:.3f}",
                _fmt_cos(parity.get("cosine_min")), "-" if diff is None else f"{diff:.1e}",
                "spec only" if parity.get("cosine_min") is None else parity["status"],
            )
    return table


def parity_notes(artifact_set) -> list[str]:
    """A warning line per tower whose parity is below its precision's threshold."""
    notes = []
    for tower, entry in artifact_set.manifest["towers"].items():
        parity = entry["parity"]
        if parity["status"] == "warn":
            notes.append(
                f"warning: {artifact_set.backend} {artifact_set.precision} {tower} tower: cosine "
                f"{parity['cosine_min']:.4f} is below {parity['threshold']} (expected for some quantized models; check recall)"
            )
    return notes
