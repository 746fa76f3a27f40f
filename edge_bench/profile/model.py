"""A tower's per-operator profile, as typed data stored with the job (standard library only).

One `TowerProfile` per tower: the per-operator table (`OpRow`, in run order),
the roll-up by block of the student (`BlockShare`, each a share of the timed
median latency), and the placement (which ops a delegate took, partitions,
quantize/dequantize counts). Times are milliseconds per inference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BLOCKS = (
    "patch embedding", "token embedding", "attention", "mlp", "norms", "residual", "projection", "layout",
    "delegate overhead", "runtime overhead", "other",
)
"""Blocks of the roll-up, in display order. 'delegate overhead': a delegate call's time beyond its kernels;
'runtime overhead': the whole inference's time beyond every operator and delegate call (ExecuTorch: the median
over runs of that remainder, run by run)."""

CONVERSIONS = ("Convert (", "QUANTIZE", "DEQUANTIZE", "quantize_per", "dequantize_per", "choose_qparams")
"""Name prefixes of the operators that convert between int8 and float (XNNPACK's Convert kernels, TFLite's
QUANTIZE/DEQUANTIZE nodes, ExecuTorch's portable quantize ops): what a float island costs at its borders."""

KINDS = ("delegate", "portable", "delegate-call")
"""Where an operator row ran: inside a delegate (a kernel), on the runtime's own kernels (outside
the delegate), or the part of a delegate call not covered by its kernels."""


@dataclass(frozen=True)
class OpRow:
    """One operator (or delegate kernel) of one inference."""

    name: str
    """The event's name: an XNNPACK kernel ('Fully Connected (NC, F32) GEMM #1'), a portable op, a TFLite node type."""
    kind: str = "portable"
    """One of KINDS."""
    block: str = "other"
    """The student's block it belongs to (one of BLOCKS)."""
    module: str = ""
    """The student's module path it came from ('blocks.0.attn.qkv'), where the ETRecord maps it."""
    op_types: tuple[str, ...] = ()
    """The graph ops behind the event ('aten.linear.default')."""
    median_ms: float | None = None
    mean_ms: float | None = None
    n: int = 0
    """Profiled inferences that produced it."""


@dataclass(frozen=True)
class BlockShare:
    """One block of the roll-up."""

    block: str
    ms: float = 0.0
    share: float | None = None
    """ms over the tower's timed median latency."""
    ops: int = 0
    outside_delegate_ms: float = 0.0
    """Of `ms`, what ran outside the delegate (portable kernels, runtime overhead)."""


@dataclass(frozen=True)
class TowerProfile:
    """The profiling pass of one tower: run after the timed loops, never mixed into their latency."""

    source: str = ""
    """'etdump' (ExecuTorch), 'benchmark_model' (TFLite op profiling), 'placement' (LiteRT placement only)."""
    status: str = "ok"
    """ok; unsupported (the runtime cannot profile: `reason` says why); failed."""
    reason: str = ""
    runs: int = 0
    """Inferences profiled."""
    ops: tuple[OpRow, ...] = ()
    blocks: tuple[BlockShare, ...] = ()
    op_total_ms: float | None = None
    """Sum of the per-operator rows' medians (the delegate calls' own overhead included)."""
    execute_ms: float | None = None
    """Median of the whole profiled inference (ExecuTorch Method::execute; benchmark_model's avg)."""
    timed_median_ms: float | None = None
    """The tower's timed median latency, for the shares."""
    outside_delegate_ms: float | None = None
    """Portable kernels plus runtime overhead: the time not spent inside a delegate call."""
    explained: float | None = None
    """Median over the profiled runs of (their operator and delegate-call events) / (that run's whole inference):
    how much of each profiled inference the table accounts for, whatever the load on the device."""
    delegate_calls: int | None = None
    """Delegate calls per inference (ExecuTorch) or delegate partitions (LiteRT)."""
    placement: dict[str, Any] = field(default_factory=dict)
    """Which ops the delegate took: partitions, delegated and not-delegated op counts, quantize/dequantize counts."""
    wall_s: float | None = None
    """Wall time of the profiling pass on the device."""
    job_wall_s: float | None = None
    """Wall time of the agent's whole tower job (profiling pass included)."""
    floored_kernels: int = 0
    """Kernel rows whose runtime reports each time in whole microseconds, rounded down (XNNPACK's profiler, on both
    runtimes): each of them ran up to 1 us longer than it reads."""
    floor_slack_ms: float = 0.0
    """What the operators' sum may lack because of that rounding and holds elsewhere: up to 1 us per floored kernel
    whose remainder lands outside the sum (LiteRT: in 'runtime overhead'), bounded by that remainder. 0 where the
    remainder is already in the sum (ExecuTorch: each delegate call's own row, 'delegate overhead', holds it)."""
    notes: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)
    """Profile files kept on the host (etdump, etrecord, benchmark_model CSV)."""

    @property
    def coverage(self) -> float | None:
        """Sum of per-operator times over the timed median (how much of the latency the table explains)."""
        if not self.op_total_ms or not self.timed_median_ms:
            return None
        return self.op_total_ms / self.timed_median_ms

    @property
    def coverage_upper(self) -> float | None:
        """The coverage if every floored kernel whose remainder is outside the sum took its whole microsecond more
        (`floor_slack_ms`): with `coverage`, the range the rounding leaves; None when the rounding moves nothing."""
        if self.coverage is None or self.floor_slack_ms <= 0:
            return None
        return (self.op_total_ms + self.floor_slack_ms) / self.timed_median_ms

    @property
    def conversions_ms(self) -> float:
        """The operators that convert between int8 and float (see CONVERSIONS), summed."""
        return sum(r.median_ms or 0.0 for r in self.ops if r.name.startswith(CONVERSIONS))

    @property
    def overhead_share(self) -> float | None:
        """The profiling pass's wall time over the tower job's wall time."""
        if self.wall_s is None or not self.job_wall_s:
            return None
        return self.wall_s / self.job_wall_s

    def block(self, name: str) -> BlockShare | None:
        return next((b for b in self.blocks if b.block == name), None)
