"""Comparing two towers' latencies: the ratio of medians, a 95% confidence interval and a verdict.

With repeats on both sides (`--repeat N`: N fresh processes each), the
interval is over the repeats: Welch's t-interval on the difference of the mean
log-medians, so it covers run-to-run noise (a fresh process can differ by
±10% on a shared machine). Without repeats it is a bootstrap of the median
over each side's raw samples (seeded, so it is reproducible), which covers
only the noise within one run. The verdict, for B over A: "faster" when the
whole interval is below 1, "slower" when it is above 1, else "no significant
difference".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edge_bench.records.tower import TowerResult

T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
         12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042, 60: 2.000}
"""Student's t, two-sided 95%, by degrees of freedom (the nearest lower entry is used; above 60: 1.96)."""
BOOTSTRAP_RESAMPLES = 2000
FASTER, SLOWER, SAME, NOT_COMPARABLE = "faster", "slower", "no significant difference", "not comparable"


def t975(df: float) -> float:
    """The two-sided 95% quantile of Student's t for `df` degrees of freedom (conservative: rounds df down)."""
    if df > 60:
        return 1.96
    keys = [k for k in T_975 if k <= max(1.0, df) + 1e-9]  # df from float arithmetic: 3.9999999 is 4
    return T_975[max(keys)]


@dataclass(frozen=True)
class LatencyComparison:
    """B's median latency over A's, its 95% interval, and what it means."""

    ratio: float | None
    low: float | None
    high: float | None
    verdict: str
    method: str
    """'repeats' (t-interval over per-repeat medians) or 'bootstrap' (of each side's samples)."""

    def cell(self) -> str:
        """'0.93 [0.90, 0.96] faster' for tables."""
        if self.ratio is None:
            return "-"
        return f"{self.ratio:.2f} [{self.low:.2f}, {self.high:.2f}] {self.verdict}"

    def slower_beyond(self, pct: float) -> bool:
        """A significant regression of more than `pct` percent (B slower than A)."""
        return self.verdict == SLOWER and self.ratio is not None and self.ratio > 1 + pct / 100


def _verdict(low: float, high: float) -> str:
    if high < 1:
        return FASTER
    if low > 1:
        return SLOWER
    return SAME


def compare_latency(a: TowerResult, b: TowerResult) -> LatencyComparison:
    """B over A for one tower's batch-1 latency."""
    ra, rb = a.repeat_medians, b.repeat_medians
    if len(ra) >= 2 and len(rb) >= 2:
        la, lb = np.log(ra), np.log(rb)
        diff = float(lb.mean() - la.mean())
        va, vb = la.var(ddof=1) / len(la), lb.var(ddof=1) / len(lb)
        se = math.sqrt(va + vb)
        df = (va + vb) ** 2 / ((va ** 2 / (len(la) - 1)) + (vb ** 2 / (len(lb) - 1))) if se > 0 else 1e9
        half = t975(df) * se
        ratio = float(np.exp(np.median(lb)) / np.exp(np.median(la)))
        low, high = math.exp(diff - half), math.exp(diff + half)
        return LatencyComparison(ratio, low, high, _verdict(low, high), "repeats")
    sa, sb = np.asarray(a.latency.samples, dtype=float), np.asarray(b.latency.samples, dtype=float)
    if not (len(sa) and len(sb)) or not (np.median(sa) > 0):
        return LatencyComparison(None, None, None, NOT_COMPARABLE, "none")
    rng = np.random.default_rng(0)
    ma = np.median(rng.choice(sa, size=(BOOTSTRAP_RESAMPLES, len(sa))), axis=1)
    mb = np.median(rng.choice(sb, size=(BOOTSTRAP_RESAMPLES, len(sb))), axis=1)
    ratios = mb / ma
    low, high = (float(v) for v in np.percentile(ratios, [2.5, 97.5]))
    ratio = float(np.median(sb) / np.median(sa))
    return LatencyComparison(ratio, low, high, _verdict(low, high), "bootstrap")
