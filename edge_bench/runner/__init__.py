"""The benchmark runner: plans jobs, runs each tower through the device's executor, stores typed records.

Names load on first use, so importing `edge_bench.runner.plan` (the CLI's and the TUI's defaults) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge_bench.runner.loop import RunOutcome, Runner
    from edge_bench.runner.plan import PlannedJob, RunPlan

__all__ = ["PlannedJob", "RunOutcome", "RunPlan", "Runner"]
_LAZY = {"PlannedJob": "edge_bench.runner.plan", "RunPlan": "edge_bench.runner.plan",
         "RunOutcome": "edge_bench.runner.loop", "Runner": "edge_bench.runner.loop"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'edge_bench.runner' has no attribute {name!r}")
