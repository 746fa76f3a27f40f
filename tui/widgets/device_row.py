"""One device of a lab run on the Run screen: its name, a bar of its jobs done, and its state in a few words."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar, Static

from edge_bench.tui.lab_progress import DeviceProgress
from edge_bench.tui.widgets.job_item import STATUS_STYLE

DEVICE_STYLE = {**STATUS_STYLE, "complete": "bold green", "partial": "bold yellow", "interrupted": "yellow"}


class DeviceRow(Horizontal):
    """A device's progress; the Run screen calls `show` as its events arrive."""

    def __init__(self, device: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.device = device

    def compose(self) -> ComposeResult:
        yield Label(self.device, classes="device-name")
        yield ProgressBar(total=None, show_eta=False, classes="device-bar")
        yield Static(Text("waiting", style="dim"), classes="device-state")

    def show(self, progress: DeviceProgress) -> None:
        """Draw the device's state now."""
        bar = self.query_one(ProgressBar)
        bar.update(total=max(progress.total, 1) if progress.total or progress.done else None, progress=progress.done)
        text = Text(progress.line(), style="red" if progress.reason else DEVICE_STYLE.get(progress.status, ""))
        self.query_one(".device-state", Static).update(text)
        self.set_class(bool(progress.failed or progress.reason), "-failed")
