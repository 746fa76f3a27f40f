"""A lab across hosts, on Ray: one actor per device, on the node that owns it, one job at a time.

Each lab host joins the cluster with `edge-bench lab serve`, advertising one custom resource of 1 per device
profile it owns (`resource_name`). `RayLabRunner` (the submitting host) starts one `DeviceActor` per device,
holding that device's resource, so Ray places it on the owning node and no other run can use the device
meanwhile. The submitting host converts each (model, backend, precision) once, ships the artifact set through
Ray's object store (once per device), and stores every record and its embeddings in its own store, grouped by
a lab id as on one host. A node lost mid-run fails its devices' remaining jobs with the reason; the other
devices finish; `resume=True` completes what each device is missing.

Ray is imported only here, inside the functions that need it (the `lab` extra).
"""

from __future__ import annotations

import io
import re
import tarfile
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

from edge_bench.errors import ConfigError, EdgeBenchError
from edge_bench.records.job import Failure, JobIdentity, JobRecord, LabContext
from edge_bench.runner.device_run import ExecutorFactory, default_local_root, save_embeddings
from edge_bench.runner.events import DeviceFailed, Event, JobFinished, JobStage, JobStarted, LabStarted, RunFinished, RunStarted
from edge_bench.runner.lab import LabOutcome, LabStore, busy_outcome, finish_lab, new_lab_id, run_device_threads
from edge_bench.runner.lab_guard import refusal, shared_hardware
from edge_bench.runner.lab_weights import WeightsPack, pack_weights, shipped_models
from edge_bench.runner.job_run import first_repeat
from edge_bench.runner.loop import RunOutcome
from edge_bench.runner.plan import PlannedJob, RunPlan, expand
from edge_bench.store import Store
from edge_bench.store.locks import RunBusy

RESOURCE_PREFIX = "edge_bench_device:"
"""A device's custom resource is this prefix and its profile name."""
NAMESPACE = "edge-bench"


def resource_name(device: str) -> str:
    """The custom resource that stands for a device in the cluster."""
    return RESOURCE_PREFIX + device


def device_of(resource: str) -> str | None:
    return resource[len(RESOURCE_PREFIX):] if resource.startswith(RESOURCE_PREFIX) else None


def ray_module():
    """Ray, or a one-line error naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise ConfigError("a lab across hosts needs Ray: pip install 'edge-bench[lab]'") from None
    return ray


def connect(address: str):
    """Join the cluster at HEAD:PORT as a driver (idempotent); a cluster that does not answer is one line."""
    import logging

    ray = ray_module()
    if not re.fullmatch(r"[^:\s]+:\d+", address or ""):
        raise ConfigError(f"a lab address is HEAD:PORT, got {address!r}")
    if not ray.is_initialized():
        _head_answers(address)
        try:
            ray.init(address=address, namespace=NAMESPACE, log_to_driver=False, logging_level=logging.WARNING,
                     configure_logging=True)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ConfigError(f"no Ray cluster answers at {address}: {' '.join(str(exc).split())[:200]}",
                              hint="start the head with `edge-bench lab serve --head --address HEAD:PORT`") from None
    return ray


def _head_answers(address: str, timeout: float = 5.0) -> None:
    """A one-line error, at once, when nothing listens at HEAD:PORT (ray.init would retry for minutes, logging from C++)."""
    import socket

    host, port = address.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except (OSError, ValueError) as exc:
        raise ConfigError(f"no Ray cluster answers at {address}: {exc.strerror or exc}",
                          hint="start the head with `edge-bench lab serve --head --address HEAD:PORT`") from None


def lab_devices(ray) -> dict[str, int]:
    """Device -> how many alive nodes advertise it (more than 1 is a name clash)."""
    found: dict[str, int] = {}
    for node in ray.nodes():
        if node.get("Alive"):
            for resource in node.get("Resources", {}):
                device = device_of(resource)
                if device:
                    found[device] = found.get(device, 0) + 1
    return found


def pack(folder: Path) -> bytes:
    """An artifact set's folder as one tar (what goes into the object store)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(folder, arcname=folder.name)
    return buffer.getvalue()


def unpack(blob: bytes, root: Path) -> Path:
    """A shipped artifact set, unpacked under `root` (once); its folder."""
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r") as tar:
        name = tar.getnames()[0].split("/")[0]
        if not (root / name / "manifest.json").exists():
            tar.extractall(root, filter="data")
    return root / name


class DeviceActor:
    """One device of the lab, on the node that owns it: the open device, its jobs one at a time."""

    def __init__(self, plan: RunPlan, executor_factory: ExecutorFactory | None = None,
                 weights: dict[str, WeightsPack] | None = None) -> None:
        from contextlib import ExitStack

        from edge_bench.runner.device_run import DeviceRun

        self._stack = ExitStack()
        self.device = self._stack.enter_context(DeviceRun.open(plan, executor_factory=executor_factory))
        if weights:  # the plan's --weights are paths on the submitting host: build from the shipped copies
            self.device._models.update(shipped_models(weights, self.device.local_root / "lab-weights"))

    def describe(self) -> dict:
        """The device's jobs (skips with reasons), its hardware id and node, and whether its executor makes its artifacts."""
        import platform

        from edge_bench.runner.lab_guard import hardware_id

        device = self.device
        jobs = expand(device.plan, device.profile.backends, device.runtime_gaps())
        device.measure_ceilings(jobs)
        for name in dict.fromkeys(j.model for j in jobs if not j.skip):
            device.model(name)  # built now, while the other devices start too, not inside the first job
        return {"jobs": jobs, "hardware": hardware_id(device.profile, device.transport), "node": platform.node(),
                "provides_artifacts": device.executor.provides_artifacts}

    def run(self, job: PlannedJob, job_id: str, artifacts: bytes | None) -> tuple[JobRecord, dict, float]:
        """One job on the device: its record, its embeddings (arrays, to be stored on the submitting host) and the
        seconds it took here (the rest of the round trip is Ray's scheduling and transfer)."""
        import time

        import numpy as np

        started = time.perf_counter()

        from edge_bench.converters.artifact import ArtifactSet
        from edge_bench.runner.job_run import run_job

        device = self.device
        if artifacts is not None:
            folder = unpack(artifacts, device.local_root / "lab-artifacts")
            device._artifacts[(job.model, job.backend, job.precision)] = ArtifactSet.load(folder)
        try:
            record = run_job(device, job, job_id, lambda *args: None)
        except EdgeBenchError as exc:
            record = JobRecord(job=_identity(job, device.plan), status="failed",
                               failure=Failure(getattr(exc, "phase", None), exc.one_line()))
        embeddings = {name: np.load(path) for name, path in record.embeddings.items()}
        return record, embeddings, time.perf_counter() - started

    def repeat(self, job: PlannedJob, job_id: str, record: JobRecord, round_no: int) -> JobRecord:
        """Round `round_no` of --repeat for one job this actor ran: each tower's timed loops once more, in a
        fresh process (edge_bench.runner.job_run.repeat_towers); the record with the round's latency added."""
        from edge_bench.runner.job_run import repeat_towers

        return repeat_towers(self.device, job, job_id, record, round_no, lambda *args: None)

    def close(self) -> None:
        self._stack.close()


def _identity(job: PlannedJob, plan: RunPlan) -> JobIdentity:
    return JobIdentity(key=job.key, model=job.model, backend=job.backend, precision=job.precision, device=plan.device,
                       dataset=plan.dataset)


class RayLabRunner:
    """Runs one plan on devices of a Ray cluster, each in its actor; records come back to this host's store."""

    def __init__(self, address: str, store: Store | None = None, on_event: Callable[[Event], None] | None = None,
                 cancel: threading.Event | None = None, executor_factory: ExecutorFactory | None = None,
                 allow_shared_hardware: bool = False) -> None:
        self.address = address
        self.store = store or Store()
        self._emit = on_event or (lambda event: None)
        self._emit_lock = threading.Lock()
        self.cancel = cancel or threading.Event()
        self.executor_factory = executor_factory
        self.allow_shared_hardware = allow_shared_hardware
        self._shipped: dict[tuple, object] = {}
        self._ship_lock = threading.Lock()
        self._models: dict[str, object] = {}
        self.timings: list[tuple[str, float, float]] = []
        """Per remote job: (device, round trip seconds seen here, seconds inside the actor), for bench/lab_scaling.py."""

    def emit(self, event: Event) -> None:
        with self._emit_lock:
            self._emit(event)

    def run(self, plan: RunPlan, devices: Sequence[str], resume: bool = False) -> LabOutcome:
        """The plan on every device at once, each on the node that owns it; returns when all are done."""
        ray = connect(self.address)
        devices = tuple(dict.fromkeys(devices))
        owned = lab_devices(ray)
        missing = [d for d in devices if d not in owned]
        if missing:
            raise ConfigError(f"no node of the lab at {self.address} owns {', '.join(missing)} "
                              f"(it has {', '.join(sorted(owned)) or 'no devices'}; see `edge-bench lab status`)")
        clash = [d for d in devices if owned[d] > 1]
        if clash:
            raise ConfigError(f"{', '.join(clash)} is advertised by {owned[clash[0]]} nodes: name the devices of a lab uniquely")
        plans = {d: replace(plan, device=d) for d in devices}
        weights = ray.put(pack_weights(plan.weights)) if plan.weights else None  # read here once, one copy for every node
        actors = {d: self._actor(ray, plans[d], weights) for d in devices}
        described = self._describe(ray, actors)
        try:
            ids = {d: (info or {}).get("hardware") for d, (info, _) in described.items()}
            shared = shared_hardware(ids)
            if shared and not self.allow_shared_hardware:
                raise ConfigError(refusal(shared, ids))
            lab_id = (self._previous_lab(plans) if resume else None) or new_lab_id()
            self.emit(LabStarted(lab_id, devices, shared, resume))
            outcomes: dict[str, RunOutcome] = {}
            threads = [threading.Thread(target=self._device, name=f"lab-{d}", daemon=True,
                                        args=(ray, actors[d], plans[d], described[d], LabContext(lab_id, devices, shared.get(d, ())),
                                              resume, outcomes)) for d in devices]
            run_device_threads(threads, self.cancel)
        finally:
            for actor in actors.values():
                try:
                    ray.get(actor.close.remote(), timeout=30)  # closes the device's transport
                except ray.exceptions.RayError:
                    pass
                ray.kill(actor)  # frees the device's resource for the next run
        return finish_lab(self.emit, lab_id, devices, outcomes)

    def _actor(self, ray, plan: RunPlan, weights):
        remote = ray.remote(DeviceActor).options(resources={resource_name(plan.device): 1}, num_cpus=0, max_restarts=0,
                                                 name=f"device:{plan.device}:{uuid.uuid4().hex[:6]}")
        return remote.remote(plan, self.executor_factory, weights)  # a top-level ref: the actor gets the packs

    def _describe(self, ray, actors: dict) -> dict[str, tuple[dict | None, str | None]]:
        """Per device, what its actor says about it, or why it could not (the device did not answer, the node died)."""
        refs = {d: actor.describe.remote() for d, actor in actors.items()}
        out = {}
        for device, ref in refs.items():
            try:
                out[device] = (ray.get(ref), None)
            except ray.exceptions.RayError as exc:
                out[device] = (None, _ray_reason(exc))
        return out

    def _previous_lab(self, plans: dict[str, RunPlan]) -> str | None:
        found = [run for run in (self.store.latest_run(p.key()) for p in plans.values()) if run and run.lab_id]
        return max(found, key=lambda r: r.created).lab_id if found else None

    def _device(self, ray, actor, plan: RunPlan, described: tuple, lab: LabContext, resume: bool,
                outcomes: dict[str, RunOutcome]) -> None:
        """One device's run, driven from this host: its run row, then each job through its actor."""
        from edge_bench import __version__
        from edge_bench.store.db import now

        info, unreachable = described
        store = LabStore(self.store.path, lab)
        device = plan.device
        lock = None
        try:
            with store.plan_lock(plan.key()):  # two processes resuming this plan never pick and record into one run
                previous = store.latest_run(plan.key()) if resume else None
                run = previous or store.create_run(device, plan.key(), plan.as_dict(), __version__)
                lock = store.lock_run(run.id)  # a run live in another process: RunBusy
            done = {j.job_key for j in store.jobs(run_id=run.id) if j.status in ("ok", "skipped")} if previous else set()
            store.set_run_status(run.id, "running")
            jobs = info["jobs"] if info else expand(plan, list(plan.backends) or _all_backends(), {})
            todo = [j for j in jobs if j.key not in done]
            self.emit(RunStarted(run.id, device, tuple(jobs), bool(previous and done), tuple(sorted(done))))
            counts = {"ok": 0, "failed": 0, "skipped": 0, "done before": len(jobs) - len(todo), "cancelled": 0}
            lost = None if info else f"device {device} failed: {unreachable}"
            if lost:
                self.emit(DeviceFailed(run.id, device, lost))
            measured = []
            for index, job in enumerate(todo):
                if self.cancel.is_set():
                    counts["cancelled"] += len(todo) - index
                    break
                self.emit(JobStarted(run.id, job, index, len(todo)))
                started = now()
                if job.skip:
                    record = JobRecord(job=_identity(job, plan), status="skipped", failure=Failure(None, job.skip))
                elif lost:
                    record = JobRecord(job=_identity(job, plan), status="failed", failure=Failure("connection", lost))
                else:
                    record, lost, job_id = self._remote_job(ray, actor, run.id, job, plan, info)
                    if record.ok and plan.repeat > 1:
                        record = first_repeat(record)
                row = store.add_job(run.id, record, started=started)
                counts[record.status] = counts.get(record.status, 0) + 1
                self.emit(JobFinished(run.id, job, record.status, record.reason, job_row_id=row.id))
                if record.ok and plan.repeat > 1:
                    measured.append((job, row.id, record, job_id))
            self._repeats(ray, actor, store, run.id, plan, measured)
            status = "cancelled" if counts["cancelled"] else ("partial" if counts["failed"] else "complete")
            if counts["failed"] and not counts["ok"] and not counts["done before"]:
                status = "failed"
            store.set_run_status(run.id, status)
            self.emit(RunFinished(run.id, status, counts))
            outcomes[device] = RunOutcome(run.id, status, counts)
        except RunBusy as exc:
            outcomes[device] = busy_outcome(self.emit, device, exc)
        finally:
            if lock is not None:
                lock.release()
            store.close()

    def _repeats(self, ray, actor, store: LabStore, run_id: str, plan: RunPlan, measured: list) -> None:
        """Rounds 2..N of --repeat through the device's actor, interleaved across its jobs as on one host
        (`Runner._repeats`); each stored record gains the round's latency. A lost node ends the repeats: each
        job keeps what it measured, with a note."""
        records = {row_id: record for _, row_id, record, _ in measured}
        for round_no in range(2, plan.repeat + 1):
            for index, (job, row_id, _, job_id) in enumerate(measured):
                if self.cancel.is_set():
                    return
                self.emit(JobStage(run_id, job, f"repeat {round_no}/{plan.repeat}", "on the device"))
                try:
                    records[row_id] = ray.get(actor.repeat.remote(job, job_id, records[row_id], round_no))
                except ray.exceptions.RayError as exc:
                    note = f"repeat {round_no} failed: the lab node of {plan.device} was lost: {_ray_reason(exc)}"
                    for _, row, _, _ in measured[index:]:  # the jobs this round had not reached yet
                        towers = {t: replace(r, notes=r.notes + (note,)) for t, r in records[row].towers.items()}
                        store.update_record(row, replace(records[row], towers=towers))
                    return
                store.update_record(row_id, records[row_id])

    def _remote_job(self, ray, actor, run_id: str, job: PlannedJob, plan: RunPlan,
                    info: dict) -> tuple[JobRecord, str | None, str]:
        """One job through the device's actor: (its record, why the device is lost or None, its job id)."""
        job_id = f"{run_id}-{uuid.uuid4().hex[:6]}"
        try:
            shipped = None if info["provides_artifacts"] else self._ship(ray, actor, job, plan, run_id)
            self.emit(JobStage(run_id, job, "remote", f"on {info['node']}"))
            sent = time.perf_counter()
            record, embeddings, inside = ray.get(actor.run.remote(job, job_id, shipped))
            self.timings.append((plan.device, time.perf_counter() - sent, inside))
        except ray.exceptions.RayError as exc:
            lost = f"the lab node of {plan.device} was lost: {_ray_reason(exc)}"
            return JobRecord(job=_identity(job, plan), status="failed", failure=Failure("connection", lost)), lost, job_id
        except EdgeBenchError as exc:  # the conversion on this host failed: this job only
            return (JobRecord(job=_identity(job, plan), status="failed", failure=Failure("convert", exc.one_line())),
                    None, job_id)
        except Exception as exc:  # a bug must not leave the device's run unrecorded: this job fails with it
            return (JobRecord(job=_identity(job, plan), status="failed", failure=Failure(None, f"{type(exc).__name__}: {exc}")),
                    None, job_id)
        if embeddings:
            record = replace(record, embeddings=save_embeddings(default_local_root() / job_id / "embeddings", **embeddings))
        return record, None, job_id

    def _ship(self, ray, actor, job: PlannedJob, plan: RunPlan, run_id: str):
        """The job's artifact set for this actor: converted here once per key, put in the object store once,
        sent to each actor the first time it needs it (None afterwards: the actor keeps it)."""
        key = (job.model, job.backend, job.precision)
        with self._ship_lock:
            entry = self._shipped.get(key)
            if entry is None:
                self.emit(JobStage(run_id, job, "convert", f"{job.backend} {job.precision} on this host"))
                entry = self._shipped[key] = {"ref": ray.put(pack(self._convert(job, plan).dir)), "sent": set()}
            first = id(actor) not in entry["sent"]
            entry["sent"].add(id(actor))
        return entry["ref"] if first else None

    def _convert(self, job: PlannedJob, plan: RunPlan):
        """What DeviceRun.artifacts converts, on this host: the same model, calibration inputs and batch sizes."""
        from edge_bench.converters import convert
        from edge_bench.data.calibration import calibration_set
        from edge_bench.models import create_model

        if job.model not in self._models:
            self._models[job.model] = create_model(job.model, plan.weights.get(job.model))
        calibration, _ = calibration_set(plan.dataset, plan.data_dir, scored_images=plan.n_images)
        sizes = (1,) if plan.gallery_batch == 1 else (1, plan.gallery_batch)
        return convert(self._models[job.model], job.backend, job.precision, batch_sizes=sizes, dataset=calibration)


def _all_backends() -> list[str]:
    from edge_bench.converters import list_backends

    return list_backends()


def _ray_reason(exc: Exception) -> str:
    """A Ray error as one short line (its own messages run over many)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    cause = next((line for line in lines if "Error:" in line and "Traceback" not in line), lines[0] if lines else type(exc).__name__)
    return f"{type(exc).__name__}: {cause[:240]}"
