"""Cell formatting for the TUI's tables; every figure comes from the typed record (edge_bench.records).

Accessors return None when the record lacks the figure (a failed or skipped
job), so screens show '-' rather than fail.
"""

from __future__ import annotations

from edge_bench.records.job import JobRecord
from edge_bench.records.stats import Stats


def median_ms(record: JobRecord, name: str) -> float | None:
    """Median batch-1 latency of a tower, in milliseconds."""
    return record.median_ms(name)


def latency_stats(record: JobRecord, name: str) -> Stats:
    """The raw batch-1 latency samples of a tower as Stats (seconds)."""
    return record.tower(name).latency.stats()


def items_per_s(record: JobRecord, name: str) -> float | None:
    """Gallery throughput of a tower (images/s or texts/s)."""
    return record.items_per_s(name)


def recall_at_1(record: JobRecord, direction: str = "image") -> float | None:
    """Recall@1 in [0, 1]: 'image' = text-to-image retrieval, 'text' = image-to-text."""
    return record.recall(direction, 1)


def untrained(record: JobRecord) -> bool:
    """The model had untrained weights: its recall is chance level."""
    return record.untrained


def peak_mib(record: JobRecord) -> float | None:
    """The larger process peak of the two towers, in MiB."""
    peak = record.peak_bytes()
    return peak / 2**20 if peak else None


def temperatures(record: JobRecord) -> tuple[float | None, float | None]:
    """The hottest zone before the first tower and after the last one, in °C."""
    image, text = record.tower("image").thermal, record.tower("text").thermal
    after = text.hottest_after if text.after else image.hottest_after
    return image.hottest_before, after


def fmt(value: float | None, spec: str = ".2f", suffix: str = "") -> str:
    """A number for a table cell, '-' when missing."""
    return "-" if value is None else f"{value:{spec}}{suffix}"


def pct_cell(value: float | None, record: JobRecord, key: str | None = None) -> str:
    """A recall as a percentage, starred when the weights were untrained; with [pessimistic-optimistic] when
    tied scores make the hit depend on their order (`key` names the metric)."""
    if value is None:
        return "-"
    text = f"{100 * value:.1f}"
    bounds = record.recall_bounds(key) if key else None
    if bounds:
        text += f" [{100 * bounds[0]:.1f}-{100 * bounds[1]:.1f}]"
    return text + ("*" if untrained(record) else "")
