"""Results: every stored job in a sortable, filterable table; mark two to compare, or runs to export."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Input, Static

from edge_bench.tui.compare_model import choose_axis
from edge_bench.tui.messages import CompareRequested, RunsMarked
from edge_bench.tui.results_model import COLUMNS, ResultRow, build_rows, detail_lines, view
from edge_bench.tui.screens.stored import StoredView
from edge_bench.tui.widgets.nav import ScreenNav
from edge_bench.tui.widgets.table import Table

MARK = "●"


class ResultsScreen(StoredView):
    """The results store as a table (loaded in a worker; filtered and sorted in memory)."""

    CSS_PATH = "results.tcss"
    AUTO_FOCUS = "#results"
    HELP = """\
## Results

Every job in the results store, newest run last. Latency is the median of the
batch-1 runs, img/s the gallery throughput, R@1 Recall@1 both ways (* =
untrained weights: chance level); MiB is the larger peak RSS of the towers.

- **/**: filter. Words must all appear in a row; `column:text` looks in one
  column (`device:local`, `backend:tflite`, `status:failed`, `model:scratch`).
- **s**: sort by the column under the cursor (again: reverse).
- **space**: mark or unmark the job under the cursor. Marked runs are what the
  Export screen reports on.
- **c**: compare the two marked jobs (along what differs: backend, device,
  precision, model, or their runs).
- **r**: reload from the store.
- **p**: where the time goes in the job under the cursor (jobs run with
  `--profile` or `edge-bench profile`): the roll-up by block per tower.
"""
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "sort", "Sort"),
        Binding("space", "mark", "Mark"),
        Binding("c", "compare", "Compare marked"),
        Binding("r", "reload", "Reload"),
        Binding("p", "profile", "Profile"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[ResultRow] = []
        self.marked: list[str] = []
        self.sort_column: int | None = None
        self.reverse = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield ScreenNav("results")
        yield Input(placeholder="/ filter: words, or column:text (device:local status:failed)", id="filter",
                    compact=True)
        table = Table(id="results", cursor_type="cell", zebra_stripes=True)
        table.border_title = "Stored jobs"
        yield table
        yield Static("", id="detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(" ", key="mark")
        for column in COLUMNS:
            table.add_column(column.title, key=column.key)
        self.reload()

    @work(thread=True, exclusive=True, group="results-load")
    def reload(self) -> None:
        """Read every stored job (in a worker)."""
        with self.app.store() as store:
            rows = build_rows(store.jobs(), {r.id: r for r in store.runs()})
        self.app.from_worker(self._loaded, rows)

    def _loaded(self, rows: list[ResultRow]) -> None:
        self.rows = rows
        self.marked = [m for m in self.marked if any(r.key == m for r in rows)]
        self.refresh_table()

    def refresh_table(self) -> None:
        """Show the rows matching the filter, in the chosen order."""
        table = self.query_one(DataTable)
        shown = view(self.rows, self.query_one("#filter", Input).value, self.sort_column, self.reverse)
        cursor = table.cursor_coordinate
        table.clear()
        for row in shown:
            table.add_row(MARK if row.key in self.marked else "", *row.cells, key=row.key)
        table.cursor_coordinate = cursor  # the DataTable clamps it to the rows now shown
        order = ""
        if self.sort_column is not None:
            order = f", sorted by {COLUMNS[self.sort_column].title} {'↓' if self.reverse else '↑'}"
        table.border_subtitle = f"{len(shown)} of {len(self.rows)} job(s){order}"
        self._detail()

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self.refresh_table()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(DataTable).focus()

    def action_filter(self) -> None:
        """Type a filter."""
        self.query_one("#filter", Input).focus()

    def action_sort(self) -> None:
        """Sort by the cursor's column; the same column again flips the order."""
        column = self.query_one(DataTable).cursor_column - 1  # column 0 is the mark
        if column < 0:
            return
        self.reverse = not self.reverse if column == self.sort_column else False
        self.sort_column = column
        self.refresh_table()

    @on(DataTable.HeaderSelected)
    def _header(self, event: DataTable.HeaderSelected) -> None:
        self.query_one(DataTable).cursor_coordinate = self.query_one(DataTable).cursor_coordinate._replace(
            column=event.column_index)
        self.action_sort()

    def _current(self) -> ResultRow | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.rows if r.key == key), None)

    def action_mark(self) -> None:
        """Mark or unmark the job under the cursor."""
        row = self._current()
        if row is None:
            return
        if row.key in self.marked:
            self.marked.remove(row.key)
        else:
            self.marked.append(row.key)
        self.query_one(DataTable).update_cell(row.key, "mark", MARK if row.key in self.marked else "")
        runs = tuple(dict.fromkeys(r.job.run_id for m in self.marked for r in self.rows if r.key == m))
        self.post_message(RunsMarked(runs))

    def action_compare(self) -> None:
        """Compare the two marked jobs."""
        jobs = [r.job for m in self.marked for r in self.rows if r.key == m]
        if len(jobs) != 2:
            self.notify("Mark two jobs (space), then press c.", severity="warning")
            return
        self.post_message(CompareRequested(*choose_axis(*jobs)))

    def action_profile(self) -> None:
        """The profile view of the job under the cursor."""
        from edge_bench.tui.profile_model import profiled_towers
        from edge_bench.tui.screens.profile import ProfileScreen

        row = self._current()
        if row is None or not profiled_towers(row.job.record):
            self.notify("No profile stored for this job: run it with --profile (or edge-bench profile).", severity="warning")
            return
        self.app.push_screen(ProfileScreen(row.job))

    @on(DataTable.CellHighlighted)
    def _detail(self) -> None:
        row = self._current()
        detail = self.query_one("#detail", Static)
        if row is None:
            detail.update(Text("No stored jobs yet: run a plan (2, then ctrl+r)." if not self.rows
                               else "No job matches the filter.", style="dim"))
            return
        detail.update(Text("\n".join(detail_lines(row.job))))
