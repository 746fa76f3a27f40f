"""One tower's result on one device: latency statistics, gallery throughput, memory, thermal, runtime.

`TOWER_FIGURES` is the list every tabular reader uses (the report's JSON and
CSV columns, `edge-bench show --figures`): a new figure is a field here and a
line in that list, in this file only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from edge_bench.profile.model import BLOCKS, TowerProfile
from edge_bench.records.stats import Stats

REPLICABLE_SPREAD = 0.05
"""MLPerf Mobile's replicability rule: the medians of the repeats lie within 5% of each other."""


@dataclass(frozen=True)
class LatencyStats:
    """Statistics of raw timing samples (seconds), raw samples included (`Stats.as_dict`)."""

    n: int = 0
    median: float | None = None
    mean: float | None = None
    sd: float | None = None
    p90: float | None = None
    p99: float | None = None
    min: float | None = None
    max: float | None = None
    mad: float | None = None
    outliers: tuple[int, ...] = ()
    """Indices of the samples flagged by the MAD rule."""
    first: float | None = None
    """The first inference (seconds), when it belongs to these samples."""
    slow_first_run: bool = False
    samples: tuple[float, ...] = ()
    """Raw samples in the order they were taken."""

    @classmethod
    def of(cls, samples, first: float | None = None) -> "LatencyStats":
        """Statistics of raw samples (seconds)."""
        d = Stats.of(samples or (), first=first).as_dict()
        d["outliers"] = tuple(d["outliers"])
        d["samples"] = tuple(d["samples"])
        return cls(**{k: (None if isinstance(v, float) and v != v else v) for k, v in d.items()})

    def stats(self) -> Stats:
        """The samples as Stats, for ratios and intervals."""
        return Stats.of(self.samples, first=self.first)


@dataclass(frozen=True)
class Loop:
    """How a warm-up or timed loop ended."""

    n: int | None = None
    seconds: float | None = None
    capped_by: str | None = None
    """'max_runs' or 'max_seconds' when a cap stopped the loop before its minimums."""
    complete: bool | None = None


@dataclass(frozen=True)
class Gallery:
    """Encoding the whole split with the batch-B artifact: throughput and per-batch latency."""

    batch: int | None = None
    n_items: int | None = None
    items_per_s: float | None = None
    wall_s: float | None = None
    load_s: float | None = None
    batch_latency: LatencyStats = field(default_factory=LatencyStats)


@dataclass(frozen=True)
class Memory:
    """Memory of the runner process for one tower (bytes)."""

    rss_start_bytes: int | None = None
    rss_before_load_bytes: int | None = None
    """RSS once the runtime is imported, before the artifact loads."""
    rss_after_load_bytes: int | None = None
    peak_rss_bytes: int | None = None
    """VmHWM of the process (or the runner's own peak report)."""
    peak_rss_source: str | None = None
    pss_end_bytes: int | None = None
    """Proportional set size at the end (Android)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Every other figure the executor recorded, as recorded."""

    @property
    def peak_bytes(self) -> int | None:
        """The process peak: VmHWM where known, else the PSS at the end (the one rule every reader uses)."""
        return self.peak_rss_bytes or self.pss_end_bytes

    @property
    def model_increment_bytes(self) -> int | None:
        """What the model itself adds: the process peak minus the runtime's baseline (RSS before load)."""
        if self.peak_bytes is None or self.rss_before_load_bytes is None:
            return None
        return max(0, self.peak_bytes - self.rss_before_load_bytes)


@dataclass(frozen=True)
class Thermal:
    """Temperatures (deg C per zone) before and after the tower, and the CPU state."""

    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    governor: str | None = None
    throttled: Any = None
    freq_khz: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def hottest_before(self) -> float | None:
        return _hottest(self.before)

    @property
    def hottest_after(self) -> float | None:
        return _hottest(self.after)


def _hottest(zones: dict) -> float | None:
    values = [v for v in zones.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return max(values) if values else None


@dataclass(frozen=True)
class RuntimeInfo:
    """The runtime that ran the artifact."""

    backend: str | None = None
    name: str | None = None
    module: str | None = None
    version: str | None = None
    threads_applied: int | None = None
    timed_region: str | None = None
    """What one timed sample covers."""

    @property
    def label(self) -> str:
        return " ".join(str(v) for v in (self.name or self.backend, self.version) if v)

    @property
    def baseline_holds(self) -> str:
        """What the runner's memory before the model loads consists of, in words."""
        return BASELINES.get(self.name or "", "the runner process and its runtime")


BASELINES = {
    "executorch-pybind": "the ExecuTorch Python runtime, which imports torch",
    "executorch-numpy": "the torch-free ExecuTorch numpy runtime",
    "ai-edge-litert": "the LiteRT interpreter and numpy",
    "tflite-runtime": "the tflite_runtime interpreter and numpy",
    "coremltools": "coremltools and its dependencies",
}
"""Runtime name -> what the memory baseline (RSS before load) holds."""


@dataclass(frozen=True)
class TowerResult:
    """What one executor returns for one tower of one job."""

    status: str = "ok"
    """ok; failed or cancelled for a tower that stopped (its `partial` figures kept)."""
    latency: LatencyStats = field(default_factory=LatencyStats)
    """Batch-1 latency of the timed loop."""
    notes: tuple[str, ...] = ()
    """Statistical notes: outliers, slow first run."""
    load_s: float | None = None
    first_inference_s: float | None = None
    warmup: Loop = field(default_factory=Loop)
    timed: Loop = field(default_factory=Loop)
    gallery: Gallery = field(default_factory=Gallery)
    memory: Memory = field(default_factory=Memory)
    thermal: Thermal = field(default_factory=Thermal)
    runtime: RuntimeInfo = field(default_factory=RuntimeInfo)
    flops: float | None = None
    """FLOPs of one batch-1 inference (from the manifest)."""
    achieved_gflops: float | None = None
    peak_share: float | None = None
    """achieved_gflops over the profile's theoretical fp32 peak (for reference; shares use the ceiling)."""
    ceiling_gflops: float | None = None
    """The device's measured ceiling for this backend and precision (edge_bench.runner.ceiling)."""
    executor: str = "agent"
    """Which executor measured it: agent, native or scripted."""
    agent: dict[str, Any] = field(default_factory=dict)
    """The agent's own facts: version, platform, threads, affinity applied, sha256 verified, protocol."""
    native: dict[str, Any] = field(default_factory=dict)
    """Native runners: the tool's own statistics, fidelity sample, protocol deviations."""
    partial: dict[str, Any] = field(default_factory=dict)
    """A stopped tower's figures as the agent last checkpointed them."""
    repeats: tuple[LatencyStats, ...] = ()
    """With --repeat N: the batch-1 latency of each of the N fresh processes (the first included)."""
    cooldown_waited_s: tuple[float, ...] = ()
    """Seconds the cool-down gate waited before each repeat (--cooldown-*)."""
    profile: TowerProfile | None = None
    """With --profile: the per-operator table and roll-up by block of a profiling pass after the timed loops."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def ceiling_share(self) -> float | None:
        """achieved_gflops over the measured ceiling of the same runtime and precision (above 1: a ceiling error)."""
        if not (self.achieved_gflops and self.ceiling_gflops):
            return None
        return self.achieved_gflops / self.ceiling_gflops

    @property
    def ceiling_error(self) -> bool:
        """The model beat its ceiling: the ceiling was measured badly, so no share is shown."""
        share = self.ceiling_share
        return share is not None and share > 1.0

    @property
    def repeat_medians(self) -> list[float]:
        return [r.median for r in self.repeats if r.median]

    @property
    def replicability(self) -> float | None:
        """Spread of the repeats' medians, (max - min) / their median; None with fewer than 2 repeats."""
        medians = sorted(self.repeat_medians)
        if len(medians) < 2:
            return None
        mid = len(medians) // 2
        centre = medians[mid] if len(medians) % 2 else (medians[mid - 1] + medians[mid]) / 2
        return (medians[-1] - medians[0]) / centre

    @property
    def replicable(self) -> bool | None:
        """MLPerf Mobile's rule: the repeats' medians within 5% of each other."""
        spread = self.replicability
        return None if spread is None else spread <= REPLICABLE_SPREAD


NO_TOWER = TowerResult(status="absent")
"""A tower a record does not have."""


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1e3


@dataclass(frozen=True)
class Figure:
    """One column of a tower's figures: a name with its unit, a label, a reader."""

    name: str
    label: str
    read: Callable[[TowerResult], Any]
    fmt: str = ".2f"

    def cell(self, tower: TowerResult) -> str:
        value = self.read(tower)
        if value is None:
            return "-"
        return f"{value:{self.fmt}}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


TOWER_FIGURES: tuple[Figure, ...] = (
    Figure("latency_median_ms", "median ms", lambda t: _ms(t.latency.median)),
    Figure("latency_mean_ms", "mean ms", lambda t: _ms(t.latency.mean)),
    Figure("latency_sd_ms", "sd ms", lambda t: _ms(t.latency.sd), ".3f"),
    Figure("latency_p90_ms", "p90 ms", lambda t: _ms(t.latency.p90)),
    Figure("latency_p99_ms", "p99 ms", lambda t: _ms(t.latency.p99)),
    Figure("latency_min_ms", "min ms", lambda t: _ms(t.latency.min)),
    Figure("latency_max_ms", "max ms", lambda t: _ms(t.latency.max)),
    Figure("latency_n", "runs", lambda t: t.latency.n, "d"),
    Figure("outliers", "outliers", lambda t: len(t.latency.outliers), "d"),
    Figure("repeats", "repeats", lambda t: len(t.repeats) or None, "d"),
    Figure("repeat_median_spread", "repeat spread", lambda t: t.replicability, ".3f"),
    Figure("first_inference_ms", "first ms", lambda t: _ms(t.first_inference_s)),
    Figure("load_ms", "load ms", lambda t: _ms(t.load_s)),
    Figure("throughput_items_per_s", "items/s", lambda t: t.gallery.items_per_s, ".0f"),
    Figure("gallery_batch", "batch", lambda t: t.gallery.batch, "d"),
    Figure("model_increment_bytes", "model bytes", lambda t: t.memory.model_increment_bytes, "d"),
    Figure("rss_before_load_bytes", "baseline bytes", lambda t: t.memory.rss_before_load_bytes, "d"),
    Figure("peak_rss_bytes", "peak bytes", lambda t: t.memory.peak_bytes, "d"),
    Figure("flops", "FLOPs", lambda t: t.flops, ".3g"),
    Figure("achieved_gflop_per_s", "GFLOP/s", lambda t: t.achieved_gflops, ".1f"),
    Figure("peak_share", "peak share", lambda t: t.peak_share, ".3f"),
    Figure("ceiling_gflop_per_s", "ceiling GFLOP/s", lambda t: t.ceiling_gflops, ".1f"),
    Figure("ceiling_share", "ceiling share", lambda t: None if t.ceiling_error else t.ceiling_share, ".3f"),
    Figure("ceiling_error", "ceiling error", lambda t: t.ceiling_error if t.ceiling_share is not None else None, "s"),
    Figure("runtime", "runtime", lambda t: t.runtime.label, "s"),
)
"""Every scalar figure of a tower, in report units (names carry the unit)."""


def _profiled(tower: TowerResult) -> TowerProfile | None:
    p = tower.profile
    return p if p is not None and p.status == "ok" and p.blocks else None


def _block_ms(name: str) -> Callable[[TowerResult], Any]:
    def read(tower: TowerResult) -> float | None:
        p = _profiled(tower)
        b = p.block(name) if p else None
        return None if p is None else (b.ms if b else 0.0)

    return read


TOWER_FIGURES += (
    Figure("profile_operators_ms", "profiled ops ms", lambda t: _profiled(t) and _profiled(t).op_total_ms, ".3f"),
    Figure("profile_floor_slack_ms", "floor slack ms", lambda t: _profiled(t) and _profiled(t).floor_slack_ms, ".3f"),
    Figure("profile_outside_delegate_ms", "outside delegate ms", lambda t: _profiled(t) and _profiled(t).outside_delegate_ms, ".3f"),
    Figure("profile_conversions_ms", "int8<->float ms", lambda t: _profiled(t) and _profiled(t).conversions_ms, ".3f"),
    *(Figure(f"profile_{b.replace(' ', '_')}_ms", f"{b} ms", _block_ms(b), ".3f") for b in BLOCKS),
    Figure("profile_pass_ms", "profile pass ms", lambda t: _ms(t.profile.wall_s) if t.profile else None, ".0f"),
    Figure("profile_job_wall_ms", "tower job ms", lambda t: _ms(t.profile.job_wall_s) if t.profile else None, ".0f"),
)
"""With --profile: the roll-up by block (ms per inference, from the profiling pass), the sum of the per-operator
rows (and what that sum may lack to kernels read in whole microseconds), the time outside the delegate and in
int8<->float conversions; the pass's own wall time and the tower job's."""


def figures(tower: TowerResult) -> dict[str, Any]:
    """A tower's figures by name, in report units."""
    return {f.name: f.read(tower) for f in TOWER_FIGURES}
