"""Comparisons as data: two sides along an axis (runs, backends, devices, ...), paired jobs and ratios.

A side is every successful job whose axis value is A (or B); jobs pair up
when everything but the axis matches (model, backend, precision, device,
dataset). Latency ratios carry hyperfine's propagated uncertainty
(`edge_bench.records.compare`: the ratio of medians, a 95% interval, a verdict).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from edge_bench.records.select import IDENTITY, newest_ok
from edge_bench.records.compare import compare_latency
from edge_bench.store import JobRow
from edge_bench.tui import records as R



@dataclass(frozen=True)
class Axis:
    """What differs between the two sides."""

    name: str
    value: Callable[[JobRow], str]
    ignores: tuple[str, ...]
    """Identity fields left out of the pairing key (besides the axis itself)."""

    def key(self, job: JobRow) -> tuple[str, ...]:
        """The fields two jobs must share to be compared."""
        return tuple(getattr(job, f) for f in IDENTITY if f != self.name and f not in self.ignores)


AXES: dict[str, Axis] = {
    "run": Axis("run", lambda j: j.run_id, ignores=("device",)),
    "backend": Axis("backend", lambda j: j.backend, ignores=()),
    "device": Axis("device", lambda j: j.device, ignores=()),
    "precision": Axis("precision", lambda j: j.precision, ignores=()),
    "model": Axis("model", lambda j: j.model, ignores=()),
}


@dataclass(frozen=True)
class Pair:
    """The newest successful job of each side for one shared key."""

    key: tuple[str, ...]
    a: JobRow
    b: JobRow

    @property
    def label(self) -> str:
        """The shared key as one line of text."""
        return " ".join(self.key)


def axis_values(jobs: list[JobRow], axis: str) -> list[str]:
    """The values of an axis among successful jobs, in first-seen order."""
    value = AXES[axis].value
    return list(dict.fromkeys(value(j) for j in jobs if j.status == "ok"))


def side(jobs: list[JobRow], axis: str, value: str) -> dict[tuple[str, ...], JobRow]:
    """The newest successful job per pairing key among the jobs whose axis is `value` (edge_bench.records.select)."""
    ax = AXES[axis]
    return newest_ok((j for j in jobs if ax.value(j) == value), key=ax.key)


def pairs(jobs: list[JobRow], axis: str, a: str, b: str) -> list[Pair]:
    """Jobs of A and B that share everything but the axis."""
    side_a, side_b = side(jobs, axis, a), side(jobs, axis, b)
    return [Pair(key, side_a[key], side_b[key]) for key in side_a if key in side_b]


def _latency_ratio(pair: Pair, tower: str) -> str:
    """B's median over A's with its 95% interval and the verdict (edge_bench.records.compare)."""
    return compare_latency(pair.a.record.tower(tower), pair.b.record.tower(tower)).cell()


def _plain_ratio(a: float | None, b: float | None) -> str:
    return f"{b / a:.2f}" if a and b else "-"


COMPARE_COLUMNS = ("job", "img ms A", "img ms B", "img B/A", "txt B/A", "img/s A", "img/s B", "img/s B/A",
                   "T>I R@1 A", "T>I R@1 B")


def pair_cells(pair: Pair) -> tuple[str, ...]:
    """One row of the comparison table (B over A: below 1 = B faster for latency)."""
    ra, rb = pair.a.record, pair.b.record
    ips_a, ips_b = R.items_per_s(ra, "image"), R.items_per_s(rb, "image")
    return (
        pair.label,
        R.fmt(R.median_ms(ra, "image")), R.fmt(R.median_ms(rb, "image")),
        _latency_ratio(pair, "image"), _latency_ratio(pair, "text"),
        R.fmt(ips_a, ".0f"), R.fmt(ips_b, ".0f"), _plain_ratio(ips_a, ips_b),
        R.pct_cell(R.recall_at_1(ra), ra), R.pct_cell(R.recall_at_1(rb), rb),
    )


@dataclass(frozen=True)
class Point:
    """One job on the accuracy-versus-throughput plane."""

    side: str
    """'A' or 'B'."""
    images_per_s: float
    recall_pct: float
    untrained: bool
    label: str


def scatter_points(jobs: list[JobRow], axis: str, a: str | None, b: str | None) -> list[Point]:
    """Every successful job of both sides (a side may be None) with a throughput and a Recall@1 (text to image)."""
    points = []
    for name, value in (("A", a), ("B", b)):
        if value is None:
            continue
        for job in side(jobs, axis, value).values():
            ips, r1 = R.items_per_s(job.record, "image"), R.recall_at_1(job.record)
            if ips and r1 is not None:
                points.append(Point(name, ips, 100 * r1, R.untrained(job.record),
                                    f"{job.model} {job.backend} {job.precision}"))
    return points


def choose_axis(a: JobRow, b: JobRow) -> tuple[str, str, str]:
    """How to compare two marked jobs: along the one identity field they differ in, else along their runs."""
    differ = [f for f in ("device", "backend", "precision", "model") if getattr(a, f) != getattr(b, f)]
    if len(differ) == 1:
        name = differ[0]
        return name, getattr(a, name), getattr(b, name)
    if a.run_id != b.run_id:
        return "run", a.run_id, b.run_id
    name = differ[0] if differ else "backend"
    return name, getattr(a, name), getattr(b, name)
