"""Numbers as short text for report tables."""

from __future__ import annotations

DASH = "-"


def num(value: float | None) -> str:
    """Three significant figures without exponents: 0.652, 12.4, 1234."""
    if value is None or value != value:
        return DASH
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def pct(value: float | None, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage."""
    return DASH if value is None or value != value else f"{100 * value:.{digits}f}"


def points(value: float | None) -> str:
    """A difference of shares as signed percentage points."""
    return DASH if value is None or value != value else f"{100 * value:+.1f}"


def times(value: float | None) -> str:
    """A ratio as '2.31x'."""
    return DASH if value is None or value != value else f"{value:.2f}x"


def mib(value: float | None) -> str:
    """Bytes as MiB."""
    return DASH if not value else f"{value / 2**20:.1f}"


def short(text: str | None, width: int = 12) -> str:
    """The first characters of an id or hash."""
    return (text or DASH)[:width]
