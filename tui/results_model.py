"""The Results screen's table as data: columns, rows of stored jobs, filtering and sorting.

No Textual here, so the logic is tested on its own. A column is a registry
entry: a title, how to render a cell and what to sort by.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from edge_bench.store import JobRow, RunRow
from edge_bench.tui import records as R


@dataclass(frozen=True)
class Column:
    """One column of the results table."""

    key: str
    """Short name, also the `key:value` filter prefix."""
    title: str
    cell: Callable[[JobRow, RunRow | None], str]
    sort: Callable[[JobRow, RunRow | None], Any] | None = None
    """Sort value (None sorts last); defaults to the cell text."""
    numeric: bool = False


def _created(job: JobRow, run: RunRow | None) -> str:
    stamp = (run.created if run else job.finished) or ""
    return stamp.replace("T", " ")[:16]


COLUMNS: tuple[Column, ...] = (
    Column("model", "model", lambda j, r: j.model),
    Column("backend", "backend", lambda j, r: j.backend),
    Column("precision", "prec", lambda j, r: j.precision),
    Column("device", "device", lambda j, r: j.device),
    Column("status", "status", lambda j, r: j.status),
    Column("img_ms", "img ms", lambda j, r: R.fmt(R.median_ms(j.record, "image")),
           lambda j, r: R.median_ms(j.record, "image"), True),
    Column("txt_ms", "txt ms", lambda j, r: R.fmt(R.median_ms(j.record, "text")),
           lambda j, r: R.median_ms(j.record, "text"), True),
    Column("img_s", "img/s", lambda j, r: R.fmt(R.items_per_s(j.record, "image"), ".0f"),
           lambda j, r: R.items_per_s(j.record, "image"), True),
    Column("t2i", "T>I R@1", lambda j, r: R.pct_cell(R.recall_at_1(j.record, "image"), j.record, "image_retrieval_recall@1"),
           lambda j, r: R.recall_at_1(j.record, "image"), True),
    Column("i2t", "I>T R@1", lambda j, r: R.pct_cell(R.recall_at_1(j.record, "text"), j.record, "text_retrieval_recall@1"),
           lambda j, r: R.recall_at_1(j.record, "text"), True),
    Column("mib", "MiB", lambda j, r: R.fmt(R.peak_mib(j.record), ".1f"), lambda j, r: R.peak_mib(j.record), True),
    Column("run", "run", lambda j, r: j.run_id),
    Column("created", "created (UTC)", _created),
    Column("reason", "reason", lambda j, r: " ".join((j.error or "").split())),
)
COLUMN_KEYS = tuple(c.key for c in COLUMNS)


@dataclass(frozen=True)
class ResultRow:
    """One stored job as the table shows it."""

    job: JobRow
    cells: tuple[str, ...]
    sort_values: tuple[Any, ...]

    @property
    def key(self) -> str:
        """The job row's id (the DataTable row key)."""
        return self.job.id


def build_rows(jobs: list[JobRow], runs: dict[str, RunRow]) -> list[ResultRow]:
    """Table rows of stored jobs; `runs` maps run ids to their runs (for the creation time)."""
    rows = []
    for job in jobs:
        run = runs.get(job.run_id)
        cells = tuple(c.cell(job, run) for c in COLUMNS)
        values = tuple(c.sort(job, run) if c.sort else cell for c, cell in zip(COLUMNS, cells))
        rows.append(ResultRow(job, cells, values))
    return rows


def matches(row: ResultRow, query: str) -> bool:
    """Every word of the query is in the row; `column:text` looks in one column only (case-insensitive)."""
    for word in query.lower().split():
        column, sep, text = word.partition(":")
        if sep and column in COLUMN_KEYS:
            if text not in row.cells[COLUMN_KEYS.index(column)].lower():
                return False
        elif not any(word in cell.lower() for cell in row.cells):
            return False
    return True


def sort_rows(rows: list[ResultRow], column: int, reverse: bool = False) -> list[ResultRow]:
    """Rows ordered by one column; rows without a value come last either way."""
    present = [r for r in rows if r.sort_values[column] not in (None, "", "-")]
    missing = [r for r in rows if r.sort_values[column] in (None, "", "-")]
    return sorted(present, key=lambda r: r.sort_values[column], reverse=reverse) + missing


def view(rows: list[ResultRow], query: str, column: int | None, reverse: bool) -> list[ResultRow]:
    """What the table shows: the rows matching the query, sorted when a sort column is set."""
    shown = [r for r in rows if matches(r, query)]
    return sort_rows(shown, column, reverse) if column is not None else shown


def detail_lines(job: JobRow) -> list[str]:
    """What the table cannot show of one job: why it failed, statistical notes, fidelity, provenance."""
    record = job.record
    lines = [f"{job.id} in run {job.run_id}: {job.model} {job.backend} {job.precision} on {job.device} "
             f"({job.dataset}), {job.status}"]
    if job.status != "ok":
        phase = record.phase
        lines.append(f"{job.status}"
                     f"{f' in {phase}' if phase else ''}: {job.error or record.reason or 'no reason recorded'}")
        return lines
    for name in ("image", "text"):
        lines += [f"{name}: {note}" for note in record.tower(name).notes]
    cosines = [c.cosine_min for c in (record.fidelity.vs_fp32_pytorch.values() if record.fidelity else ())]
    verdict = record.verdict
    if cosines and None not in cosines:
        lines.append(f"fidelity to fp32 PyTorch: worst cosine {min(cosines):.5f}"
                     + (f"; device vs host: {verdict.status}" if record.fidelity.vs_host_artifact else ""))
    model = record.provenance.model if record.provenance else None
    runtime = record.tower("image").runtime
    lines.append(f"weights {model.weights_status if model else '?'}"
                 + (" (recall is chance level)" if R.untrained(record) else "")
                 + f"; runtime {runtime.name or '?'} {runtime.version or ''}".rstrip())
    return lines
