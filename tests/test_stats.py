"""Statistics of timing samples: exact values, including one sample, MAD guard, slow first run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge_bench.records.stats import Stats, ratio


def test_exact_values():
    s = Stats.of([1.0, 2.0, 3.0, 4.0, 10.0], first=5.0)
    assert s.n == 5 and s.median == 3.0 and s.mean == 4.0
    assert s.sd == pytest.approx(math.sqrt(((3**2) + 2**2 + 1 + 0 + 6**2) / 4))
    assert s.min == 1.0 and s.max == 10.0
    assert s.percentile(90) == pytest.approx(4.0 + 0.6 * 6.0)
    assert s.mad == 1.0
    assert s.slow_first_run  # 5 >= 1.5 * 3


def test_percentiles_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.lognormal(size=101)
    s = Stats.of(x)
    for q in (50, 90, 99):
        assert s.percentile(q) == pytest.approx(np.percentile(x, q))
    assert s.sd == pytest.approx(np.std(x, ddof=1))


def test_one_sample():
    s = Stats.of([0.25])
    assert s.median == s.mean == s.min == s.max == s.percentile(99) == 0.25
    assert s.sd == 0.0 and s.outliers == [] and not s.slow_first_run


def test_outliers_by_mad_and_zero_mad_guard():
    base = list(np.linspace(0.9, 1.1, 21))  # MAD = 0.05, sigma = 0.0741
    s = Stats.of(base + [2.0, 50.0])  # 2.0 is 13.5 sigma away: kept; 50.0 is an outlier
    assert s.outliers == [22]
    flat = Stats.of([2.0] * 10 + [9.0])  # MAD = 0: no division, no outliers claimed
    assert flat.mad == 0 and flat.outliers == []
    assert "outlier" in s.warnings()[0]


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
