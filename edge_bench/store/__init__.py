"""The SQLite results store: runs, jobs, records with raw samples and provenance.

The names load on first use and this module imports none of its submodules: an
__init__ that imported `db` would deadlock a thread importing `edge_bench.store.db`
by its full name (holding its lock, then importing this package) against one
importing this package (holding its lock, then waiting for `db`'s).
tests/test_import_threads.py imports the two from two threads at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge_bench.store.db import JobRow, RunRow, Store

__all__ = ["JobRow", "RunRow", "Store"]
_LAZY = dict.fromkeys(__all__, "db")


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (the package is fully imported by then: no lock is held)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
