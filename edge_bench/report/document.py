"""A report as plain blocks (paragraphs, tables, figures, lists) that the HTML and Markdown exporters render.

Layout is decided once (edge_bench.report.layout); exporters only know how
to draw each kind of block.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_bench.report.plots import Plot


@dataclass(frozen=True)
class Para:
    """A paragraph; `kind` is 'text', 'alert' (must be seen first) or 'muted'."""

    text: str
    kind: str = "text"


@dataclass(frozen=True)
class Bullets:
    """A list of short lines."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table of text cells; `align` holds 'l' or 'r' per column; `caption` explains markers."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: str = ""
    caption: str = ""
    title: str = ""

    def alignment(self, index: int) -> str:
        """'l' or 'r' for a column (default: the first left, the rest right)."""
        return self.align[index] if index < len(self.align) else ("l" if index == 0 else "r")


@dataclass(frozen=True)
class Figure:
    """A plot with its caption."""

    plot: Plot


@dataclass
class Section:
    """A headed part of the report."""

    title: str
    blocks: list = field(default_factory=list)
    anchor: str = ""


@dataclass
class Document:
    """A whole report: title, subtitle and sections in reading order."""

    title: str
    subtitle: str
    sections: list[Section]
