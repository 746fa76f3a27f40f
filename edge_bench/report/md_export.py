"""Markdown that reads well as plain text: aligned pipe tables, wrapped prose, plots as PNG files beside it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from edge_bench.report.document import Bullets, Document, Figure, Para, Section, Table
from edge_bench.report.exporters import Exporter, Subject, register_exporter, write_plots

WIDTH = 100
"""Prose is wrapped at this many characters (tables are not)."""


def _fill(text: str, **kwargs) -> str:
    return textwrap.fill(text, WIDTH, break_on_hyphens=False, break_long_words=False, **kwargs)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table_markdown(table: Table) -> str:
    """A pipe table padded so its columns line up in a plain-text viewer."""
    cells = [[_cell(c) for c in table.columns]] + [[_cell(c) for c in row] for row in table.rows]
    widths = [max(3, *(len(row[i]) for row in cells)) for i in range(len(table.columns))]

    def line(row: list[str]) -> str:
        padded = [c.rjust(w) if table.alignment(i) == "r" else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if table.alignment(i) == "r" else ("-" * (w + 2))
                          for i, w in enumerate(widths)) + "|"
    lines = [line(cells[0]), rule] + [line(row) for row in cells[1:]]
    out = (f"**{table.title}**\n\n" if table.title else "") + "\n".join(lines)
    if table.caption:
        out += "\n\n" + _fill(table.caption)
    return out


def _block(block, images: dict[str, Path]) -> str:
    if isinstance(block, Table):
        return table_markdown(block)
    if isinstance(block, Figure):
        name = images[block.plot.name].name
        return f"![{block.plot.name} plot]({name})\n\n" + _fill(f"Figure: {block.plot.caption}.")
    if isinstance(block, Bullets):
        return "\n".join(_fill(item, initial_indent="- ", subsequent_indent="  ") for item in block.items)
    if isinstance(block, Para):
        if block.kind == "alert":
            return _fill(f"**WARNING:** {block.text}", initial_indent="> ", subsequent_indent="> ")
        return _fill(block.text)
    raise TypeError(f"no Markdown for {type(block).__name__}")


def _section(section: Section, images: dict[str, Path]) -> str:
    return f"## {section.title}\n\n" + "\n\n".join(_block(b, images) for b in section.blocks)


def render_markdown(doc: Document, images: dict[str, Path]) -> str:
    """The whole document; `images` maps plot names to the PNG files written beside it."""
    parts = [f"# {doc.title}", _fill(doc.subtitle)] + [_section(s, images) for s in doc.sections]
    return "\n\n".join(parts) + "\n"


@register_exporter
class MarkdownExporter(Exporter):
    """A .md file plus its plots as PNG files in the same folder."""

    name = "md"
    suffix = ".md"
    writes_plots = True

    def write(self, subject: Subject, out_dir: Path) -> list[Path]:
        images = write_plots(subject, out_dir)
        path = out_dir / f"{subject.stem}{self.suffix}"
        path.write_text(render_markdown(subject.document, images), encoding="utf-8")
        return [path, *images.values()]
