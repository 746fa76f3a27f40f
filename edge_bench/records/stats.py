"""Statistics of raw timing samples, the hyperfine / pytest-benchmark way.

`Stats` is fed raw durations (seconds) and computes what the reports show:
median, mean ± sd, p90, p99, min, max, n; outliers by hyperfine's rule; and a
slow-first-run flag.

Outliers follow hyperfine's `src/outlier_detection.rs` exactly: the modified
z-score of a sample is (x - median) / MAD with MAD = median(|x - median|) (not
scaled), and a sample is an outlier when |z| > 14.826 = 10 x 1.4826, i.e. ten
standard deviations of normally distributed data (1.4826 x MAD estimates the
standard deviation). Like hyperfine, a MAD of 0 is replaced by the machine
epsilon (2.2e-16) to avoid dividing by zero, so when more than half the samples
are identical every sample that differs from them is an outlier.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

OUTLIER_Z = 1.4826 * 10.0
"""hyperfine's OUTLIER_THRESHOLD, computed as hyperfine computes it (14.825999999999999 in
binary): a sample with |x - median| / MAD above it (ten sigma, MAD unscaled) is an outlier."""
MAD_ZERO = sys.float_info.epsilon
"""What a MAD of 0 becomes before dividing (hyperfine's f64::EPSILON)."""
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
        """Median absolute deviation from the median, unscaled (hyperfine's MAD; 1.4826 x this
        estimates the standard deviation of normal data)."""
        if not self.n:
            return math.nan
        return _percentile(sorted(abs(s - self.median) for s in self.samples), 50)

    def zscores(self) -> list[float]:
        """hyperfine's modified z-scores, (x - median) / MAD per sample (MAD 0 -> epsilon)."""
        if not self.n:
            return []
        mad = self.mad if self.mad > 0 else MAD_ZERO
        return [(s - self.median) / mad for s in self.samples]

    @cached_property
    def outliers(self) -> list[int]:
        """Indices of samples whose |modified z-score| exceeds OUTLIER_Z: further than
        14.826 MADs from the median (hyperfine's rule)."""
        return [i for i, z in enumerate(self.zscores()) if abs(z) > OUTLIER_Z]

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
