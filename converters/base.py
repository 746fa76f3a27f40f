"""The converter protocol and the backend registry.

A backend is one small class: capability flags as class attributes (name,
file suffix, precisions offered, where its artifacts run) and three stages,
`convert` (tower -> file), `inspect` (file -> input/output specs, op list) and
`load` (file -> a host runner). Adding a backend is adding one module that
calls `register_converter`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import platform
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar

import numpy as np

from edge_bench.errors import BackendUnavailable, ConfigError

PRECISIONS = ("fp32", "fp16", "int8-dynamic", "int8")
"""Every precision name a backend may offer."""

Runner = Callable[[np.ndarray], np.ndarray]
"""A host runner: one static-shape batch in (numpy), embeddings out (float32 numpy)."""


@dataclass
class TowerJob:
    """What a converter needs to turn one tower into one artifact file."""

    tower: str
    """'image' or 'text'."""
    module: "torch.nn.Module"  # noqa: F821  (torch is imported lazily; the name is for readers and type checkers)
    """The eager tower, in eval mode."""
    example: np.ndarray
    """A real input batch of the artifact's static shape (float32 pixels or int32 tokens)."""
    calibration: list[np.ndarray] = field(default_factory=list)
    """Real input batches of the same shape, for static quantization."""
    precision: str = "fp32"
    """One of PRECISIONS."""

    @property
    def batch(self) -> int:
        return int(self.example.shape[0])


@dataclass(frozen=True)
class KeptFloat:
    """A part of the model that a quantized precision leaves in float, and why (shown beside a profile)."""

    what: str
    """The part, in words ('the residual stream: residual and positional adds, the token concat, the stem conv')."""
    blocks: tuple[str, ...]
    """The profile's blocks it runs in (edge_bench.profile.model.BLOCKS)."""
    why: str
    """What quantizing it cost, or why it cannot be."""


class Converter:
    """One edge backend: converts towers, inspects artifacts, runs them on the host."""

    name: ClassVar[str] = ""
    """Registry name, as used on the command line."""
    suffix: ClassVar[str] = ""
    """File suffix of an artifact ('.pte', '.mlpackage', '.tflite')."""
    precisions: ClassVar[tuple[str, ...]] = ()
    """Precisions this backend offers, in the order `--precision all` converts them."""
    requires: ClassVar[tuple[str, ...]] = ()
    """Python modules the converter needs (its extra)."""
    extra: ClassVar[str] = ""
    """The pip extra that installs them."""
    runs_on: ClassVar[tuple[str, ...]] = ()
    """Where its artifacts run: 'linux', 'android', 'macos', 'ios'."""
    settings_version: ClassVar[int] = 1
    """Bumped when conversion settings change, so cached artifacts are rebuilt."""
    schemes: ClassVar[dict[str, str]] = {}
    """What each precision means for this backend (recorded in the manifest)."""
    kept_float: ClassVar[dict[str, tuple[KeptFloat, ...]]] = {}
    """Per quantized precision, the parts its recipe leaves in float and why."""
    sidecars: ClassVar[tuple[str, ...]] = ()
    """Suffixes of files `convert` writes beside the artifact (same stem), moved and removed with it."""

    def missing(self) -> str | None:
        """The first required module that is not installed here, or None (found, not imported)."""
        for module in self.requires:
            try:
                found = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):  # a parent package that is absent or broken
                found = False
            if not found:
                return module
        return None

    def ensure_available(self) -> None:
        """Raise BackendUnavailable when the backend's extra is not installed."""
        module = self.missing()
        if module is not None:
            raise BackendUnavailable(
                f"backend {self.name!r} needs the Python package {module!r}, which is not installed",
                hint=f"pip install 'edge-bench[{self.extra or self.name}]'",
            )

    def can_run_here(self) -> bool:
        """Whether this machine can run the artifacts (for parity and host recall)."""
        system = {"Linux": "linux", "Darwin": "macos"}.get(platform.system(), "")
        return system in self.runs_on

    def versions(self) -> dict[str, str]:
        """Versions of the tools that produce and run this backend's artifacts."""
        return {}

    def convert(self, job: TowerJob, path: Path) -> dict:
        """Write the artifact of one tower at one batch size; return its delegation summary."""
        raise NotImplementedError

    def inspect(self, path: Path) -> dict:
        """{'inputs': [...], 'outputs': [...], 'ops': {op: count}} read from the artifact."""
        raise NotImplementedError

    def load(self, path: Path, threads: int | None = 1) -> Runner:
        """A host runner for the artifact (BackendUnavailable where it cannot run).

        `threads` None keeps the runtime's current setting (ExecuTorch's pool is
        process-wide; parity checks use None so they never resize it)."""
        raise NotImplementedError

    def check_spec(self, inspected: dict, job: TowerJob, embed_dim: int) -> list[str]:
        """What is wrong with an artifact's interface: one static input of the job's
        shape and dtype, one float32 (batch, embed_dim) output. Empty when all is well."""
        problems = []
        want_in = [io_spec("", job.example.shape, job.example.dtype)]
        want_out = [io_spec("", (job.batch, embed_dim), np.float32)]
        for kind, want in (("inputs", want_in), ("outputs", want_out)):
            got = [{k: v for k, v in spec.items() if k != "name"} for spec in inspected[kind]]
            if got != [{k: v for k, v in spec.items() if k != "name"} for spec in want]:
                problems.append(f"{kind} {got} (expected {want[0]['shape']} {want[0]['dtype']})")
        return problems


_REGISTRY: dict[str, type[Converter]] = {}
_LOADED = False


BUILTIN_BACKENDS = ("edge_bench.converters.executorch_backend", "edge_bench.converters.coreml_backend",
                    "edge_bench.converters.tflite_backend")
"""Backend modules that register the built-in converters (in the order `--backend all` converts);
they come in through the same door as plugins."""
PLUGIN_GROUP = "edge_bench.backends"
"""Entry-point group of third-party backends: each names a module that calls `register_converter` on import."""


def register_converter(cls: type[Converter]) -> type[Converter]:
    """Class decorator: add a backend to the registry under `cls.name` (a second one wins, with a warning)."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        warnings.warn(f"backend {cls.name!r} registered twice; the last one wins", stacklevel=2)
    _REGISTRY[cls.name] = cls
    return cls


_LOAD_LOCK = threading.RLock()
"""Threads (a lab run's devices) wait for the first one to fill the registry instead of seeing it half-filled."""


def _load_backends() -> None:
    global _LOADED
    with _LOAD_LOCK:
        if not _LOADED:
            _LOADED = True
            # Each backend module registers itself on import; none imports its toolchain here.
            # Import order is the order `--backend all` converts in.
            for name in BUILTIN_BACKENDS:
                importlib.import_module(name)
            for entry in importlib.metadata.entry_points(group=PLUGIN_GROUP):
                entry.load()


def list_backends() -> list[str]:
    """Registered backend names, in registration order."""
    _load_backends()
    return list(_REGISTRY)


def get_converter(name: str) -> Converter:
    """A fresh converter of a backend; an unknown name is a ConfigError."""
    _load_backends()
    cls = _REGISTRY.get(name)
    if cls is None:
        raise ConfigError(f"unknown backend {name!r}", hint=f"use one of {', '.join(_REGISTRY)} or all")
    return cls()


def check_precision(name: str) -> None:
    """An unknown precision name is a ConfigError."""
    if name not in PRECISIONS:
        raise ConfigError(f"unknown precision {name!r}", hint=f"use one of {', '.join(PRECISIONS)} or all")


def io_spec(name: str, shape, dtype) -> dict:
    """One input or output as the manifest records it."""
    return {"name": str(name), "shape": [int(s) for s in shape], "dtype": str(np.dtype(dtype))}
