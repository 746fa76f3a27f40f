"""Retrieval metrics.

The names load on first use and this module imports none of its submodules: an
__init__ that imported `recall` would deadlock a thread importing
`edge_bench.metrics.recall` by its full name (holding its lock, then importing this
package) against one importing this package (holding its lock, then waiting for
`recall`'s). tests/test_import_threads.py imports the two from two threads at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge_bench.metrics.recall import DEFAULT_KS, RecallResult, chance_recall, recall_with_ties, retrieval_recall

__all__ = ["DEFAULT_KS", "RecallResult", "chance_recall", "recall_with_ties", "retrieval_recall"]
_LAZY = dict.fromkeys(__all__, "recall")


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (the package is fully imported by then: no lock is held)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
