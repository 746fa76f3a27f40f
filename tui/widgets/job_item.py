"""One job of a live run: its label, a progress bar over its stages, its status and figures, and why it failed."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, ProgressBar, Static

STAGES = ("convert", "push", "image", "text", "recall")
"""The runner's JobStage names, in order (android runs report their own; unknown ones count as a step)."""
STATUS_STYLE = {"ok": "bold green", "failed": "bold red", "skipped": "yellow", "cancelled": "yellow",
                "waiting": "dim", "running": "bold cyan"}


def figures_text(summary: dict, temps: tuple[float | None, float | None], untrained: bool) -> str:
    """The figures of a finished job: median latency per tower, images/s, Recall@1 and temperatures."""
    parts = []
    if "image_ms" in summary:
        parts.append(f"img {summary['image_ms']:.2f} ms")
    if "text_ms" in summary:
        parts.append(f"txt {summary['text_ms']:.2f} ms")
    if "image_per_s" in summary:
        parts.append(f"{summary['image_per_s']:.0f} img/s")
    if "t2i_r1" in summary:
        parts.append(f"R@1 {100 * summary['t2i_r1']:.1f}%" + ("*" if untrained else ""))
    before, after = temps
    if before is not None or after is not None:
        parts.append(f"{_deg(before)} → {_deg(after)}")
    return "  ".join(parts)


def _deg(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f} °C"


class JobItem(Vertical):
    """A job in the Run screen's list; the screen calls its methods as the runner's events arrive."""

    def __init__(self, label: str, skip: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.label = label
        self.skip = skip
        self.status = "waiting"
        self.step = 0

    def compose(self) -> ComposeResult:
        with Horizontal(classes="job-line"):
            yield Label(self.label, classes="job-label")
            yield ProgressBar(total=len(STAGES), show_eta=False, show_percentage=False, classes="job-bar")
            yield Static(Text("waiting", style=STATUS_STYLE["waiting"]), classes="job-status")
        yield Static("", classes="job-figures")
        yield Static("", classes="job-reason")

    def started(self) -> None:
        """The runner began this job."""
        self._status("running", "starting")

    def stage(self, name: str, detail: str = "") -> None:
        """A step inside the job began."""
        self.step = STAGES.index(name) + 1 if name in STAGES else self.step + 1
        self.query_one(ProgressBar).update(progress=min(self.step - 1, len(STAGES)))
        self._status("running", f"{name} {detail}".strip())

    def finished(self, status: str, reason: str | None, figures: str) -> None:
        """The job ended: ok, failed or skipped, with its figures or its reason."""
        bar = self.query_one(ProgressBar)
        bar.update(progress=len(STAGES) if status == "ok" else bar.progress)
        self._status(status, status)
        figures_line = self.query_one(".job-figures", Static)
        figures_line.update(figures)
        figures_line.display = bool(figures)
        self._reason(reason)

    def cancelled(self) -> None:
        """The run was cancelled before this job started."""
        self._status("cancelled", "cancelled")

    def _status(self, status: str, text: str) -> None:
        self.status = status
        self.set_class(status in ("failed",), "-failed")
        self.query_one(".job-status", Static).update(Text(text, style=STATUS_STYLE.get(status, "")))

    def _reason(self, reason: str | None) -> None:
        widget = self.query_one(".job-reason", Static)
        widget.update(Text(reason or "", style="red" if self.status == "failed" else "yellow"))
        widget.display = bool(reason)

    @property
    def reason(self) -> str:
        """The reason shown (failed or skipped jobs)."""
        return str(self.query_one(".job-reason", Static).content)
