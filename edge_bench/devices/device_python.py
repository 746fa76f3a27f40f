"""The device's Python setting, split into argv words: one rule for jobs, the fingerprint and the probe."""

from __future__ import annotations

import shlex


def python_argv(python: str) -> list[str]:
    """The device's Python setting as argv words: shlex, the one way to split it (jobs and fingerprint alike)."""
    words = shlex.split(python)
    if not words:
        raise ValueError("no Python configured for this device")
    return words
