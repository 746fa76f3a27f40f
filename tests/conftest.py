"""Test settings shared by every test: an isolated edge-bench home, no user dirs touched."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Fixtures shared across test modules: a real sshd on loopback (tests/sshd.py).
pytest_plugins = ["sshd"]

# One home for the whole session, so slow caches (the synthetic set's pixels,
# preprocessed arrays, converted artifacts) are made once per run.
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="edge-bench-test-home-"))
os.environ["EDGE_BENCH_HOME"] = str(_SESSION_HOME)
os.environ.setdefault("TQDM_DISABLE", "1")


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001  (the signature is fixed by the caller)
    """Remove the session's home (converted artifacts, caches: hundreds of MB) unless asked to keep it."""
    if not os.environ.get("EDGE_BENCH_KEEP_TEST_HOME"):
        shutil.rmtree(_SESSION_HOME, ignore_errors=True)


@pytest.fixture
def isolated_home(tmp_path, monkeypatch) -> Path:
    """A fresh, empty edge-bench home for tests that need a clean store or config."""
    home = tmp_path / "edge-bench-home"
    monkeypatch.setenv("EDGE_BENCH_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def session_home() -> Path:
    """The session's shared edge-bench home (caches live here)."""
    return _SESSION_HOME
