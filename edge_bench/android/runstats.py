"""Run statistics as a native tool prints them, and the number syntax those tools use."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?nan|[-+]?inf"
"""A number as C's printf or C++ streams write it: 12, 12.5, 1.23457e+06, nan, inf."""


def to_float(text: str | None) -> float | None:
    """A printed number as a float; None for a missing one or for nan."""
    if text is None:
        return None
    value = float(text)
    return None if math.isnan(value) else value


@dataclass(frozen=True)
class RunStats:
    """The statistics of a series of runs as the tool printed them, in the tool's unit.

    No samples: `benchmark_model` keeps them to itself, so these are the only
    figures there are and they are reported as the tool's, never turned into
    invented samples.
    """

    count: int
    first: float | None = None
    last: float | None = None
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    """Population standard deviation (`Stat::std_deviation`)."""
    p5: float | None = None
    median: float | None = None
    p95: float | None = None
    all_same: bool = False

    def scaled(self, factor: float) -> dict:
        """The statistics as a dict with every figure multiplied by `factor` (e.g. 1e-6 for us -> s)."""
        out: dict = {"n": self.count}
        for key, value in asdict(self).items():
            if key in ("count", "all_same"):
                continue
            out[key] = None if value is None else value * factor
        if self.all_same:
            out["all_same"] = True
        return out
