"""The row of screen names under the header: which number key shows which screen, the current one lit."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from edge_bench.tui.settings import SCREEN_NAMES


def nav_text(current: str) -> Text:
    """'1 Devices  2 Plan  ...' with the current screen highlighted."""
    text = Text()
    for number, name in enumerate(SCREEN_NAMES, 1):
        style = "bold reverse" if name == current else ""
        text.append(f" {number} ", style="bold " + ("reverse" if name == current else "dim"))
        text.append(f"{name.capitalize()} ", style=style)
        text.append(" ")
    text.append("  ? help", style="dim")
    return text


class ScreenNav(Static):
    """Shows the screens and their keys; `current` is the screen it sits on."""

    DEFAULT_CLASSES = "nav"

    def __init__(self, current: str) -> None:
        super().__init__(nav_text(current))
