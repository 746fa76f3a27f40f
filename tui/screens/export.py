"""Export: write a device's report (HTML, Markdown, JSON, CSV, PNG plots) with edge_bench.report."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Footer, Header, Input, Select, Static

from edge_bench.errors import EdgeBenchError
from edge_bench.tui.screens.stored import StoredView
from edge_bench.tui.widgets.form import TickList, labelled
from edge_bench.tui.widgets.nav import ScreenNav

def report_formats() -> tuple[str, ...]:
    """The formats the report writer offers (its exporter registry)."""
    from edge_bench.report import exporter_names

    return tuple(exporter_names())


class ExportScreen(StoredView):
    """A form for one device's report; the writing happens in a worker."""

    CSS_PATH = "export.tcss"
    HELP = """\
## Export

Writes the report of one device from the results store: speed, memory,
recall and fidelity tables and the accuracy-versus-throughput plots, in the
formats ticked, into the folder given.

Runs marked on the Results screen (space) limit the report to those runs;
with none marked it covers every run on the device. With a second device in
`against`, the report puts the two devices side by side.

- **ctrl+e**: write the report.
- **a**: forget the marked runs (report on all of them).
"""
    BINDINGS = [Binding("ctrl+e", "export", "Write report", priority=True), Binding("a", "all_runs", "All runs")]

    def __init__(self) -> None:
        super().__init__()
        self.runs: tuple[str, ...] = ()
        self.written: list[Path] = []
        """The files the last export wrote."""
        self.error: str | None = None
        """Why the last export failed, if it did."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield ScreenNav("export")
        with Vertical(id="export-form") as form:
            form.border_title = "Report"
            yield labelled("device", Select([], id="export-device", prompt="device", compact=True), inline=True)
            yield labelled("against", Select([], id="export-against", prompt="(no second device)", compact=True),
                           inline=True)
            yield labelled("formats", TickList((), id="formats"))
            yield labelled("folder", Input(str(self.app.settings.export_dir), id="out-dir", compact=True), inline=True)
            yield Static("", id="export-runs")
            yield Button("Write report (ctrl+e)", id="export", variant="success", compact=True)
        yield Static("", id="written")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        self._show_runs()

    @work(thread=True, exclusive=True, group="export-load")
    def reload(self) -> None:
        """The devices with stored runs, newest first, and the report formats (in a worker)."""
        with self.app.store() as store:
            devices = list(dict.fromkeys(r.device for r in store.runs()))
        self.app.from_worker(self._loaded, devices, report_formats())

    def _loaded(self, devices: list[str], formats: tuple[str, ...]) -> None:
        for wid, first in (("#export-device", True), ("#export-against", False)):
            select = self.query_one(wid, Select)
            current = select.value
            select.set_options([(d, d) for d in devices])
            if current in devices:
                select.value = current
            elif devices and first:
                select.value = devices[0]
        ticks = self.query_one("#formats", TickList)
        ticks.refill(formats, () if ticks.option_count else formats)
        self._show_runs()

    def _show_runs(self) -> None:
        if not self.is_mounted:
            return
        text = (f"runs: {', '.join(self.runs)} (marked on Results; a = all)" if self.runs
                else "runs: every run on the device (mark runs on Results to choose)")
        self.query_one("#export-runs", Static).update(text)

    def action_all_runs(self) -> None:
        """Report on every run of the device."""
        self.runs = ()
        self._show_runs()

    @on(Button.Pressed, "#export")
    def action_export(self) -> None:
        """Write the report (in a worker)."""
        device = self.query_one("#export-device", Select).value
        against = self.query_one("#export-against", Select).value
        against = against if isinstance(against, str) and against != device else None
        formats = self.query_one("#formats", TickList).ticked
        folder = self.query_one("#out-dir", Input).value.strip()
        if not isinstance(device, str) or not formats or not folder:
            self._show("Choose a device, at least one format and a folder.", error=True)
            return
        self.written = []
        self._show(f"writing {', '.join(formats)} for {device}{f' against {against}' if against else ''}…")
        self._write(device, formats, Path(folder).expanduser(), self.runs or None, against)

    @work(thread=True, exclusive=True, group="export")
    def _write(self, device: str, formats: tuple[str, ...], folder: Path, runs: tuple[str, ...] | None,
               against: str | None) -> None:
        from edge_bench.report import write_report

        try:
            with self.app.store() as store:
                paths = write_report(store, device, list(formats), folder, runs=list(runs) if runs else None,
                                     compare=against)
        except EdgeBenchError as exc:
            self.app.from_worker(self._show, exc.one_line(), True)
            return
        self.app.from_worker(self._written, paths)

    def _written(self, paths: list[Path]) -> None:
        self.written = list(paths)
        self._show("wrote:\n" + "\n".join(f"  {p}" for p in paths))
        self.notify(f"Report written: {len(paths)} file(s).", title="Export")

    def _show(self, text: str, error: bool = False) -> None:
        self.error = text if error else None
        self.query_one("#written", Static).update(Text(text, style="red" if error else ""))
