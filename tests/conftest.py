"""Test settings shared by every test: an isolated edge-bench home, no user dirs touched."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# Fixtures shared across test modules: a real sshd on loopback (tests/sshd.py).
pytest_plugins = ["sshd"]

# One home per test process (each pytest-xdist worker has its own store, config, device locks and
# measured ceilings), and the slow caches (converted artifacts and ceiling artifacts, the synthetic set's pixels, preprocessed
# arrays, references, teacher targets) made once per test run and shared by every
# worker: the process that starts the run (xdist's controller, or pytest alone) makes the shared folder
# and its workers inherit it through the environment. Every writer of these caches writes a private
# temporary and renames it, and a conversion holds an flock on its set, so two workers asking for one
# artifact convert it once.
SHARED_CACHES = ("artifacts", "ceiling-artifacts", "inputs", "reference", "preprocessed", "synthetic", "teacher-targets")
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if not _WORKER:
    os.environ["EDGE_BENCH_TEST_SHARED"] = tempfile.mkdtemp(prefix="edge-bench-test-shared-")
_SHARED = Path(os.environ["EDGE_BENCH_TEST_SHARED"])
_SESSION_HOME = Path(tempfile.mkdtemp(prefix=f"edge-bench-test-home-{_WORKER or 'main'}-"))
os.environ["EDGE_BENCH_HOME"] = str(_SESSION_HOME)
os.environ.setdefault("TQDM_DISABLE", "1")
if _WORKER and int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) >= (os.cpu_count() or 1):
    # a worker per core: torch's intra-op pool (and what it starts) takes one thread, not every core
    # twice over (a tower run by the agent sets its own runtime's threads from the device profile)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
if not _WORKER:  # whether whoever started the run chose an adb server port (then every process uses it)
    os.environ["EDGE_BENCH_TEST_ADB_PORT_GIVEN"] = "1" if "ANDROID_ADB_SERVER_PORT" in os.environ else ""
_OWN_ADB_SERVER = not os.environ.get("EDGE_BENCH_TEST_ADB_PORT_GIVEN")
if _OWN_ADB_SERVER:
    # Each test process talks to its own adb server: two workers whose real adb clients both find no server on one
    # port start one each at the same moment, and the loser fails ("Address already in use"). A worker inherits its
    # controller's environment, so it picks its own port here rather than keep the one it inherited.
    import socket

    with socket.socket() as _probe:
        _probe.bind(("127.0.0.1", 0))
        os.environ["ANDROID_ADB_SERVER_PORT"] = str(_probe.getsockname()[1])
for _name in SHARED_CACHES:
    (_SHARED / _name).mkdir(parents=True, exist_ok=True)
    (_SESSION_HOME / "cache").mkdir(parents=True, exist_ok=True)
    (_SESSION_HOME / "cache" / _name).symlink_to(_SHARED / _name, target_is_directory=True)


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001  (the signature is fixed by the caller)
    """Stop the process's own adb server; remove the process's home and, in the process that started the run, the
    shared caches (converted artifacts: hundreds of MB) unless asked to keep them (EDGE_BENCH_KEEP_TEST_HOME)."""
    if _OWN_ADB_SERVER and shutil.which("adb"):  # the adb server this process's tests may have started, on its port
        import subprocess

        subprocess.run(["adb", "kill-server"], capture_output=True, timeout=30, check=False)
    if not os.environ.get("EDGE_BENCH_KEEP_TEST_HOME"):
        shutil.rmtree(_SESSION_HOME, ignore_errors=True)
        if not _WORKER:
            shutil.rmtree(_SHARED, ignore_errors=True)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):  # noqa: ARG001  (the signature is fixed by the caller)
    """A pytest-xdist worker leaves at once when its session is over. It has sent every report and its exit status
    (`workerfinished`, from pytest_sessionfinish) and removed its home; what is left is the interpreter unloading
    torch, ExecuTorch, LiteRT and Textual, which the controller waited for (about 8 s at the end of every run)."""
    if _WORKER:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


LONGEST_FIRST = (
    "test_convert", "test_agent", "test_runner", "test_executorch_lowering", "test_cli_exit", "test_cli_output",
    "test_distill", "test_convert_cli", "test_ceiling", "test_transport_hardening", "test_weights", "test_tui_app",
    "test_cli_eval", "test_transport_ssh", "test_profile_litert", "test_tui_lab", "test_report",
)
"""Modules whose tests convert models, run the real agent or wait on real transports, longest first (as measured
with --durations): run before the quick ones, so that the quick ones fill both workers' last minutes instead of
one worker finishing a long conversion alone."""


def pytest_collection_modifyitems(config, items):  # noqa: ARG001  (the signature is fixed by the caller)
    """Longest modules first (LONGEST_FIRST), the rest in collection order; order within a module is kept."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(Path(str(item.fspath)).stem, len(LONGEST_FIRST)))


def pytest_xdist_auto_num_workers(config) -> int:
    """How many workers pyproject's `-n auto` starts: one per core for the fast suite (pytest-xdist, test by
    test; a file whose module fixture is costly carries an xdist_group mark and stays on one worker), none for a run that selects the slow tests, whose
    emulated Pi and Ray clusters each want the machine to themselves."""
    markexpr = (config.getoption("markexpr") or "").replace("not slow", "")
    return 0 if "slow" in markexpr else (os.cpu_count() or 1)


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
