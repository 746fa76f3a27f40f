"""Selecting and pairing stored jobs: the one rule every table, report and comparison uses.

A job's identity for selection is (model, backend, precision, dataset, device):
a Flickr30k result never replaces a synthetic one of the same model. The
newest successful attempt of each identity wins; rows come in the order they
finished (`Store.jobs`), so later rows replace earlier ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, Iterable, Protocol, TypeVar

from edge_bench.records.job import JobRecord

IDENTITY = ("model", "backend", "precision", "dataset", "device")
"""The fields that make two jobs 'the same job'."""


class HasRecord(Protocol):
    """A store row: its identity columns and its typed record."""

    model: str
    backend: str
    precision: str
    dataset: str
    device: str
    status: str
    record: JobRecord


R = TypeVar("R", bound=HasRecord)


def identity(row: HasRecord, without: str | None = None) -> tuple[str, ...]:
    """The row's identity, optionally without one field (the axis being compared)."""
    return tuple(getattr(row, f) for f in IDENTITY if f != without)


def newest_ok(rows: Iterable[R], key: Callable[[R], tuple] = identity) -> dict[tuple, R]:
    """The newest successful row per key, in the order the keys first appear."""
    out: dict[tuple, R] = {}
    for row in rows:
        if row.status == "ok":
            out[key(row)] = row
    return out


def latest_attempts(rows: Iterable[R]) -> dict[tuple, R]:
    """The last attempt per identity whatever its status (a failure after a success shows the success)."""
    out: dict[tuple, R] = {}
    for row in rows:
        k = identity(row)
        if row.status == "ok" or k not in out or out[k].status != "ok":
            out[k] = row
    return out


@dataclass(frozen=True)
class Pair(Generic[R]):
    """The newest successful job of each side for one shared key."""

    key: tuple[str, ...]
    a: R
    b: R

    @property
    def label(self) -> str:
        return " ".join(self.key)


def pair(rows_a: Iterable[R], rows_b: Iterable[R], axis: str | None = None) -> list[Pair[R]]:
    """Jobs of A and B that share every identity field but `axis` (None: all of them but the device).

    With axis=None (two runs), the device may differ, so runs on two devices pair too.
    """
    drop = axis if axis in IDENTITY else "device"
    side_a = newest_ok(rows_a, key=lambda r: identity(r, without=drop))
    side_b = newest_ok(rows_b, key=lambda r: identity(r, without=drop))
    return [Pair(k, side_a[k], side_b[k]) for k in side_a if k in side_b]


def datasets(rows: Iterable[HasRecord]) -> list[str]:
    """The datasets among rows, in first-seen order (a table shows the dataset when there are several)."""
    return list(dict.fromkeys(r.dataset for r in rows))
