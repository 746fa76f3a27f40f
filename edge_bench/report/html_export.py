"""HTML: one self-contained file (inline CSS, plots as base64 PNG data URIs, no external fetches)."""

from __future__ import annotations

import base64
from html import escape
from importlib import resources
from pathlib import Path

from edge_bench.errors import EdgeBenchError
from edge_bench.report.document import Bullets, Document, Figure, Para, Section, Table
from edge_bench.report.exporters import Exporter, Subject, register_exporter

WRAP_COLUMNS = {"reason", "value", "converter"}
"""Columns whose long text may wrap."""


def _css() -> str:
    try:
        return resources.files("edge_bench.report").joinpath("report.css").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EdgeBenchError("the HTML report's style sheet (edge_bench/report/report.css) is not installed",
                             hint="reinstall edge-bench; its package data must include *.css") from None


def _cell_class(column: str, text: str, align: str) -> str:
    classes = ["r"] if align == "r" else []
    if column in WRAP_COLUMNS:
        classes.append("wrap")
    if "DISAGREES" in text or text in ("failed",):
        classes.append("flag-bad")
    elif "untrained" in text or text == "skipped":
        classes.append("flag-warn")
    return f' class="{" ".join(classes)}"' if classes else ""


def table_html(table: Table) -> str:
    """A table with its title as <caption> and its legend below."""
    head = "".join(f"<th{_cell_class('', '', table.alignment(i))}>{escape(c)}</th>" for i, c in enumerate(table.columns))
    body = "".join(
        "<tr>" + "".join(f"<td{_cell_class(table.columns[i], cell, table.alignment(i))}>{escape(cell)}</td>"
                         for i, cell in enumerate(row)) + "</tr>"
        for row in table.rows
    )
    caption = f"<caption>{escape(table.title)}</caption>" if table.title else ""
    legend = f'<p class="caption">{escape(table.caption)}</p>' if table.caption else ""
    return f'<div class="table-wrap"><table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{legend}'


def _block(block) -> str:
    if isinstance(block, Table):
        return table_html(block)
    if isinstance(block, Figure):
        data = base64.b64encode(block.plot.png).decode("ascii")
        cap = escape(block.plot.caption)
        return f'<figure><img src="data:image/png;base64,{data}" alt="{cap}"><figcaption>{cap}</figcaption></figure>'
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Para):
        if block.kind == "alert":
            return f'<div class="alert" role="alert">{escape(block.text)}</div>'
        return f'<p class="muted">{escape(block.text)}</p>' if block.kind == "muted" else f"<p>{escape(block.text)}</p>"
    raise TypeError(f"no HTML for {type(block).__name__}")


def _section(section: Section) -> str:
    return f'<section id="{escape(section.anchor)}"><h2>{escape(section.title)}</h2>' + \
        "".join(_block(b) for b in section.blocks) + "</section>"


def render_html(doc: Document) -> str:
    """The whole page."""
    nav = "".join(f'<a href="#{escape(s.anchor)}">{escape(s.title)}</a>' for s in doc.sections if s.anchor)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(doc.title)}</title><style>{_css()}</style></head>\n<body><main>"
        f'<header><h1>{escape(doc.title)}</h1><p class="subtitle">{escape(doc.subtitle)}</p><nav>{nav}</nav></header>\n'
        + "\n".join(_section(s) for s in doc.sections)
        + "\n<footer>Made by edge-bench. Latency in milliseconds, memory in MiB, recall in percent; "
          "the JSON report holds every figure with its raw samples.</footer></main></body></html>\n"
    )


@register_exporter
class HtmlExporter(Exporter):
    """One HTML file with everything embedded."""

    name = "html"
    suffix = ".html"

    def write(self, subject: Subject, out_dir: Path) -> list[Path]:
        path = out_dir / f"{subject.stem}{self.suffix}"
        path.write_text(render_html(subject.document), encoding="utf-8")
        return [path]
