"""PNG: the plots alone, as files (<stem>-<plot>.png); a report without plots gets one image saying why."""

from __future__ import annotations

from pathlib import Path

from edge_bench.report.exporters import Exporter, Subject, register_exporter, write_plots


@register_exporter
class PngExporter(Exporter):
    """The report's plots as PNG files, for slides and papers."""

    name = "png"
    suffix = ".png"
    writes_plots = True

    def write(self, subject: Subject, out_dir: Path) -> list[Path]:
        from edge_bench.report.plots import message_plot

        paths = list(write_plots(subject, out_dir).values())
        if paths:
            return paths
        plot = message_plot(subject.report.message or "no plot: the report has no figures to draw")
        path = out_dir / f"{subject.stem}-{plot.name}.png"
        path.write_bytes(plot.png)
        return [path]
