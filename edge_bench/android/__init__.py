"""Android phones over adb: native runners (LiteRT benchmark_model, ExecuTorch executor_runner) and their output.

Stock Android has no Python, so the agent cannot run there; edge-bench drives the
runtimes' own benchmark programs instead, pushed with adb, and maps what they print
onto the agent's result record. The runner (edge_bench.runner) calls one function:

    from edge_bench.android import run_android_job
    result = run_android_job(transport, profile, job, local_root, on_event=...)

See docs/android.md for building the runners and naming them in a device profile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["run_android_job", "settings_from_profile", "parse_benchmark_model_output",
           "parse_executor_runner_output", "ACCURACY_SOURCE"]

if TYPE_CHECKING:
    from edge_bench.android.executorch_output import parse_executor_runner_output
    from edge_bench.android.job import run_android_job
    from edge_bench.android.litert_output import parse_benchmark_model_output
    from edge_bench.android.result import ACCURACY_SOURCE
    from edge_bench.android.settings import settings_from_profile

_LAZY = {
    "run_android_job": "edge_bench.android.job",
    "settings_from_profile": "edge_bench.android.settings",
    "parse_benchmark_model_output": "edge_bench.android.litert_output",
    "parse_executor_runner_output": "edge_bench.android.executorch_output",
    "ACCURACY_SOURCE": "edge_bench.android.result",
}


def __getattr__(name: str) -> Any:
    """Import the public names on first use, so `import edge_bench.android` stays light."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'edge_bench.android' has no attribute {name!r}")
