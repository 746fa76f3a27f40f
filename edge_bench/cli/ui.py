"""Shared terminal output for commands: a console, progress bars, tables.

In a terminal the consoles behave as rich's do. Piped or redirected (a log, a
CI job), they never wrap: plain lines keep to one line each, and a table is
printed at its full natural width, so every row stays one line.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

PIPED_WIDTH = 200
"""Width of a console whose output is not a terminal (unless COLUMNS says otherwise); tables widen beyond it."""


class CliConsole(Console):
    """A rich Console that, when not writing to a terminal, neither wraps lines nor table rows."""

    def print(self, *objects, **kwargs) -> None:  # noqa: A003  (rich's name)
        if self.is_terminal or self.is_jupyter:
            return super().print(*objects, **kwargs)
        from rich.measure import Measurement
        from rich.table import Table

        tables = [o for o in objects if isinstance(o, Table)]
        if not tables:
            kwargs.setdefault("soft_wrap", True)  # a line stays one line, however long
            return super().print(*objects, **kwargs)
        wide = self.options.update_width(100_000)
        need = max(Measurement.get(self, wide, table).maximum for table in tables)
        saved = self._width
        self._width = max(need, saved or PIPED_WIDTH)
        try:
            return super().print(*objects, **kwargs)
        finally:
            self._width = saved


console = CliConsole()
err_console = CliConsole(stderr=True)


@contextmanager
def progress_bars(quiet: bool = False) -> Iterator:
    """A callback `update(stage, done, total)` drawing one bar per stage on stderr.

    Bars are drawn only in a terminal; piped, or with `quiet`, the callback does nothing.
    """
    if quiet or not err_console.is_terminal:
        yield lambda stage, done, total: None
        return
    bars = Progress(
        TextColumn("[bold]{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
        redirect_stdout=False,  # third-party prints go to the log (edge_bench.cli.logs), not above the bars
        redirect_stderr=False,
    )
    tasks: dict[str, int] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bars.add_task(stage, total=total)
        bars.update(tasks[stage], completed=done, total=total)

    with bars:
        yield update


def pct(value: float | None) -> str:
    """A share as a percentage with one decimal, or '-'."""
    return "-" if value is None or value != value else f"{100 * value:.1f}"
