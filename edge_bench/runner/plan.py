"""Run plans: models x backends x precisions on one device, as typed data.

A plan expands into jobs; each job has a stable key (its identity across
runs, for --resume) and, where it cannot run, the reason it is skipped.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from edge_bench.agent.spec import Protocol

DEFAULT_MODELS = ("edgeclip-teacher", "edgeclip-m-distilled", "edgeclip-m-scratch", "edgeclip-s-distilled", "edgeclip-s-scratch")
"""The built-in zoo: the teacher, and two student sizes distilled and from scratch."""
DEFAULT_PRECISIONS = ("fp32",)


@dataclass(frozen=True)
class RunPlan:
    """What to run on a device."""

    device: str = "local"
    """Device profile name."""
    models: tuple[str, ...] = DEFAULT_MODELS
    """Zoo entries to benchmark."""
    backends: tuple[str, ...] = ()
    """Backends; () = every backend the device runs."""
    precisions: tuple[str, ...] = DEFAULT_PRECISIONS
    """Precisions; 'all' expands to every precision each backend offers."""
    dataset: str = "synthetic"
    """synthetic, flickr30k or mscoco (the test split)."""
    data_dir: str | None = None
    """Folder of the Karpathy JSON and images (flickr30k, mscoco)."""
    n_images: int | None = None
    """Only the first N test images (and their captions); None = the whole split."""
    weights: dict[str, str] = field(default_factory=dict)
    """Per-model weights files (model name -> path)."""
    gallery_batch: int = 8
    """Static batch size of the gallery artifacts (throughput and encoding)."""
    threads: int | None = None
    """Inference threads; None = the device profile's."""
    protocol: Protocol = field(default_factory=Protocol)
    """Warm-up and timed-run gates."""
    repeat: int = 1
    """Timed loops of each tower in this many fresh processes, interleaved across jobs (replicability, intervals)."""
    cooldown_seconds: float = 0.0
    """Idle time before each repeat's tower (0 = none)."""
    cooldown_temp_c: float | None = None
    """Before each repeat's tower, wait until the hottest thermal zone is below this (None = no gate)."""
    cooldown_max_seconds: float = 600.0
    """The longest the temperature gate waits."""
    ceilings: bool = True
    """Measure the device's compute ceiling per backend and precision (cached per device) before the jobs."""
    profile: int = 0
    """Inferences of a per-operator profiling pass after each tower's timed loops (--profile); 0 = none."""

    def as_dict(self) -> dict:
        """A JSON-ready copy."""
        return asdict(self)

    def key_dict(self) -> dict:
        """The settings that identify the plan: newer settings left at their defaults are left out,
        so a plan keeps the key it had before they existed (and --resume still finds its runs)."""
        data = self.as_dict()
        for name, default in NEWER_DEFAULTS.items():
            if data.get(name) == default:
                data.pop(name)
        return data

    def key(self) -> str:
        """Identity of the plan (what --resume matches)."""
        return hashlib.sha256(json.dumps(self.key_dict(), sort_keys=True).encode()).hexdigest()[:16]


NEWER_DEFAULTS = {"repeat": 1, "cooldown_seconds": 0.0, "cooldown_temp_c": None, "cooldown_max_seconds": 600.0,
                  "ceilings": True, "profile": 0}
"""RunPlan fields added after plans were first stored, with their defaults."""


@dataclass(frozen=True)
class PlannedJob:
    """One model x backend x precision of a plan."""

    model: str
    backend: str
    precision: str
    key: str
    skip: str | None = None
    """Why it will not run, or None."""

    @property
    def label(self) -> str:
        return f"{self.model} {self.backend} {self.precision}"


def job_key(plan: RunPlan, model: str, backend: str, precision: str) -> str:
    """A job's identity: plan settings that change its measurements, plus its own axes."""
    settings = plan.key_dict()
    for axis in ("models", "backends", "precisions"):
        settings.pop(axis)
    settings["weights"] = plan.weights.get(model)
    payload = json.dumps({"settings": settings, "model": model, "backend": backend, "precision": precision}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def expand(plan: RunPlan, device_backends: list[str], runtime_gaps: dict[str, str]) -> list[PlannedJob]:
    """Every job of a plan; jobs the device cannot run carry the reason.

    `device_backends` are the backends the profile lists; `runtime_gaps` maps a
    backend to why the device cannot run it (from its fingerprint).
    """
    from edge_bench.converters import get_converter
    from edge_bench.converters.base import check_precision

    for precision in plan.precisions:
        if precision != "all":
            check_precision(precision)
    backends = list(plan.backends) or list(device_backends)
    jobs = []
    for model in plan.models:
        for backend in backends:
            converter = get_converter(backend)
            precisions = list(converter.precisions) if "all" in plan.precisions else list(plan.precisions)
            for precision in precisions:
                key = job_key(plan, model, backend, precision)
                skip = None
                if backend not in device_backends:
                    skip = f"the device profile does not list {backend} (it runs {', '.join(device_backends) or 'none'})"
                elif precision not in converter.precisions:
                    skip = f"{backend} offers {', '.join(converter.precisions)}, not {precision}"
                elif backend in runtime_gaps:
                    skip = runtime_gaps[backend]
                jobs.append(PlannedJob(model, backend, precision, key, skip))
    return jobs
