"""The on-device agent: standard library, numpy and one runtime; never torch.

This folder is pushed to the device as a package named `edge_bench_agent` and
run there as `python3 -m edge_bench_agent JOB.json` (docs/agent-protocol.md
documents the job spec and the result, field by field). On the host it imports
as `edge_bench.agent`; this file is the host's view of it and stays
standard-library only and cheap: it imports none of the agent's modules.

- `agent_files()`: the files to push (every source file of the folder).
- `AGENT_VERSION`: a hash of those files' contents, so the runner can skip
  re-pushing an agent the device already has; the agent reports the same value
  in every result.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

PACKAGE_NAME = "edge_bench_agent"
"""The name the folder runs under on the device."""

_ROOT = Path(__file__).resolve().parent


def agent_files() -> list[Path]:
    """Every source file of the agent, sorted; push them keeping their paths relative to `agent_root()`."""
    return sorted(p for p in _ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def agent_root() -> Path:
    """The agent's folder on this machine (the files of `agent_files()` are under it)."""
    return _ROOT


def _version() -> str:
    digest = hashlib.sha256()
    for path in agent_files():
        digest.update(path.relative_to(_ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


AGENT_VERSION: str = _version()
"""First 16 hex digits of the sha256 of the agent's files (names and contents)."""

__all__ = ["AGENT_VERSION", "PACKAGE_NAME", "agent_files", "agent_root"]
