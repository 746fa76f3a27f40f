"""One small exporter per output format behind one interface, and their registry (hyperfine's exporters).

An exporter turns a `Subject` (a device report or a comparison, with its
plots, layout and JSON rendered on first use and shared between formats) into
files in a folder. Add a format by writing a module with a class decorated
with `@register_exporter` and listing the module in `EXPORTER_MODULES`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import ClassVar

from edge_bench.errors import ConfigError
from edge_bench.report.document import Document
from edge_bench.report.model import CompareReport, DeviceReport
from edge_bench.report.plots import Plot

EXPORTER_MODULES = ("html_export", "md_export", "json_export", "csv_export", "png_export")
_REGISTRY: dict[str, type["Exporter"]] = {}


@dataclass
class Subject:
    """What exporters render: a DeviceReport or a CompareReport, with its views computed once."""

    report: DeviceReport | CompareReport

    @property
    def is_compare(self) -> bool:
        return isinstance(self.report, CompareReport)

    @cached_property
    def plots(self) -> list[Plot]:
        """The plots, drawn once."""
        from edge_bench.report.plots import compare_plots, device_plots

        return compare_plots(self.report) if self.is_compare else device_plots(self.report)

    @cached_property
    def document(self) -> Document:
        """The laid-out document (HTML and Markdown)."""
        from edge_bench.report.layout import compare_document, device_document

        return (compare_document if self.is_compare else device_document)(self.report, self.plots)

    @cached_property
    def data(self) -> dict:
        """The JSON object (docs/report-schema.md)."""
        from edge_bench.report.schema import compare_json, device_json

        return (compare_json if self.is_compare else device_json)(self.report)

    @property
    def stem(self) -> str:
        """File-name stem: report-<device> or compare-<a>-vs-<b>."""
        if self.is_compare:
            return f"compare-{self.report.a.device}-vs-{self.report.b.device}"
        return f"report-{self.report.device}"


class Exporter:
    """Writes one format; `name` is what --format takes, `suffix` the main file's."""

    name: ClassVar[str] = ""
    suffix: ClassVar[str] = ""
    writes_plots: ClassVar[bool] = False
    """Whether PNG files are written beside the main file."""

    def write(self, subject: Subject, out_dir: Path) -> list[Path]:
        """Write the files of this format into out_dir (which exists); return them, main file first."""
        raise NotImplementedError


def register_exporter(cls: type[Exporter]) -> type[Exporter]:
    """Class decorator: make a format available under `cls.name`."""
    _REGISTRY[cls.name] = cls
    return cls


def _load() -> None:
    for module in EXPORTER_MODULES:
        importlib.import_module(f"edge_bench.report.{module}")


def exporter_names() -> list[str]:
    """The formats --format accepts, in EXPORTER_MODULES order (plug-ins registered elsewhere last)."""
    _load()
    order = [f"edge_bench.report.{m}" for m in EXPORTER_MODULES]
    rank = lambda name: order.index(_REGISTRY[name].__module__) if _REGISTRY[name].__module__ in order else len(order)  # noqa: E731  (a one-line local helper reads better as a lambda)
    return sorted(_REGISTRY, key=rank)


def get_exporter(name: str) -> Exporter:
    """An exporter by format name; an unknown one is a ConfigError listing the others."""
    _load()
    if name not in _REGISTRY:
        raise ConfigError(f"unknown report format {name!r}", hint=f"one of {', '.join(exporter_names())}")
    return _REGISTRY[name]()


def write_plots(subject: Subject, out_dir: Path) -> dict[str, Path]:
    """The subject's plots as PNG files beside the report: <stem>-<plot>.png."""
    paths = {}
    for plot in subject.plots:
        path = out_dir / f"{subject.stem}-{plot.name}.png"
        path.write_bytes(plot.png)
        paths[plot.name] = path
    return paths
