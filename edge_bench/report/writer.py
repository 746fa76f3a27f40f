"""write_report: build the report once, hand it to each requested exporter, return the files written."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from edge_bench.errors import ConfigError


def _out_dir(out_dir: Path) -> Path:
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the report folder {out}: {exc.strerror}") from None
    return out


def write_report(store, device: str, formats: Sequence[str], out_dir: Path, runs: Sequence[str] | None = None,
                 compare: str | None = None, teacher: str | None = None,
                 metric: str = "image_retrieval_recall@1") -> list[Path]:
    """Write the report of `device` (or, with `compare`, of `device` against that device) in each format.

    `store` is an edge_bench.store.Store; `formats` are names from
    `exporter_names()` (html, md, json, csv); `runs` are run ids or unique
    prefixes (default: every stored run of the device(s)); `teacher` names the
    distillation view's teacher (default: the zoo's edgeclip-teacher, or a
    model named like a teacher); `metric` is the Pareto plot's accuracy axis.
    Returns the files written, each format's main file first.
    """
    from edge_bench.report.build import build_device_report
    from edge_bench.report.compare import build_compare_report
    from edge_bench.report.exporters import Subject, get_exporter

    if not formats:
        raise ConfigError("no report format given", hint="--format html, md, json or csv")
    exporters = [get_exporter(name) for name in dict.fromkeys(formats)]
    if compare:
        report = build_compare_report(store, (device, compare), runs)
    else:
        report = build_device_report(store, device, runs, teacher=teacher, metric=metric)
    subject = Subject(report)
    out = _out_dir(out_dir)
    written: list[Path] = []
    for exporter in exporters:
        written.extend(p for p in exporter.write(subject, out) if p not in written)
    return written
