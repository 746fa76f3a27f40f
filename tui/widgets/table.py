"""A DataTable that repaints its rows once their column widths are measured.

Textual 8.2's DataTable measures new rows when idle, but its row render cache
is keyed on a counter that the measuring does not change: rows painted
between `add_row` and that idle moment keep their old, too narrow columns
until something else changes (seen in our snapshots, about one run in three).
Changing the counter after the measuring repaints them at their widths.
"""

from __future__ import annotations

from typing import Iterable

from textual.widgets import DataTable


class Table(DataTable):
    """DataTable with the repaint-after-measure fix; use it for every table of the app."""

    def _update_dimensions(self, new_rows: Iterable) -> None:
        super()._update_dimensions(new_rows)
        self._update_count += 1  # invalidates the row and cell render caches (Textual keys them on it)
