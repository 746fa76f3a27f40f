"""The device report's "Where the time goes": the profiled jobs' roll-up, and what quantized recipes keep float.

Both read the tower figures (`profile_*_ms`) every exporter shares; the parts a
recipe keeps float come from the converter that made the artifact
(`Converter.kept_float`), so the report names the part, why it stays float, and
what its blocks and its int8<->float conversions take in this device's profile.
"""

from __future__ import annotations

from edge_bench.profile.model import BLOCKS
from edge_bench.report import fmt
from edge_bench.report.document import Table
from edge_bench.report.model import TOWERS, DeviceReport, JobEntry

TOP_BLOCKS = 3


def _key(block: str) -> str:
    return f"profile_{block.replace(' ', '_')}_ms"


def profiled(entry: JobEntry, tower: str) -> bool:
    """The tower has a per-operator roll-up."""
    return entry.figures(tower).profile_operators_ms is not None


def _share(ms: float | None, whole: float | None) -> str:
    return fmt.DASH if ms is None or not whole else f"{100 * ms / whole:.0f}%"


def _coverage(f, median: float | None) -> str:
    """The operators' share of the timed median, and its upper end where kernels read in whole microseconds leave
    their remainders outside the sum."""
    ops, slack = f.profile_operators_ms, f.values.get("profile_floor_slack_ms")
    low = _share(ops, median)
    return low if not slack or ops is None else f"{low} (up to {_share(ops + slack, median)})"


def profile_table(report: DeviceReport) -> Table | None:
    """Per profiled job and tower: coverage of the timed median, time outside the delegate, int8<->float
    conversions, and the largest blocks."""
    rows = []
    for e in report.entries:
        for tower in TOWERS:
            if not profiled(e, tower):
                continue
            f = e.figures(tower)
            median = f.latency_median_ms
            blocks = sorted(((b, getattr(f, _key(b)) or 0.0) for b in BLOCKS), key=lambda item: -item[1])
            top = ", ".join(f"{b} {ms:.3f} ({_share(ms, median)})" for b, ms in blocks[:TOP_BLOCKS] if ms > 0)
            rows.append((report.label(e), tower, fmt.num(median), fmt.num(f.profile_operators_ms), _coverage(f, median),
                         fmt.num(f.profile_outside_delegate_ms), fmt.num(f.profile_conversions_ms), top or fmt.DASH))
    if not rows:
        return None
    return Table(("job", "tower", "timed ms", "ops ms", "coverage", "outside ms", "int8<->float ms", "largest blocks (ms, share)"),
                 tuple(rows), align="llrrrrrl", title="Profiled jobs: where the time goes",
                 caption="from each job's profiling pass (after its timed loops); coverage = the operators' sum over the timed "
                         "median (up to: with each kernel read in whole microseconds given its full microsecond more); "
                         "outside = portable kernels and the runtime's own time; shares of the timed median")


def kept_float_table(report: DeviceReport) -> Table | None:
    """Per profiled quantized job: each part its recipe keeps float, why, and what its blocks take in the profile."""
    from edge_bench.converters import get_converter

    rows = []
    for e in report.entries:
        try:
            parts = get_converter(e.backend).kept_float.get(e.precision, ())
        except Exception:  # a backend this installation does not know: nothing to say about its recipe
            parts = ()
        for tower in TOWERS:
            if not parts or not profiled(e, tower):
                continue
            f = e.figures(tower)
            for part in parts:
                ms = sum(getattr(f, _key(b)) or 0.0 for b in part.blocks)
                rows.append((report.label(e), tower, part.what, ", ".join(part.blocks), fmt.num(ms),
                             _share(ms, f.latency_median_ms), part.why))
            rows.append((report.label(e), tower, "int8<->float conversions at their borders", fmt.DASH,
                         fmt.num(f.profile_conversions_ms), _share(f.profile_conversions_ms, f.latency_median_ms), fmt.DASH))
    if not rows:
        return None
    return Table(("job", "tower", "kept float", "blocks", "ms", "share", "why"), tuple(rows), align="llllrrl",
                 title="Quantized jobs: what stays float, why, and what it costs here",
                 caption="ms = the profiled time of the blocks the part runs in (the whole block, float and int8 operators); "
                         "share = of the timed median")
