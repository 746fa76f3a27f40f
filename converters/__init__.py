"""Converters: one module per backend behind one protocol and a registry.

    convert(model, backend, precision, out_root=None, batch_sizes=(1, 8), dataset=None, progress=None) -> ArtifactSet
    list_backends() / get_converter(name)
    load_artifact(path, backend, threads=1) -> numpy-in/numpy-out runner
    host_embed(artifact_set, dataset, threads=1) -> (image embeddings, caption embeddings)

Backends: ExecuTorch `.pte` (XNNPACK), Core ML `.mlpackage`, TFLite `.tflite`.
Nothing here imports a toolchain until a conversion or a runner needs it.

The names load on first use and this module imports none of its submodules. An
__init__ that imported them would deadlock two threads under the import locks:
importing `edge_bench.converters.artifact` by its full name (the TUI's converted-sets
worker) takes that module's lock and then imports this package, while another
thread importing this package (the Plan screen's loader) holds the package's lock
and waits for `artifact`'s (Python raises _DeadlockError). tests/test_import_threads.py
imports the two from two threads at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge_bench.converters.artifact import ArtifactSet
    from edge_bench.converters.base import PRECISIONS, Converter, TowerJob, get_converter, list_backends, register_converter
    from edge_bench.converters.host import host_embed, load_artifact
    from edge_bench.converters.parity import THRESHOLDS
    from edge_bench.converters.pipeline import convert
    from edge_bench.converters.plan import ConvertPlan, plan_conversions

__all__ = [
    "PRECISIONS",
    "THRESHOLDS",
    "ArtifactSet",
    "ConvertPlan",
    "Converter",
    "TowerJob",
    "convert",
    "get_converter",
    "host_embed",
    "list_backends",
    "load_artifact",
    "plan_conversions",
    "register_converter",
]
_LAZY = {
    "ArtifactSet": "artifact",
    **dict.fromkeys(("PRECISIONS", "Converter", "TowerJob", "get_converter", "list_backends", "register_converter"), "base"),
    "host_embed": "host", "load_artifact": "host",
    "THRESHOLDS": "parity",
    "convert": "pipeline",
    "ConvertPlan": "plan", "plan_conversions": "plan",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (the package is fully imported by then: no lock is held)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
