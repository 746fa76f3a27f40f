"""One plan on one device: the open transport, its executor, the models, and running one job end to end."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from edge_bench import paths
from edge_bench.devices import CommandTimeout, ConnectionFailed, load_profile, open_transport
from edge_bench.executors.base import Executor
from edge_bench.executors.choose import executor_for
from edge_bench.runner.plan import PlannedJob, RunPlan

RUNTIME_MODULES = {
    "executorch": ("executorch", "executorch_numpy_runtime"),
    "tflite": ("ai_edge_litert", "tflite_runtime"),
    "coreml": ("coremltools",),
}
CONNECTION_ERRORS = (ConnectionFailed, CommandTimeout)
"""Images for static-int8 calibration and conversion parity."""
Stage = Callable[..., None]
ExecutorFactory = Callable[..., Executor]
"""(profile, transport, local_root) -> the executor of a device."""


def default_local_root() -> Path:
    """Where the runner keeps its per-job working files on the host."""
    return paths.cache_dir() / "runs"


class DeviceRun:
    """Everything a run keeps open on one device."""

    def __init__(self, plan: RunPlan, profile, transport, info: dict, cancel: threading.Event | None = None,
                 executor_factory: ExecutorFactory | None = None) -> None:
        from edge_bench.data import load_dataset

        self.plan, self.profile, self.transport, self.info = plan, profile, transport, info
        self.cancel = cancel or threading.Event()
        """Set by the user to stop the run; a running tower is stopped too."""
        self.dataset = load_dataset(plan.dataset, "test", data_dir=plan.data_dir, n_images=plan.n_images)
        self._calibration = None
        self.calibration_source = ""
        """Which split calibrated and checked the artifacts: val, train or a held-out part of test."""
        self._models: dict = {}
        self._artifacts: dict = {}
        self.ceilings: dict[str, dict] = {}
        """'backend/precision' -> the measured compute ceiling (edge_bench.runner.ceiling), once per run."""
        self.local_root = default_local_root()
        self.executor: Executor = (executor_factory or executor_for)(profile, transport, self.local_root)

    @classmethod
    @contextmanager
    def open(cls, plan: RunPlan, cancel: threading.Event | None = None,
             executor_factory: ExecutorFactory | None = None) -> Iterator["DeviceRun"]:
        """Load the profile, reach the device, read its fingerprint once; close it afterwards."""
        profile = load_profile(plan.device)
        transport = open_transport(profile)
        try:
            transport.check()
            transport.lock()  # no other edge-bench process runs on this device until close (DeviceBusy names it)
            info = transport.info()
            yield cls(plan, profile, transport, info, cancel, executor_factory)
        finally:
            transport.close()

    @property
    def remote(self) -> bool:
        return bool(getattr(self.transport, "remote", True))

    def runtime_gaps(self) -> dict[str, str]:
        """Backends this device or this host cannot do, with the reason."""
        from edge_bench.converters import get_converter

        if self.executor.provides_artifacts:
            return {}
        gaps = {}
        found = self.info.get("runtimes") or {}
        checks_runtimes = self.executor.returns_embeddings  # native runners are named in the profile instead
        for backend, modules in RUNTIME_MODULES.items():
            try:
                missing = get_converter(backend).missing()
            except Exception:  # an unknown backend is reported by expand()
                continue
            if missing:
                gaps[backend] = f"this host cannot convert to {backend}: Python package {missing!r} is not installed"
            elif checks_runtimes and not any(found.get(m) for m in modules):
                gaps[backend] = f"no {backend} runtime on {self.profile.name} (looked for {', '.join(modules)})"
            elif backend == "coreml" and checks_runtimes and self.info.get("system") != "Darwin":
                gaps[backend] = f"Core ML runs only on macOS/iOS; {self.profile.name} runs {self.info.get('system')}"
        return gaps

    def model(self, name: str):
        """A zoo model, built once per run."""
        if name not in self._models:
            from edge_bench.models import create_model

            self._models[name] = create_model(name, self.plan.weights.get(name))
        return self._models[name]

    def calibration(self):
        """Real samples for calibration and parity: `val`, else `train`, else a held-out, unscored part of `test`."""
        if self._calibration is None:
            from edge_bench.data.calibration import calibration_set

            self._calibration, self.calibration_source = calibration_set(
                self.plan.dataset, self.plan.data_dir, scored_images=self.plan.n_images)
        return self._calibration

    def measure_ceilings(self, jobs: list[PlannedJob]) -> None:
        """The compute ceilings of the backends and precisions the jobs run, into the fingerprint of this run."""
        from edge_bench.runner.ceiling import device_ceilings

        if self.executor.provides_artifacts or not self.plan.ceilings:
            return
        pairs = sorted({(j.backend, j.precision) for j in jobs if not j.skip})
        self.ceilings = device_ceilings(self, pairs)
        self.info = {**self.info, "ceilings": self.ceilings}

    def batch_sizes(self) -> tuple[int, ...]:
        return (1,) if self.plan.gallery_batch == 1 else (1, self.plan.gallery_batch)

    def artifacts(self, model, job: PlannedJob):
        """The job's artifact set: converted (cached) on this host, or the scripted executor's stand-ins; once per run."""
        key = (job.model, job.backend, job.precision)
        if key not in self._artifacts:
            if self.executor.provides_artifacts:
                folder = self.local_root / "scripted-artifacts" / f"{job.model}-{job.backend}-{job.precision}"
                self._artifacts[key] = self.executor.artifacts(model, job.backend, job.precision, folder, self.batch_sizes())
            else:
                from edge_bench.converters import convert

                self._artifacts[key] = convert(model, job.backend, job.precision, batch_sizes=self.batch_sizes(),
                                               dataset=self.calibration())
        return self._artifacts[key]


def save_embeddings(folder: Path, **arrays: np.ndarray) -> dict[str, str]:
    """Write embeddings as .npy files; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, array in arrays.items():
        path = folder / f"{name}.npy"
        np.save(path, array)
        out[name] = str(path)
    return out
