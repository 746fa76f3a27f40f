"""The figures the TUI shows, read from a stored job record (docs/ARCHITECTURE.md, "Runner, records and the store").

Every accessor returns None when the record lacks the figure (a failed or
skipped job, an older record), so screens show '-' rather than fail.
"""

from __future__ import annotations

from edge_bench.records.stats import Stats


def tower(record: dict, name: str) -> dict:
    """One tower's part of a record ({} when absent)."""
    return (record.get("towers") or {}).get(name) or {}


def median_ms(record: dict, name: str) -> float | None:
    """Median batch-1 latency of a tower, in milliseconds."""
    value = (tower(record, name).get("latency") or {}).get("median")
    return None if value is None else value * 1e3


def latency_stats(record: dict, name: str) -> Stats:
    """The raw batch-1 latency samples of a tower as Stats (seconds)."""
    return Stats.of((tower(record, name).get("latency") or {}).get("samples") or [])


def items_per_s(record: dict, name: str) -> float | None:
    """Gallery throughput of a tower (images/s or texts/s)."""
    return (tower(record, name).get("gallery") or {}).get("items_per_s") or None


def recall_at_1(record: dict, direction: str = "image") -> float | None:
    """Recall@1 in [0, 1]: 'image' = text-to-image retrieval, 'text' = image-to-text."""
    return (record.get("recall") or {}).get(f"{direction}_retrieval_recall@1")


def untrained(record: dict) -> bool:
    """The model had untrained weights: its recall is chance level."""
    return record.get("recall_label") == "untrained"


def peak_mib(record: dict) -> float | None:
    """The larger peak RSS of the two towers, in MiB."""
    peaks = [(tower(record, t).get("memory") or {}).get("peak_rss_bytes") or 0 for t in ("image", "text")]
    return max(peaks) / 2**20 if any(peaks) else None


def temperatures(record: dict) -> tuple[float | None, float | None]:
    """The hottest zone before the first tower and after the last one, in °C."""
    before = [tower(record, t).get("thermal", {}).get("before") or {} for t in ("image", "text")]
    after = [tower(record, t).get("thermal", {}).get("after") or {} for t in ("image", "text")]
    return _hottest(before[0]), _hottest(after[1] or after[0])


def _hottest(zones: dict) -> float | None:
    values = [v for v in zones.values() if isinstance(v, (int, float))]
    return max(values) if values else None


def fmt(value: float | None, spec: str = ".2f", suffix: str = "") -> str:
    """A number for a table cell, '-' when missing."""
    return "-" if value is None else f"{value:{spec}}{suffix}"


def pct_cell(value: float | None, record: dict) -> str:
    """A recall as a percentage, starred when the weights were untrained."""
    if value is None:
        return "-"
    return f"{100 * value:.1f}" + ("*" if untrained(record) else "")
