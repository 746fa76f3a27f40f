"""Per-device reports and plots: what edge-bench leaves behind for a team, a paper or CI.

One call writes a report from the results store::

    from edge_bench.report import write_report
    from edge_bench.store import Store

    paths = write_report(Store(), "rpi5", ["html", "md", "json", "csv", "png"], Path("out"))
    paths = write_report(Store(), "rpi5", ["html"], Path("out"), compare="pixel-8")   # two devices side by side

`write_report(store, device, formats, out_dir, runs=None, compare=None, teacher=None,
metric="image_retrieval_recall@1") -> list[Path]` builds the report once and
hands it to one exporter per format; it raises EdgeBenchError subclasses
(unknown device, run or format) and never prints. Files are
`report-<device>.<ext>` (and `compare-<a>-vs-<b>.<ext>`); Markdown and png write
the plots as `<stem>-<plot>.png`; HTML embeds them. `exporter_names()` lists
the formats (html, md, json, csv, png).

Parts: `build` (store rows -> `DeviceReport`, the typed report model in
`model`), `compare` (two reports -> `CompareReport`), `analysis` (Pareto
front, teacher and distillation rows, notes), `plots` (matplotlib, Agg, lazy),
`layout` + `tables` (the document both HTML and Markdown draw), `schema` (the
JSON of docs/report-schema.md and the CSV rows), and `exporters` (the
interface and registry; one module per format).

The names load on first use and this module imports none of its submodules: an
__init__ that imported them would deadlock a thread importing, say,
`edge_bench.report.build` by its full name (holding its lock, then importing this
package) against one importing this package (holding its lock, then waiting for
`build`'s; Python raises _DeadlockError). tests/test_import_threads.py imports the two
from two threads at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge_bench.report.build import build_device_report
    from edge_bench.report.compare import build_compare_report
    from edge_bench.report.exporters import exporter_names
    from edge_bench.report.writer import write_report

__all__ = ["build_compare_report", "build_device_report", "exporter_names", "write_report"]
_LAZY = {"build_device_report": "build", "build_compare_report": "compare", "exporter_names": "exporters",
         "write_report": "writer"}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (the package is fully imported by then: no lock is held)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
