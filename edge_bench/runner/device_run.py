"""One plan on one device: the open transport, the models, and running one job end to end."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from edge_bench.runner.plan import PlannedJob, RunPlan
from edge_bench.devices import CommandTimeout, ConnectionFailed, load_profile, open_transport

RUNTIME_MODULES = {
    "executorch": ("executorch", "executorch_numpy_runtime"),
    "tflite": ("ai_edge_litert", "tflite_runtime"),
    "coreml": ("coremltools",),
}
Stage = Callable[..., None]


class DeviceRun:
    """Everything a run keeps open on one device."""

    def __init__(self, plan: RunPlan, profile, transport, info: dict, cancel=None) -> None:
        from edge_bench.runner.loop import default_local_root
        from edge_bench.executors.session import DeviceSession
        from edge_bench.data import load_dataset

        import threading

        self.plan, self.profile, self.transport, self.info = plan, profile, transport, info
        self.cancel = cancel or threading.Event()
        """Set by the user to stop the run; a running agent is stopped too."""
        self.dataset = load_dataset(plan.dataset, "test", data_dir=plan.data_dir, n_images=plan.n_images)
        self._calibration = None
        self._models: dict = {}
        self.local_root = default_local_root()
        self.session = DeviceSession(transport, self.local_root)

    @classmethod
    @contextmanager
    def open(cls, plan: RunPlan, cancel=None) -> Iterator["DeviceRun"]:
        """Load the profile, reach the device, read its fingerprint; close it afterwards."""
        profile = load_profile(plan.device)
        transport = open_transport(profile)
        try:
            transport.check()
            info = transport.info()
            yield cls(plan, profile, transport, info, cancel)
        finally:
            transport.close()

    @property
    def remote(self) -> bool:
        return bool(getattr(self.transport, "remote", True))

    @property
    def android(self) -> bool:
        return self.profile.transport == "adb"

    def runtime_gaps(self) -> dict[str, str]:
        """Backends this device or this host cannot do, with the reason."""
        from edge_bench.converters import get_converter

        gaps = {}
        found = self.info.get("runtimes") or {}
        for backend, modules in RUNTIME_MODULES.items():
            try:
                missing = get_converter(backend).missing()
            except Exception:  # an unknown backend is reported by expand()
                continue
            if missing:
                gaps[backend] = f"this host cannot convert to {backend}: Python package {missing!r} is not installed"
            elif not self.android and not any(found.get(m) for m in modules):
                gaps[backend] = f"no {backend} runtime on {self.profile.name} (looked for {', '.join(modules)})"
            elif backend == "coreml" and not self.android and self.info.get("system") != "Darwin":
                gaps[backend] = f"Core ML runs only on macOS/iOS; {self.profile.name} runs {self.info.get('system')}"
        return gaps

    def model(self, name: str):
        """A zoo model, built once per run."""
        if name not in self._models:
            from edge_bench.models import create_model

            self._models[name] = create_model(name, self.plan.weights.get(name))
        return self._models[name]

    def calibration(self):
        """Real samples for calibration and parity: the first images of the validation split."""
        if self._calibration is None:
            from edge_bench.data import load_dataset

            self._calibration = load_dataset(self.plan.dataset, "val", data_dir=self.plan.data_dir, n_images=32)
        return self._calibration

    def run_job(self, job: PlannedJob, job_id: str, stage: Stage) -> dict:
        """Convert, push, run both towers, and build the record of one job."""
        from edge_bench.runner.job_run import run_job

        return run_job(self, job, job_id, stage)


CONNECTION_ERRORS = (ConnectionFailed, CommandTimeout)


def save_embeddings(folder: Path, **arrays: np.ndarray) -> dict[str, str]:
    """Write embeddings as .npy files; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, array in arrays.items():
        path = folder / f"{name}.npy"
        np.save(path, array)
        out[name] = str(path)
    return out
