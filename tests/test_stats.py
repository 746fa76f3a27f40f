"""Statistics of timing samples: exact values, including one sample, MAD guard, slow first run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge_bench.records.stats import OUTLIER_Z, Stats, ratio

_NORMAL = [
    2.33269488, 1.42195907, -0.57527698, -0.31293437, 2.2948158,
    0.75813273, -1.0712388, -0.96394741, -1.15897446, 1.10976285,
]
"""Ten draws from a standard normal (hyperfine's test sample)."""


def test_exact_values():
    """Every statistic of a small set, computed by hand."""
    s = Stats.of([4.0, 1.0, 10.0, 3.0, 2.0], first=5.0)
    assert s.n == 5 and s.sorted == [1.0, 2.0, 3.0, 4.0, 10.0]
    assert s.median == 3.0 and s.mean == 4.0  # (1 + 2 + 3 + 4 + 10) / 5
    assert s.sd == math.sqrt(12.5)  # (9 + 4 + 1 + 0 + 36) / (5 - 1)
    assert s.min == 1.0 and s.max == 10.0
    assert s.percentile(90) == pytest.approx(7.6)  # rank 4 x 0.9 = 3.6: 4 + 0.6 x (10 - 4)
    assert s.percentile(99) == pytest.approx(9.76)  # rank 3.96: 4 + 0.96 x 6
    assert s.mad == 1.0  # |x - 3| = 1, 2, 7, 0, 1 -> sorted 0, 1, 1, 2, 7
    assert s.zscores() == [1.0, -2.0, 7.0, 0.0, -1.0] and s.outliers == []  # 10 is 7 MADs out: kept
    assert s.slow_first_run  # 5 >= 1.5 * 3
    d = s.as_dict()
    assert (d["median"], d["mean"], d["min"], d["max"], d["mad"], d["outliers"]) == (3.0, 4.0, 1.0, 10.0, 1.0, [])
    assert d["p90"] == pytest.approx(7.6) and d["p99"] == pytest.approx(9.76)


def test_percentiles_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.lognormal(size=101)
    s = Stats.of(x)
    for q in (50, 90, 99):
        assert s.percentile(q) == pytest.approx(np.percentile(x, q))
    assert s.sd == pytest.approx(np.std(x, ddof=1))
    assert s.mad == pytest.approx(np.median(np.abs(x - np.median(x))))


def test_one_sample():
    s = Stats.of([0.25])
    assert s.median == s.mean == s.min == s.max == s.percentile(90) == s.percentile(99) == 0.25
    assert s.sd == 0.0 and s.mad == 0.0 and s.outliers == [] and not s.slow_first_run and s.warnings() == []


def test_outliers_beyond_14_826_mads_as_hyperfine():
    """hyperfine: |x - median| / MAD > 1.4826 x 10, the MAD unscaled. Median 0, MAD 1 here, so a
    sample's z-score is its value: 15 MADs out is an outlier, 14 is not (nor 21: the old rule,
    which divided by 1.4826 x MAD first, flagged only beyond 14.826 x 1.4826 = 21.98 MADs)."""
    s = Stats.of([0.0, 0.0, 0.0, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0, -14.0, 15.0])
    assert s.median == 0.0 and s.mad == 1.0  # |x| sorted: 0, 0, 0, 1, 1, 1, 1, 1, 1, 14, 15
    assert s.outliers == [10]
    assert "1 statistical outlier(s) of 11 runs" in s.warnings()[0]
    wider = Stats.of([0.0, 0.0, 0.0, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0, -21.0, 14.826])
    assert wider.mad == 1.0 and wider.outliers == [9, 10]  # 14.826 > 1.4826 * 10.0 = 14.825999999999999
    assert OUTLIER_Z == 1.4826 * 10.0


def test_zero_mad_becomes_epsilon_as_hyperfine():
    """MAD 0 (most samples identical) divides by f64::EPSILON, as hyperfine does: every sample
    that differs from the median is an outlier; identical samples have none."""
    flat = Stats.of([2.0] * 10 + [9.0])
    assert flat.mad == 0.0 and flat.outliers == [10]
    assert Stats.of([3.0] * 5).outliers == []


@pytest.mark.parametrize(
    "samples,count",
    [
        ([], 0), ([50.0], 0), ([1000.0, 0.0], 0), ([-0.2, 0.0, 0.2], 0), ([-0.2, 0.0, 0.2, 4.0], 1),
        ([0.5, 0.30, 0.29, 0.31, 0.30], 1),
        (_NORMAL, 0), (_NORMAL + [20.0, -500.0], 2),
        ([10.0] * 7 + [100.0], 1), ([10.0] * 7 + [100.0, 100.0], 2),
    ],
)
def test_outlier_counts_match_hyperfines_own_tests(samples, count):
    """The cases of hyperfine's src/outlier_detection.rs tests, with the counts it asserts."""
    assert len(Stats.of(samples).outliers) == count


def test_empty():
    s = Stats.of([])
    assert s.n == 0 and math.isnan(s.median) and math.isnan(s.mean)


def test_ratio_propagates_uncertainty():
    a, b = Stats.of([2.0, 2.2, 1.8]), Stats.of([1.0, 1.1, 0.9])
    r, sd = ratio(a, b)
    assert r == pytest.approx(2.0)
    assert sd == pytest.approx(2.0 * math.sqrt(2 * (0.2 / 2.0) ** 2))


def test_as_dict_keeps_raw_samples():
    d = Stats.of([3.0, 1.0, 2.0], first=4.0).as_dict()
    assert d["samples"] == [3.0, 1.0, 2.0] and d["first"] == 4.0 and d["n"] == 3
