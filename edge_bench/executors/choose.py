"""Which executor a device gets: chosen by what the device can do, not by how it is reached."""

from __future__ import annotations

from pathlib import Path

from edge_bench.executors.agent import AgentExecutor
from edge_bench.executors.base import Executor
from edge_bench.executors.native import NativeExecutor


def executor_for(profile, transport, local_root: Path) -> Executor:
    """The executor a device's capabilities call for: the agent where it has a Python, else its native runners."""
    if transport.python:
        return AgentExecutor(transport, local_root)
    return NativeExecutor(transport, profile, local_root)
