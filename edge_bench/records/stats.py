"""Statistics of raw timing samples, the hyperfine / pytest-benchmark way.

`Stats` is fed raw durations (seconds) and computes what the reports show:
median, mean ± sd, p90, p99, min, max, n; outliers by the modified z-score of
the median absolute deviation (with a MAD = 0 guard); and a slow-first-run flag.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

OUTLIER_Z = 14.826
"""hyperfine's threshold: |x - median| / MAD-based sigma beyond this is an outlier."""
SLOW_FIRST_FACTOR = 1.5
"""The first inference is flagged when it takes this many times the median or more."""


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@dataclass(frozen=True)
class Stats:
    """Summary statistics of raw samples (seconds); `first` is the first inference, if known."""

    samples: tuple[float, ...]
    first: float | None = None

    @classmethod
    def of(cls, samples: Sequence[float], first: float | None = None) -> "Stats":
        return cls(tuple(float(s) for s in samples), first)

    @cached_property
    def sorted(self) -> list[float]:
        return sorted(self.samples)

    @property
    def n(self) -> int:
        return len(self.samples)

    @cached_property
    def mean(self) -> float:
        return sum(self.samples) / self.n if self.n else math.nan

    @cached_property
    def sd(self) -> float:
        """Sample standard deviation (n - 1); 0 for a single sample."""
        if self.n < 2:
            return 0.0 if self.n == 1 else math.nan
        m = self.mean
        return math.sqrt(sum((s - m) ** 2 for s in self.samples) / (self.n - 1))

    @cached_property
    def median(self) -> float:
        return _percentile(self.sorted, 50)

    @property
    def min(self) -> float:
        return self.sorted[0] if self.n else math.nan

    @property
    def max(self) -> float:
        return self.sorted[-1] if self.n else math.nan

    def percentile(self, q: float) -> float:
        return _percentile(self.sorted, q)

    @cached_property
    def mad(self) -> float:
        """Median absolute deviation from the median."""
        if not self.n:
            return math.nan
        return _percentile(sorted(abs(s - self.median) for s in self.samples), 50)

    @cached_property
    def outliers(self) -> list[int]:
        """Indices of samples whose modified z-score exceeds OUTLIER_Z (none when MAD is 0)."""
        if self.n < 3 or not self.mad:
            return []
        sigma = 1.4826 * self.mad
        return [i for i, s in enumerate(self.samples) if abs(s - self.median) / sigma > OUTLIER_Z]

    @property
    def slow_first_run(self) -> bool:
        """The first inference was much slower than the steady state (a warm-up effect)."""
        return self.first is not None and self.n > 0 and self.first >= SLOW_FIRST_FACTOR * self.median

    def warnings(self) -> list[str]:
        """Human-readable notes, as hyperfine prints them."""
        out = []
        if self.outliers:
            out.append(f"{len(self.outliers)} statistical outlier(s) of {self.n} runs (MAD)")
        if self.slow_first_run:
            out.append(f"slow first run: {self.first * 1e3:.2f} ms vs median {self.median * 1e3:.2f} ms")
        return out

    def as_dict(self) -> dict:
        """Everything a report needs, raw samples included (seconds)."""
        return {
            "n": self.n, "median": self.median, "mean": self.mean, "sd": self.sd,
            "p90": self.percentile(90), "p99": self.percentile(99), "min": self.min, "max": self.max,
            "mad": self.mad, "outliers": self.outliers, "first": self.first,
            "slow_first_run": self.slow_first_run, "samples": list(self.samples),
        }


def ratio(a: Stats, b: Stats) -> tuple[float, float]:
    """a.mean / b.mean with its propagated standard deviation (hyperfine's relative speed)."""
    r = a.mean / b.mean
    if a.mean == 0 or b.mean == 0:
        return r, math.nan
    return r, r * math.sqrt((a.sd / a.mean) ** 2 + (b.sd / b.mean) ** 2)
