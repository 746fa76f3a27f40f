"""Compare: two runs, backends, devices, precisions or models side by side, and accuracy against throughput."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Select, Static

from edge_bench.store import JobRow, RunRow
from edge_bench.tui.compare_model import AXES, COMPARE_COLUMNS, axis_values, pair_cells, pairs, scatter_points
from edge_bench.tui.screens.stored import StoredView
from edge_bench.tui.widgets.form import labelled
from edge_bench.tui.widgets.nav import ScreenNav
from edge_bench.tui.widgets.table import Table


class CompareScreen(StoredView):
    """Pick an axis and its two values A and B; jobs that share everything else are compared."""

    CSS_PATH = "compare.tcss"
    HELP = """\
## Compare

Choose what differs (run, backend, device, precision or model) and its two
values, A and B. Successful jobs that share everything else (model, backend,
precision, device and dataset, minus the axis) are paired, the newest of each.

The table gives B over A: latency ratios below 1 mean B is faster (mean ± sd
of the raw samples, propagated the hyperfine way), throughput ratios above 1
mean B encodes more images per second. The scatter places every job of A and
B by gallery throughput and text-to-image Recall@1; an x marks untrained
weights, whose recall is chance level.

- **w**: swap A and B.
- **r**: reload from the store.
"""
    BINDINGS = [Binding("w", "swap", "Swap A/B"), Binding("r", "reload", "Reload")]

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[JobRow] = []
        self.runs: dict[str, RunRow] = {}
        self.wanted: tuple[str, str | None, str | None] = ("backend", None, None)

    def compose(self) -> ComposeResult:
        from edge_bench.tui.widgets.scatter import AccuracyScatter

        yield Header()
        yield ScreenNav("compare")
        with Horizontal(id="compare-controls"):
            yield labelled("compare", Select([(a, a) for a in AXES], value=self.wanted[0], allow_blank=False,
                                             id="axis", compact=True), inline=True)
            yield labelled("A", Select([], id="side-a", prompt="A", compact=True), inline=True)
            yield labelled("B", Select([], id="side-b", prompt="B", compact=True), inline=True)
        table = Table(id="pairs", cursor_type="row", zebra_stripes=True)
        table.border_title = "B over A"
        yield table
        yield AccuracyScatter(id="scatter")
        yield Static("", id="compare-caption", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*COMPARE_COLUMNS)
        self.reload()

    def request(self, axis: str, a: str, b: str) -> None:
        """Compare A and B along an axis (from the Results screen's marks)."""
        self.wanted = (axis, a, b)
        if self.is_mounted:
            self._apply_wanted()

    @work(thread=True, exclusive=True, group="compare-load")
    def reload(self) -> None:
        """Read the stored runs and jobs (in a worker)."""
        with self.app.store() as store:
            runs, jobs = {r.id: r for r in store.runs()}, store.jobs()
        self.app.from_worker(self._loaded, runs, jobs)

    def _loaded(self, runs: dict[str, RunRow], jobs: list[JobRow]) -> None:
        self.runs, self.jobs = runs, jobs
        self._apply_wanted()

    def _apply_wanted(self) -> None:
        axis, a, b = self.wanted
        if a is None and len(axis_values(self.jobs, axis)) < 2:  # nothing chosen: an axis with two sides
            axis = next((x for x in AXES if len(axis_values(self.jobs, x)) >= 2), axis)
        values = axis_values(self.jobs, axis)
        a = a if a in values else (values[0] if values else None)
        b = b if b in values and b != a else next((v for v in values if v != a), None)
        self.wanted = (axis, a, b)
        with self.prevent(Select.Changed):
            self.query_one("#axis", Select).value = axis
            for wid, value in (("#side-a", a), ("#side-b", b)):
                select = self.query_one(wid, Select)
                select.set_options([(self._label(axis, v), v) for v in values])
                if value is not None:
                    select.value = value
        self._draw()

    def _label(self, axis: str, value: str) -> str:
        run = self.runs.get(value) if axis == "run" else None
        return f"{value} ({run.device}, {run.created[:16].replace('T', ' ')})" if run else value

    @on(Select.Changed)
    def _changed(self, event: Select.Changed) -> None:
        axis = str(self.query_one("#axis", Select).value)
        if event.select.id == "axis":
            self.wanted = (axis, None, None)
            self._apply_wanted()
            return
        a, b = (self.query_one(w, Select).value for w in ("#side-a", "#side-b"))
        self.wanted = (axis, a if isinstance(a, str) else None, b if isinstance(b, str) else None)
        self._draw()

    def action_swap(self) -> None:
        """Swap A and B."""
        axis, a, b = self.wanted
        self.wanted = (axis, b, a)
        self._apply_wanted()

    def _draw(self) -> None:
        from edge_bench.tui.widgets.scatter import AccuracyScatter

        axis, a, b = self.wanted
        table = self.query_one(DataTable)
        table.clear()
        caption = self.query_one("#compare-caption", Static)
        if a is None or b is None:
            caption.update(f"Two {axis} values with successful jobs are needed; the store has "
                           f"{len(axis_values(self.jobs, axis))}.")
            self.query_one(AccuracyScatter).show(scatter_points(self.jobs, axis, a, b), {"A": a or ""})
            return
        shared = pairs(self.jobs, axis, a, b)
        for pair in shared:
            table.add_row(*pair_cells(pair))
        note = "" if shared else "A and B share no job (same everything but the axis). "
        caption.update(f"{note}A = {self._label(axis, a)}, B = {self._label(axis, b)}; * = untrained weights")
        self.query_one(AccuracyScatter).show(scatter_points(self.jobs, axis, a, b),
                                             {"A": a, "B": b})
