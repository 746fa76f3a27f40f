"""Build a DeviceReport from the results store: pick runs and jobs, flatten records, derive the views.

Default selection: every stored job of the device, the newest successful
record per (model, backend, precision). `runs` narrows it to runs given by id
or unique prefix. A failed or skipped attempt is listed when no successful
attempt of the same job came after it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Sequence

from edge_bench.errors import ConfigError
from edge_bench.records.select import identity, newest_ok
from edge_bench.report import analysis
from edge_bench.report.entries import job_entry, problem
from edge_bench.report.model import DeviceReport, RunRef


def _runs(store, device: str, runs: Sequence[str] | None) -> list:
    if not runs:
        return store.runs(device=device)
    chosen = []
    for run_id in runs:
        if run_id.startswith("L"):  # a lab run: its run on this device
            lab = store.lab_runs(run_id)
            found = [r for r in lab if r.device == device]
            if not found:
                raise ConfigError(f"lab run {lab[0].lab_id} has no run on {device!r}",
                                  hint=f"its devices: {', '.join(r.device for r in lab)}")
            run = found[-1]
        else:
            run = store.run(run_id)
        if run.device != device:
            raise ConfigError(f"run {run.id} ran on {run.device!r}, not {device!r}",
                              hint=f"leave it out, or report on --device {run.device}")
        if run.id not in {r.id for r in chosen}:
            chosen.append(run)
    return chosen


def check_device(store, device: str) -> None:
    """A device with neither a profile nor stored runs is an error naming the devices that have results."""
    from edge_bench.devices import load_profile

    if store.runs(device=device, limit=1):
        return
    try:
        load_profile(device)
    except ConfigError:
        stored = sorted({r.device for r in store.runs()})
        raise ConfigError(f"unknown device {device!r}: no profile and no stored results",
                          hint=f"devices with results: {', '.join(stored) or 'none yet (edge-bench run)'}") from None


def choose_jobs(rows: Sequence) -> tuple[list, list]:
    """(newest ok row per job, newest not-ok row per job when no ok row came after it); rows oldest first.

    A job is its model, backend, precision, dataset and device (edge_bench.records.select).
    """
    ok = newest_ok(rows)
    bad = {}
    for row in rows:
        key = identity(row)
        if row.status == "ok":
            bad.pop(key, None)
        else:
            bad[key] = row
    return list(ok.values()), list(bad.values())


def _profile_facts(device: str, rows: Sequence) -> tuple[str, float | None, str]:
    from edge_bench.devices import load_profile

    try:
        profile = load_profile(device)
        return profile.description, profile.peak_gflops or None, profile.peak_gflops_derivation
    except ConfigError:
        peaks = [r.record.job.peak_gflops for r in rows]
        peak = next((p for p in reversed(peaks) if p), None)
        return "(profile no longer present; figures from the records)", peak, ""


def _fingerprint(rows: Sequence) -> dict:
    for row in reversed(rows):
        fp = row.record.provenance.device.fingerprint if row.record.provenance else {}
        if fp:
            return fp
    return {}


def build_device_report(store, device: str, runs: Sequence[str] | None = None, teacher: str | None = None,
                        metric: str = "image_retrieval_recall@1") -> DeviceReport:
    """The report of one device from the store (see the module docstring for the selection rule)."""
    from edge_bench import __version__

    if metric not in analysis.PARETO_METRICS:
        raise ConfigError(f"unknown accuracy metric {metric!r}", hint=f"one of {', '.join(analysis.PARETO_METRICS)}")
    check_device(store, device)
    run_rows = _runs(store, device, runs)
    run_ids = {r.id for r in run_rows}
    rows = [job for job in store.jobs(device=device) if job.run_id in run_ids]  # oldest first
    ok_rows, bad_rows = choose_jobs(rows)
    entries = sorted((job_entry(r) for r in ok_rows), key=lambda e: e.key)
    used = {r.id for r in ok_rows} | {r.id for r in bad_rows}
    refs = [RunRef(r.id, r.created, r.status, str(r.plan.get("dataset", "")),
                   sum(1 for j in rows if j.run_id == r.id), sum(1 for j in rows if j.run_id == r.id and j.id in used))
            for r in run_rows]
    description, peak, derivation = _profile_facts(device, rows)
    teacher_name, teacher_reason = analysis.find_teacher(entries, teacher)
    selection = (f"runs {', '.join(r.id for r in run_rows)} as asked" if runs else f"every stored run of {device}") + \
        "; per model, backend, precision and dataset the newest successful job"
    return DeviceReport(
        device=device, description=description, peak_gflop_per_s=peak, peak_derivation=derivation,
        fingerprint=_fingerprint(ok_rows or rows), selection=selection, runs=refs, entries=entries,
        problems=sorted((problem(r) for r in bad_rows), key=lambda p: (p.status, p.label)),
        teacher=teacher_name if entries else None, teacher_reason=teacher_reason,
        distillation=analysis.distillation(entries, teacher_name),
        pareto_metric=metric, pareto_front=[e.job_id for e in analysis.pareto_front(entries, metric)],
        notes=analysis.consistency_notes(entries) + analysis.thermal_notes(entries) + analysis.statistical_notes(entries),
        alerts=analysis.alerts(entries),
        generated=datetime.now(timezone.utc).replace(microsecond=0).isoformat(), edge_bench_version=__version__,
    )
