"""Two devices side by side: the same model, backend and precision measured on both."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Sequence

from edge_bench.errors import ConfigError
from edge_bench.report.model import TOWERS, CompareReport, CompareRow, DeviceReport, JobEntry


def _latency_ratio(a: JobEntry, b: JobEntry, tower: str) -> tuple[float, float] | None:
    """B's mean latency over A's with its propagated sd (hyperfine's relative speed)."""
    from edge_bench.records.stats import Stats, ratio

    ta, tb = a.tower(tower), b.tower(tower)
    if not (ta and tb and ta.latency_samples_ms and tb.latency_samples_ms):
        return None
    return ratio(Stats.of(tb.latency_samples_ms), Stats.of(ta.latency_samples_ms))


def _throughput_ratio(a: JobEntry, b: JobEntry, tower: str) -> float | None:
    ta, tb = a.tower(tower), b.tower(tower)
    if not (ta and tb and ta.throughput_items_per_s and tb.throughput_items_per_s):
        return None
    return tb.throughput_items_per_s / ta.throughput_items_per_s


def compare_reports(a: DeviceReport, b: DeviceReport) -> CompareReport:
    """Rows for every job both reports hold; the labels of the jobs only one of them holds."""
    from edge_bench import __version__

    by_a = {e.key: e for e in a.entries}
    by_b = {e.key: e for e in b.entries}
    rows = [
        CompareRow(*key, by_a[key], by_b[key],
                   latency_ratio={t: _latency_ratio(by_a[key], by_b[key], t) for t in TOWERS},
                   throughput_ratio={t: _throughput_ratio(by_a[key], by_b[key], t) for t in TOWERS})
        for key in sorted(by_a) if key in by_b
    ]
    report = CompareReport(a=a, b=b, rows=rows, only_a=[], only_b=[],
                           generated=datetime.now(timezone.utc).replace(microsecond=0).isoformat(), edge_bench_version=__version__)
    report.only_a = [report.label(by_a[k]) for k in sorted(by_a) if k not in by_b]
    report.only_b = [report.label(by_b[k]) for k in sorted(by_b) if k not in by_a]
    return report


def build_compare_report(store, devices: Sequence[str], runs: Sequence[str] | None = None) -> CompareReport:
    """Build both devices' reports (each from its own runs among `runs`) and put them side by side."""
    from edge_bench.report.build import build_device_report

    if len(devices) != 2 or devices[0] == devices[1]:
        raise ConfigError(f"--compare takes two different devices, got {' '.join(devices) or 'none'}")
    if runs:  # a lab id stands for its runs on the two devices
        runs = [r.id for x in runs for r in (store.lab_runs(x) if x.startswith("L") else [store.run(x)])
                if not x.startswith("L") or r.device in devices]
    reports = []
    for device in devices:
        mine = [r for r in runs or () if store.run(r).device == device]
        if runs and not mine:
            raise ConfigError(f"none of the runs {', '.join(runs)} ran on {device!r}",
                              hint="give runs of both devices, or leave --runs out")
        reports.append(build_device_report(store, device, runs=mine or None))
    unknown = [r for r in runs or () if store.run(r).device not in devices]
    if unknown:
        raise ConfigError(f"runs {', '.join(unknown)} ran on neither {devices[0]} nor {devices[1]}")
    return compare_reports(*reports)
