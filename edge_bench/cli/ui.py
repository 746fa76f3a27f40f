"""Shared terminal output for commands: a console, progress bars, tables."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

console = Console()
err_console = Console(stderr=True)


@contextmanager
def progress_bars() -> Iterator:
    """A callback `update(stage, done, total)` drawing one bar per stage on stderr."""
    bars = Progress(
        TextColumn("[bold]{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
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
