"""The student zoo: CLIP models as separate, export-ready image and text towers.

The names load on first use and this module imports none of its submodules. An
__init__ that imported them would deadlock two threads under the import locks:
importing `edge_bench.models.registry` by its full name takes that module's lock and
then imports this package, while another thread importing this package holds the
package's lock and waits for `registry`'s (Python raises _DeadlockError). The TUI's,
the lab's and the runner's workers import these from threads;
tests/test_import_threads.py imports the two from two threads at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge_bench.models.base import ClipModel, ModelSpec, Preprocess, Tokenizer, WeightsInfo
    from edge_bench.models.registry import create_model, get_spec, list_models, register_model

__all__ = [
    "ClipModel",
    "ModelSpec",
    "Preprocess",
    "Tokenizer",
    "WeightsInfo",
    "create_model",
    "get_spec",
    "list_models",
    "register_model",
]
_LAZY = {
    **dict.fromkeys(("ClipModel", "ModelSpec", "Preprocess", "Tokenizer", "WeightsInfo"), "base"),
    **dict.fromkeys(("create_model", "get_spec", "list_models", "register_model"), "registry"),
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (the package is fully imported by then: no lock is held)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
