"""`edge-bench convert`: a zoo model to ExecuTorch, Core ML and TFLite, checked against eager."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.markup import escape

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
    """(inputs, label) for calibration and parity; 'auto' falls back from val to train to a held-out part of test."""
    from edge_bench.converters.samples import default_dataset
    from edge_bench.data import load_dataset
    from edge_bench.data.calibration import CALIBRATION_IMAGES, calibration_set

    if dataset == "synthetic" and split in ("auto", "val"):
        return default_dataset(), "val"
    if split == "auto":
        return calibration_set(dataset, data_dir)
    return load_dataset(dataset, split=split, data_dir=data_dir, n_images=CALIBRATION_IMAGES), split


def _split(values: list[str] | None, default: str) -> list[str]:
    """Repeated and comma-separated values, in order, without repeats."""
    out: list[str] = []
    for value in values or [default]:
        out.extend(v.strip() for v in value.split(",") if v.strip() and v.strip() not in out)
    return out or [default]


def plan_many(backends: list[str], precisions: list[str]):
    """One ConvertPlan for lists of backends and precisions (each may hold 'all').

    A single backend and precision keep plan_conversions' rules (a backend
    that does not offer the precision is an error); with more, such pairs are
    skipped with a message, and only nothing left to convert is an error.
    """
    from edge_bench.converters import plan_conversions
    from edge_bench.converters.plan import ConvertPlan
    from edge_bench.errors import BackendUnavailable, ConfigError, PlanError
    from edge_bench.cli.checks import backend_problems, precision_problems

    problems = backend_problems([b for b in backends if b != "all"]) + precision_problems(precisions)
    if len(problems) > 1:
        raise PlanError(problems)
    pairs = [(b, p) for b in backends for p in precisions]
    if len(pairs) == 1:
        return plan_conversions(*pairs[0])
    merged = ConvertPlan()
    for backend, precision in pairs:
        try:
            part = plan_conversions(backend, precision)
        except BackendUnavailable as exc:  # everything of this pair was skipped
            part = ConvertPlan(skipped=[exc.message.removeprefix("nothing to convert: ")])
        except ConfigError as exc:
            if "does not offer" not in exc.message:
                raise
            part = ConvertPlan(skipped=[f"{backend}: skipped, it does not offer {precision} ({exc.hint})"])
        merged.jobs.extend(j for j in part.jobs if j not in merged.jobs)
        merged.skipped.extend(m for m in part.skipped if m not in merged.skipped)
    if not merged.jobs:
        raise BackendUnavailable("nothing to convert: " + "; ".join(merged.skipped))
    return merged


@app.command("convert")
def convert_command(
    model: str = typer.Argument(..., help="Zoo entry (see `edge-bench models`)."),
    backend: list[str] = typer.Option(None, "--backend", "-b", help="executorch, coreml, tflite or all; comma-separated or repeated (default: all)."),
    precision: list[str] = typer.Option(None, "--precision", "-p", help="fp32, fp16, int8-dynamic, int8 or all; comma-separated or repeated (default: fp32)."),
    out: Path = typer.Option(None, "--out", "-o", help="Folder for artifact sets (default: edge-bench's cache)."),
    batch_sizes: str = typer.Option("1,8", "--batch-sizes", help="Static batch sizes, one artifact each, e.g. 1,8."),
    weights: Path = typer.Option(None, "--weights", help="Checkpoint file or folder to load into the model; 'untrained': its random initialisation."),
    dataset: str = typer.Option("synthetic", "--dataset", "-d", help="Real inputs for calibration and parity."),
    data_dir: Path = typer.Option(None, "--data-dir", help="Folder with the Karpathy JSON and images (flickr30k, mscoco)."),
    split: str = typer.Option("auto", "--split", help="Split the calibration and parity inputs come from; auto: val, else train, else a held-out part of test."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or artifact folders: the table and the closing line."),
) -> None:
    """Convert both towers, check each artifact against PyTorch on real inputs, and summarise.

    What the converters print goes to a log file, named at the end.
    """
    import warnings

    _quiet_toolchains()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the toolchains' deprecation and version nags
        _convert(model, _split(backend, "all"), _split(precision, "fp32"), out, batch_sizes, weights, dataset, data_dir,
                 split, quiet)


def _convert(model, backends, precisions, out, batch_sizes, weights, dataset, data_dir, split, quiet=False) -> None:
    from edge_bench.cli.logs import OutputLog, new_log_path
    from edge_bench.cli.ui import console, err_console, progress_bars
    from edge_bench.converters import convert
    from edge_bench.converters.artifact import writable_dir
    from edge_bench.models import create_model

    sizes = parse_batch_sizes(batch_sizes)
    plan = plan_many(backends, precisions)
    if out is not None:
        writable_dir(out)
    for message in plan.skipped:
        err_console.print(f"[yellow]{escape(message)}[/]")
    sets = []
    log = OutputLog(new_log_path("convert"), title="convert")
    with log, progress_bars(quiet) as update:
        clip = create_model(model, weights)
        samples, label = _calibration_set(dataset, data_dir, split)
        for name, prec in plan.jobs:
            sets.append(convert(clip, name, prec, out_root=out, batch_sizes=sizes, dataset=samples, progress=update))
    console.print(summary_table(sets))
    for artifact_set in sets:
        for line in parity_notes(artifact_set):
            err_console.print(f"[yellow]{escape(line)}[/]")
        if not quiet:
            console.print(f"[dim]{artifact_set.backend} {artifact_set.precision}: {escape(str(artifact_set.dir))}[/]")
    console.print(f"calibration and parity inputs: {escape(dataset)} {escape(label)}; log: {escape(str(log.path))}")


def _fmt_cos(value) -> str:
    return "-" if value is None else f"{value:.5f}"


def summary_table(sets: list):
    """One row per artifact set and tower: files, size, time, FLOPs, parity."""
    from rich.table import Table

    coreml = any(s.backend == "coreml" for s in sets)  # a note only for what ran
    table = Table(
        title="converted artifacts, parity against PyTorch eager on real inputs",
        caption="spec only: Core ML runs need macOS; inputs, outputs, ops and weight dtypes were checked" if coreml else None,
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
