"""A lab run on one host: one plan on several devices at once, one job at a time per device.

Each device runs the plan in its own thread, as its own run (`Runner`), with its own store connection; the
runs share a lab id (the store's `runs.lab_id`) and every record carries a `LabContext`. A (model, backend,
precision) is converted once: the converters' disk cache holds one set per key, and a lock per key makes the
devices that need it at the same moment wait for the one converting it. A device that cannot be reached, or
is lost outside a job, fails only its own jobs (each recorded as failed with the reason); `resume=True`
completes what each device's newest run of the plan is missing. Two devices on one machine are refused
(edge_bench.runner.lab_guard) unless `allow_shared_hardware`, which marks their records as taken concurrently.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

from edge_bench.errors import ConfigError, EdgeBenchError
from edge_bench.records.job import Failure, JobIdentity, JobRecord, LabContext
from edge_bench.runner.device_run import ExecutorFactory
from edge_bench.runner.events import DeviceFailed, Event, JobFinished, LabFinished, LabStarted, RunFinished, RunStarted
from edge_bench.runner.lab_guard import HardwareId, hardware_id, refusal, shared_hardware
from edge_bench.runner.loop import RunOutcome, Runner
from edge_bench.runner.plan import RunPlan, expand
from edge_bench.store import Store
from edge_bench.store.locks import RunBusy


@dataclass
class LabOutcome:
    """What a lab run did: one outcome per device, and their sums (what `exit_code` reads)."""

    lab_id: str
    status: str
    runs: dict[str, RunOutcome] = field(default_factory=dict)
    counts: dict = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return self.lab_id


class LabStore(Store):
    """A store connection of one device's thread: its runs join the lab, its records carry the lab context."""

    def __init__(self, path: Path, lab: LabContext) -> None:
        super().__init__(path)
        self.lab = lab

    def create_run(self, device: str, plan_key: str, plan: dict, version: str, lab_id: str | None = None):
        return super().create_run(device, plan_key, plan, version, lab_id or self.lab.lab_id)

    def add_job(self, run_id: str, record: JobRecord, started: str | None = None):
        return super().add_job(run_id, replace(record, lab=self.lab), started)

    def update_record(self, job_id: str, record: JobRecord) -> None:
        super().update_record(job_id, replace(record, lab=self.lab))


def new_lab_id() -> str:
    return f"L{uuid.uuid4().hex[:10]}"


class LabRunner:
    """Runs one plan on several devices at once and stores one run per device, grouped by a lab id."""

    def __init__(self, store: Store | None = None, on_event: Callable[[Event], None] | None = None,
                 cancel: threading.Event | None = None, executor_factory: ExecutorFactory | None = None,
                 allow_shared_hardware: bool = False, hardware: HardwareId | None = None) -> None:
        self.store = store or Store()
        self._emit = on_event or (lambda event: None)
        self._emit_lock = threading.Lock()
        self.cancel = cancel or threading.Event()
        self.executor_factory = executor_factory
        self.allow_shared_hardware = allow_shared_hardware
        """Run devices that are one machine anyway; their records are marked as taken concurrently."""
        self.hardware = hardware or hardware_id
        """(profile, transport) -> the machine's id (edge_bench.runner.lab_guard.hardware_id)."""

    def emit(self, event: Event) -> None:
        """Events of every device's thread, one at a time."""
        with self._emit_lock:
            self._emit(event)

    def run(self, plan: RunPlan, devices: Sequence[str], resume: bool = False) -> LabOutcome:
        """The plan on every device at once; returns when every device is done."""
        devices = tuple(dict.fromkeys(devices))
        if len(devices) < 2:
            raise ConfigError(f"a lab run needs at least two devices, got {', '.join(devices) or 'none'}")
        plans = {d: replace(plan, device=d) for d in devices}
        reached = self._reach(devices)
        ids = {d: hw for d, (hw, _) in reached.items()}
        shared = shared_hardware(ids)
        if shared and not self.allow_shared_hardware:
            raise ConfigError(refusal(shared, ids))
        lab_id = (self._previous_lab(plans) if resume else None) or new_lab_id()
        self.emit(LabStarted(lab_id, devices, shared, resume))
        outcomes: dict[str, RunOutcome] = {}
        threads = [threading.Thread(target=self._device, name=f"lab-{d}", daemon=True,
                                    args=(plans[d], LabContext(lab_id, devices, shared.get(d, ())), reached[d][1],
                                          resume, outcomes)) for d in devices]
        run_device_threads(threads, self.cancel)
        return finish_lab(self.emit, lab_id, devices, outcomes)

    def _reach(self, devices: tuple[str, ...]) -> dict[str, tuple[str | None, str | None]]:
        """Per device (its hardware id, why it cannot be reached), all at once."""
        with ThreadPoolExecutor(max_workers=len(devices)) as pool:
            return dict(zip(devices, pool.map(self._reach_one, devices)))

    def _reach_one(self, device: str) -> tuple[str | None, str | None]:
        from edge_bench.devices import load_profile, open_transport

        profile = load_profile(device)
        try:
            transport = open_transport(profile)
            try:
                transport.check()
                return self.hardware(profile, transport), None
            finally:
                transport.close()
        except EdgeBenchError as exc:
            return None, exc.one_line()

    def _previous_lab(self, plans: dict[str, RunPlan]) -> str | None:
        """The lab id of the newest runs of these plans, so a resumed lab run stays one group."""
        found = [run for run in (self.store.latest_run(p.key()) for p in plans.values()) if run and run.lab_id]
        return max(found, key=lambda r: r.created).lab_id if found else None

    def _device(self, plan: RunPlan, lab: LabContext, unreachable: str | None, resume: bool,
                outcomes: dict[str, RunOutcome]) -> None:
        """One device's whole run, in its thread; whatever stops it fails only its own jobs."""
        store = LabStore(self.store.path, lab)
        seen = _RunSeen(plan.device)
        emit = lambda event: (seen.see(event), self.emit(event))  # noqa: E731  (a one-line local helper reads better as a lambda)
        try:
            if unreachable is not None:
                outcomes[plan.device] = self._fail_device(store, plan, unreachable, resume, seen)
                return
            runner = Runner(store, on_event=emit, cancel=self.cancel, executor_factory=self.executor_factory)
            outcomes[plan.device] = runner.run(plan, resume=resume)
        except RunBusy as exc:  # another live process is resuming this device's run: say so, leave its run alone
            outcomes[plan.device] = busy_outcome(self.emit, plan.device, exc)
        except EdgeBenchError as exc:
            outcomes[plan.device] = self._fail_device(store, plan, exc.one_line(), resume, seen)
        except Exception as exc:  # a bug on one device's thread must not take the lab down; it is recorded
            outcomes[plan.device] = self._fail_device(store, plan, f"{type(exc).__name__}: {exc}", resume, seen)
        finally:
            store.close()

    def _fail_device(self, store: LabStore, plan: RunPlan, reason: str, resume: bool, seen: "_RunSeen") -> RunOutcome:
        """Record every job of the device not yet done as failed with the reason; the device's run ends."""
        from edge_bench import __version__
        from edge_bench.devices import load_profile
        from edge_bench.store.db import now

        device = plan.device
        reason = f"device {device} failed: {reason}"
        run = store.run(seen.run_id) if seen.run_id else (store.latest_run(plan.key()) if resume else None)
        if run is None:
            run = store.create_run(device, plan.key(), plan.as_dict(), __version__)
        self.emit(DeviceFailed(run.id, device, reason))
        done = {j.job_key for j in store.jobs(run_id=run.id) if j.status in ("ok", "skipped")} | seen.finished
        jobs = [j for j in expand(plan, load_profile(device).backends, {}) if j.key not in done]
        counts = {"ok": 0, "failed": 0, "skipped": 0, "done before": 0, "cancelled": 0}
        for job in jobs:
            status = "skipped" if job.skip else "failed"
            identity = JobIdentity(key=job.key, model=job.model, backend=job.backend, precision=job.precision,
                                   device=device, dataset=plan.dataset)
            record = JobRecord(job=identity, status=status, failure=Failure(None if job.skip else "connection", job.skip or reason))
            row = store.add_job(run.id, record, started=now())
            counts[status] += 1
            self.emit(JobFinished(run.id, job, status, record.reason, job_row_id=row.id))
        for name, n in seen.counts.items():
            counts[name] = counts.get(name, 0) + n
        status = "partial" if counts["ok"] else "failed"
        store.set_run_status(run.id, status)
        self.emit(RunFinished(run.id, status, counts))
        return RunOutcome(run.id, status, counts)


def run_device_threads(threads: list[threading.Thread], cancel: threading.Event) -> None:
    """Start every device's thread and wait for all; Ctrl-C (or any error here) cancels every device, waits
    for their runs to be marked, and goes on up."""
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)  # short joins: Ctrl-C reaches the main thread
    except BaseException:
        cancel.set()  # every device stops its tower; each run is marked interrupted by its own runner
        for thread in threads:
            thread.join(30)
        raise


def finish_lab(emit: Callable[[Event], None], lab_id: str, devices: Sequence[str], outcomes: dict[str, RunOutcome]) -> LabOutcome:
    """The lab's outcome from its devices' runs (cancelled, complete or partial), announced as LabFinished."""
    counts = Counter()
    for outcome in outcomes.values():
        counts.update(outcome.counts)
    statuses = {o.status for o in outcomes.values()}
    status = "cancelled" if "cancelled" in statuses else "complete" if statuses == {"complete"} else "partial"
    result = LabOutcome(lab_id, status, {d: outcomes[d] for d in devices if d in outcomes}, dict(counts))
    emit(LabFinished(lab_id, status, result.counts, {d: o.run_id for d, o in result.runs.items()}))
    return result


def busy_outcome(emit, device: str, exc: RunBusy) -> RunOutcome:
    """A device whose run another live process holds: one line, nothing written into that run."""
    emit(DeviceFailed(exc.run_id, device, f"device {device}: {exc.one_line()}"))
    return RunOutcome(exc.run_id, "failed", {"ok": 0, "failed": 0, "skipped": 0, "done before": 0, "cancelled": 0})


class _RunSeen:
    """What one device's runner has told so far: its run id, the jobs it finished, their statuses."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.run_id: str | None = None
        self.finished: set[str] = set()
        self.counts: Counter = Counter()

    def see(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.run_id = event.run_id
            self.counts["done before"] += len(event.already_done)
        elif isinstance(event, JobFinished):
            self.finished.add(event.job.key)
            self.counts[event.status] += 1
