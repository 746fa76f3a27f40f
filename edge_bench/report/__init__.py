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
"""

from __future__ import annotations

from edge_bench.report.build import build_device_report
from edge_bench.report.compare import build_compare_report
from edge_bench.report.exporters import exporter_names
from edge_bench.report.writer import write_report

__all__ = ["build_compare_report", "build_device_report", "exporter_names", "write_report"]
