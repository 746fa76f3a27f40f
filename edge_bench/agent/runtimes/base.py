"""Runtimes behind one small interface, and a registry with a preference order per backend.

A `Runtime` is set up once per process (threads are set *before* any artifact
is loaded: ExecuTorch's thread pool cannot be resized after) and loads
artifacts into `Model`s. A `Model` splits one inference into `set_inputs`
(outside the timed region), `invoke` (the timed region, ideally the
runtime's own bound method so the agent adds no call of its own) and
`outputs` (outside the timed region). Heavy imports happen in `__init__`;
a runtime that is not installed raises `RuntimeMissing`.

Adding a runtime is adding a class with `@register`.
"""

from __future__ import annotations

import importlib
import sys
from typing import Callable, ClassVar

import numpy as np

from ..errors import AgentError

_DTYPES = {
    0: "uint8", 1: "int8", 2: "int16", 3: "int32", 4: "int64", 5: "float16", 6: "float32", 7: "float64", 11: "bool",
}
"""ExecuTorch ScalarType codes to numpy dtype names."""


def scalar_type_name(code: int) -> str:
    """A numpy dtype name for an ExecuTorch ScalarType code (e.g. 6 -> 'float32')."""
    return _DTYPES.get(int(code), f"scalar_type_{code}")


class RuntimeMissing(Exception):
    """The runtime's module cannot be imported or cannot run on this platform."""


class Model:
    """One loaded artifact: set inputs, invoke (timed), read outputs."""

    input_specs: list[tuple[tuple[int, ...], str]]
    """(shape, numpy dtype name) per input, as the artifact declares them."""
    invoke: Callable[[], object]
    """Run one inference on the inputs set last (the timed region)."""

    def set_inputs(self, arrays: list[np.ndarray]) -> None:
        """Hand the inputs to the runtime (outside the timed region)."""
        raise NotImplementedError

    def outputs(self) -> list[np.ndarray]:
        """The outputs of the last `invoke`, as numpy arrays."""
        raise NotImplementedError


class Runtime:
    """A runtime for one backend: imported and configured in `__init__`."""

    name: ClassVar[str] = ""
    """Registry name, e.g. 'executorch-pybind'."""
    backend: ClassVar[str] = ""
    """The backend it runs: 'executorch', 'tflite' or 'coreml'."""
    module: ClassVar[str] = ""
    """The Python module it drives (recorded with the result)."""
    distribution: ClassVar[str] = ""
    """Its pip distribution (for the version)."""
    priority: ClassVar[int] = 0
    """Lower is tried first among a backend's runtimes."""
    needs_macos: ClassVar[bool] = False
    """Runs only on macOS (Core ML)."""
    sets_threads: ClassVar[bool] = True
    """The thread count can be set; otherwise the runtime picks it and `threads_applied` is None."""
    timed_region: ClassVar[str] = ""
    """What `invoke` covers, in words (recorded with the result)."""

    def __init__(self, threads: int, options: dict) -> None:
        self.threads = threads
        self.options = options

    def load(self, path: str) -> Model:
        """Load and prepare an artifact (the load time covers this call)."""
        raise NotImplementedError

    def profile(self, path: str, inputs: list[np.ndarray], runs: int, out_dir) -> dict:
        """A profiling pass over `runs` inferences, its files written to `out_dir`: the result's "profile" block.

        {"status": "ok", "source": ..., "runs": n, "file": name, ...}, or {"status": "unsupported", "reason": ...}.
        """
        return {"status": "unsupported", "reason": f"{self.name} has no per-operator profiler"}

    def threads_applied(self) -> int | None:
        """The thread count in effect, as the runtime reports it (None when it cannot tell)."""
        return self.threads if self.sets_threads else None

    def version(self) -> str:
        """The installed version of the runtime's distribution."""
        from importlib import metadata

        try:
            return metadata.version(self.distribution)
        except metadata.PackageNotFoundError:
            return str(getattr(sys.modules.get(self.module.split(".")[0]), "__version__", "unknown"))

    def describe(self) -> dict:
        """The runtime block of the result."""
        return {
            "backend": self.backend, "name": self.name, "module": self.module, "version": self.version(),
            "threads_applied": self.threads_applied(), "timed_region": self.timed_region,
        }


RUNTIMES: dict[str, type[Runtime]] = {}


def register(cls: type[Runtime]) -> type[Runtime]:
    """Class decorator: add a runtime to the registry under its `name`."""
    RUNTIMES[cls.name] = cls
    return cls


def candidates(backend: str) -> list[type[Runtime]]:
    """A backend's runtimes in preference order."""
    _load_all()
    return sorted((r for r in RUNTIMES.values() if r.backend == backend), key=lambda r: r.priority)


def open_runtime(backend: str, threads: int, options: dict, force: str = "") -> Runtime:
    """The first runtime of the backend that imports here (or the one named by `force`).

    Nothing found is an AgentError in the "load" phase naming every module tried and why.
    """
    found = candidates(backend)
    if force:
        found = [r for r in found if r.name == force]
        if not found:
            names = ", ".join(r.name for r in candidates(backend)) or "none"
            raise AgentError("load", f"runtime {force!r} is not a {backend} runtime (known: {names})")
    if not found:
        backends = sorted({r.backend for r in RUNTIMES.values()})
        raise AgentError("load", f"unknown backend {backend!r} (known: {', '.join(backends)})")
    tried = []
    for cls in found:
        if cls.needs_macos and sys.platform != "darwin":
            tried.append(f"{cls.module} (runs only on macOS)")
            continue
        try:
            return cls(threads, options)
        except RuntimeMissing as exc:
            tried.append(f"{cls.module} ({exc})")
    raise AgentError("load", f"no {backend} runtime on this device: tried {'; '.join(tried)}")


def missing(module: str, exc: BaseException) -> RuntimeMissing:
    """A RuntimeMissing for a failed import, in one line."""
    text = " ".join(str(exc).split())
    return RuntimeMissing(f"cannot import {module}: {type(exc).__name__}: {text}")


BUILTIN = ("coreml_rt", "executorch_rt", "litert_rt")
"""Modules of this package that register the runtimes (each on import)."""


def _load_all() -> None:
    for name in BUILTIN:
        importlib.import_module(f".{name}", __package__)
