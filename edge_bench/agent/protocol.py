"""The measurement loops: first inference, warm-up and timed runs, the gallery encode.

Every sample is `time.perf_counter_ns()` around `model.invoke` only; inputs
are handed over before the clock starts and outputs read after it stops.
The cyclic garbage collector is off inside loops (as in `timeit`), and
nothing is printed or written there. A loop runs until both its minimum
runs and minimum seconds are met, or a cap (max runs, max seconds of wall
time) stops it first; it always runs at least once when asked for a run.
"""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from .runtimes import Model

Clock = Callable[[], int]
"""A nanosecond clock (time.perf_counter_ns; a scripted one in tests)."""


@dataclass
class LoopResult:
    """What one loop measured."""

    samples_ns: list[int] = field(default_factory=list)
    """Raw per-run durations of invoke, in nanoseconds."""
    wall_ns: int = 0
    """Wall time of the whole loop (the seconds gates are checked against it)."""
    capped_by: str | None = None
    """'max_runs' or 'max_seconds' when a cap stopped the loop before both minimums were met."""

    @property
    def n(self) -> int:
        return len(self.samples_ns)

    def summary(self) -> dict:
        """The loop as a result block: n, seconds, capped_by."""
        return {"n": self.n, "seconds": self.wall_ns / 1e9, "capped_by": self.capped_by}


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the duration (restored after)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def time_once(model: Model, inputs: list[np.ndarray], clock: Clock = time.perf_counter_ns) -> int:
    """One inference (e.g. the first after load), in nanoseconds."""
    model.set_inputs(inputs)
    start = clock()
    model.invoke()
    return clock() - start


def run_loop(
    model: Model,
    inputs: list[np.ndarray],
    min_runs: int,
    min_seconds: float,
    max_runs: int,
    max_seconds: float,
    clock: Clock = time.perf_counter_ns,
    into: LoopResult | None = None,
) -> LoopResult:
    """Run until both minimums are met or a cap stops it (at least one run when min_runs > 0).

    Samples go into `into` as they are taken, so a caller keeps them if the loop is interrupted.
    """
    result = into if into is not None else LoopResult()
    samples = result.samples_ns
    set_inputs, invoke, append = model.set_inputs, model.invoke, samples.append
    min_ns, max_ns = int(min_seconds * 1e9), int(max_seconds * 1e9)
    with gc_paused():
        start = now = clock()
        try:
            while True:
                n, elapsed = len(samples), now - start
                if n >= min_runs and elapsed >= min_ns:
                    break
                if n >= max_runs:
                    result.capped_by = "max_runs"
                    break
                if n > 0 and elapsed >= max_ns:
                    result.capped_by = "max_seconds"
                    break
                set_inputs(inputs)
                t0 = clock()
                invoke()
                now = clock()
                append(now - t0)
        finally:
            result.wall_ns = now - start
    return result


@dataclass
class EncodeResult:
    """The whole split encoded with the gallery artifact."""

    embeddings: np.ndarray
    batch_ns: list[int]
    wall_ns: int


def encode(model: Model, n: int, batch: int, make_batch: Callable[[int], list[np.ndarray]],
           clock: Clock = time.perf_counter_ns) -> EncodeResult:
    """Encode items [0, n) in batches; the last batch is padded by `make_batch` and its output trimmed."""
    embeddings: np.ndarray | None = None
    batch_ns = []
    with gc_paused():
        start = clock()
        for first in range(0, n, batch):
            inputs = make_batch(first)
            model.set_inputs(inputs)
            t0 = clock()
            model.invoke()
            batch_ns.append(clock() - t0)
            out = np.asarray(model.outputs()[0], dtype=np.float32).reshape(batch, -1)
            if embeddings is None:
                embeddings = np.empty((n, out.shape[1]), dtype=np.float32)
            count = min(batch, n - first)
            embeddings[first:first + count] = out[:count]
        wall_ns = clock() - start
    return EncodeResult(embeddings, batch_ns, wall_ns)
