"""`edge-bench report`: per-device reports (HTML, Markdown, JSON, CSV) and two devices side by side."""

from __future__ import annotations

from pathlib import Path

import typer

from edge_bench.cli import app


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def _formats(values: list[str] | None) -> list[str]:
    from edge_bench.report import exporter_names

    names = _split(values) or ["html"]
    return exporter_names() if "all" in names else names


@app.command("report")
def report_command(
    device: str = typer.Option(None, "--device", "-D", help="Device to report on (profile name)."),
    compare: tuple[str, str] | None = typer.Option(None, "--compare", metavar="DEVICE_A DEVICE_B",
                                            help="Two devices side by side on the jobs they share."),
    runs: list[str] = typer.Option(None, "--runs", "-r", help="Run ids or unique prefixes, comma-separated "
                                   "(default: every stored run of the device; the newest ok job per model, backend, precision)."),
    formats: list[str] = typer.Option(None, "--format", "-f", help="html, md, json, csv, png (the plots alone) or all; comma-separated (default: html)."),
    out: Path = typer.Option(Path("edge-bench-report"), "--out", "-o", help="Folder to write into (created if missing)."),
    teacher: str = typer.Option(None, "--teacher", help="The distillation view's teacher (default: edgeclip-teacher "
                                "or a model named like a teacher)."),
    metric: str = typer.Option("image_retrieval_recall@1", "--metric",
                               help="Accuracy axis of the Pareto plot: image_retrieval_recall@1, text_retrieval_recall@1 or mean_recall."),
) -> None:
    """Write a report of stored results: fingerprint, speed, memory, recall, Pareto plot, distillation view, provenance.

    HTML is one self-contained file; Markdown writes its plots as PNG files
    beside it; JSON follows docs/report-schema.md; CSV has one row per job.
    """
    from edge_bench.cli.ui import console
    from edge_bench.errors import ConfigError
    from edge_bench.report import write_report
    from edge_bench.store import Store

    if bool(device) == bool(compare):
        raise ConfigError("give --device NAME or --compare DEVICE_A DEVICE_B (one of them)")
    store = Store()
    first, second = compare or (device, None)
    paths = write_report(store, first, _formats(formats), out, runs=_split(runs) or None, compare=second,
                         teacher=teacher, metric=metric)
    for path in paths:
        console.print(str(path), highlight=False, soft_wrap=True)

