"""The run loop: plan -> artifacts -> each tower through the device's executor -> recall -> store.

The runner prints nothing: it emits events (edge_bench.runner.events) and
writes one store row per job, a typed `JobRecord`. A job that fails (the tower
failed, the connection was cut, the device timed out) is recorded as failed
with its reason and the run goes on; `resume=True` runs only what the newest
run of the same plan is missing.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Callable

from edge_bench.errors import EdgeBenchError
from edge_bench.records.job import Failure, JobIdentity, JobRecord
from edge_bench.runner.device_run import DeviceRun, ExecutorFactory
from edge_bench.runner.events import Event, JobFinished, JobStage, JobStarted, RunFinished, RunStarted
from edge_bench.runner.job_run import first_repeat, repeat_towers, run_job
from edge_bench.runner.plan import PlannedJob, RunPlan, expand
from edge_bench.store import Store


@dataclass
class RunOutcome:
    """What a run did."""

    run_id: str
    status: str
    counts: dict = field(default_factory=dict)
    job_rows: list[str] = field(default_factory=list)


class Runner:
    """Runs plans on devices and stores the records."""

    def __init__(self, store: Store | None = None, on_event: Callable[[Event], None] | None = None,
                 cancel: threading.Event | None = None, executor_factory: ExecutorFactory | None = None) -> None:
        self.store = store or Store()
        self.emit = on_event or (lambda event: None)
        self.cancel = cancel or threading.Event()
        self.executor_factory = executor_factory
        """(profile, transport, local_root) -> Executor; None = the device's own (agent or native runners)."""

    def run(self, plan: RunPlan, resume: bool = False) -> RunOutcome:
        """Run every job of the plan that is not done yet; return the outcome."""
        if resume and (previous := self.store.latest_run(plan.key())) is not None:
            self.store.lock_run(previous.id).release()  # a run live elsewhere is refused before the device is touched
        with DeviceRun.open(plan, self.cancel, self.executor_factory) as device:
            jobs = expand(plan, device.profile.backends, device.runtime_gaps())
            device.measure_ceilings(jobs)
            run, done, lock = self._run_row(plan, resume)
            counts = {"ok": 0, "failed": 0, "skipped": 0, "done before": 0, "cancelled": 0}
            rows, measured = [], []
            todo = [j for j in jobs if j.key not in done]
            counts["done before"] = len(jobs) - len(todo)
            status = "interrupted"  # Ctrl-C or a bug outside a job: the run is never left marked running
            try:
                self.emit(RunStarted(run.id, plan.device, tuple(jobs), resume and bool(done), tuple(sorted(done))))
                for index, job in enumerate(todo):
                    if self.cancel.is_set():
                        counts["cancelled"] += len(todo) - index
                        break
                    self.emit(JobStarted(run.id, job, index, len(todo)))
                    status, row_id, record, job_id = self._one(device, run.id, job)
                    counts[status] = counts.get(status, 0) + 1
                    if row_id:
                        rows.append(row_id)
                    if status == "ok" and plan.repeat > 1:
                        measured.append((job, row_id, record, job_id))
                self._repeats(device, run.id, measured)
                # the flag too: a Ctrl-C that a toolchain swallowed during the last job still cancels the run
                cancelled = counts["cancelled"] or self.cancel.is_set()
                status = "cancelled" if cancelled else ("partial" if counts["failed"] else "complete")
            finally:
                try:
                    self.store.set_run_status(run.id, status)
                finally:
                    lock.release()
            self.emit(RunFinished(run.id, status, counts))
            return RunOutcome(run.id, status, counts, rows)

    def _run_row(self, plan: RunPlan, resume: bool):
        from edge_bench import __version__

        with self.store.plan_lock(plan.key()):  # two processes starting this plan never pick the same run
            previous = self.store.latest_run(plan.key()) if resume else None
            if previous is not None:
                lock = self.store.lock_run(previous.id)  # a run still live elsewhere: RunBusy, one line
                done = {j.job_key for j in self.store.jobs(run_id=previous.id) if j.status in ("ok", "skipped")}
                self.store.set_run_status(previous.id, "running")
                return previous, done, lock
            run = self.store.create_run(plan.device, plan.key(), plan.as_dict(), __version__)
            return run, set(), self.store.lock_run(run.id)

    def _repeats(self, device: DeviceRun, run_id: str, measured: list) -> None:
        """Rounds 2..N of --repeat: each round runs every measured job's towers once more, in plan order
        (interleaved, so drift hits every job alike); each job's stored record gains the round's latency."""
        records = {row_id: record for _, row_id, record, _ in measured}
        for round_no in range(2, device.plan.repeat + 1):
            for job, row_id, _, job_id in measured:
                if self.cancel.is_set():
                    return
                stage = lambda name, detail="", job=job: self.emit(JobStage(run_id, job, name, detail))  # noqa: E731  (one line per stage)
                records[row_id] = repeat_towers(device, job, job_id, records[row_id], round_no, stage)
                self.store.update_record(row_id, records[row_id])

    def _one(self, device: DeviceRun, run_id: str, job: PlannedJob) -> tuple[str, str | None, JobRecord, str]:
        from edge_bench.store.db import now

        plain = JobIdentity(key=job.key, model=job.model, backend=job.backend, precision=job.precision,
                            device=device.profile.name, dataset=device.plan.dataset)
        started = now()
        if job.skip:
            record = JobRecord(job=plain, status="skipped", failure=Failure(None, job.skip))
            row = self.store.add_job(run_id, record, started=started)
            self.emit(JobFinished(run_id, job, "skipped", job.skip, job_row_id=row.id))
            return "skipped", row.id, record, ""
        stage = lambda name, detail="": self.emit(JobStage(run_id, job, name, detail))  # noqa: E731  (a one-line local helper reads better as a lambda)
        job_id = f"{run_id}-{uuid.uuid4().hex[:6]}"
        try:
            record = run_job(device, job, job_id, stage)
        except EdgeBenchError as exc:
            record = JobRecord(job=plain, status="failed", failure=Failure(getattr(exc, "phase", None), exc.one_line()))
        except Exception as exc:  # a fault no check foresaw fails this job with its reason; the run goes on
            record = JobRecord(job=plain, status="failed", failure=Failure("internal", internal_reason(exc)))
        if record.ok and device.plan.repeat > 1:
            record = first_repeat(record)
        row = self.store.add_job(run_id, record, started=started)
        self.emit(JobFinished(run_id, job, record.status, record.reason, summary(record), row.id))
        return record.status, row.id, record, job_id


def internal_reason(exc: BaseException) -> str:
    """One line for an exception that is not an EdgeBenchError (a bug, or a fault nothing checked for)."""
    text = " ".join(str(exc).split())
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"internal error: {type(exc).__name__}" + (f": {text}" if text else "") + " (a bug in edge-bench: please report it)"


def summary(record: JobRecord) -> dict:
    """The few figures a progress display shows for a finished job."""
    out = {}
    for tower in ("image", "text"):
        ms = record.median_ms(tower)
        if ms is not None:
            out[f"{tower}_ms"] = ms
        ips = record.items_per_s(tower)
        if ips:
            out[f"{tower}_per_s"] = ips
    if record.recall("image") is not None:
        out["t2i_r1"] = record.recall("image")
        out["i2t_r1"] = record.recall("text")
    return out
