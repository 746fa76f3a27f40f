"""The device's own Python path, on this machine: the agent under a Python 3.12 venv
holding only numpy, psutil, executorch-numpy-runtime and ai-edge-litert (no torch),
as a Raspberry Pi runs it, minus aarch64.

The venv is built by `tools/device-venv`; `.ci/run` builds it and sets
EDGE_BENCH_DEVICE_PYTHON to its python. Without that variable the test skips,
except under CI, where a missing device Python is a failure.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from edge_bench import paths
from edge_bench.agent.spec import Protocol
from edge_bench.runner import RunPlan, Runner
from edge_bench.store import Store

MODEL = "edgeclip-s-scratch"
FAST = Protocol(warmup_min_runs=2, warmup_min_seconds=0.0, min_runs=8, min_seconds=0.0, max_runs=200, max_seconds=5.0)
N_IMAGES = 16
EXPECTED_MODULES = {"executorch": "executorch_numpy_runtime", "tflite": "ai_edge_litert.interpreter"}


def _device_python() -> str:
    """EDGE_BENCH_DEVICE_PYTHON, checked; skip (fail under CI) when it is unset or broken."""
    python = os.environ.get("EDGE_BENCH_DEVICE_PYTHON", "")
    problem = ""
    if not python:
        problem = "EDGE_BENCH_DEVICE_PYTHON is not set (build the device venv with tools/device-venv and point it at its bin/python)"
    elif not os.access(python, os.X_OK):
        problem = f"EDGE_BENCH_DEVICE_PYTHON={python} is not an executable (rebuild it with tools/device-venv)"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"under CI the device Python must be there: {problem}")
        pytest.skip(problem)
    return python


@pytest.fixture
def device_python() -> str:
    return _device_python()


def test_device_venv_is_torch_free_python312(device_python):
    """The venv is what a Pi has: Python 3.12, both device runtimes, and neither torch nor executorch."""
    probe = ("import importlib.util as u, sys; print(sys.version_info[:2] == (3, 12), "
             "*(u.find_spec(m) is not None for m in ('executorch_numpy_runtime', 'ai_edge_litert', 'torch', 'executorch')))")
    out = subprocess.run([device_python, "-c", probe], capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.split() == ["True", "True", "True", "False", "False"], out


def test_agent_under_device_python_end_to_end(device_python, isolated_home, session_home, tmp_path):
    """Both backends, both towers, run by the agent under the device venv; checked against fp32 PyTorch."""
    # Own config (the profile) and store; the session's caches, so the artifacts converted
    # here are the ones tests/test_runner.py uses too (conversion is most of this test's time).
    (session_home / "cache").mkdir(parents=True, exist_ok=True)
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "cache").symlink_to(session_home / "cache", target_is_directory=True)
    profile = Path(paths.config_dir()) / "devices" / "device-py312.toml"
    profile.parent.mkdir(parents=True, exist_ok=True)
    profile.write_text(
        'name = "device-py312"\n'
        'description = "this machine as a device: Python 3.12 venv, no torch (tools/device-venv)"\n'
        'transport = "local"\n'
        f'python = "{device_python}"\n'
        f'workdir = "{tmp_path / "device"}"\n'
        "threads = 1\n"
        'backends = ["executorch", "tflite"]\n'
    )
    store = Store(tmp_path / "results.sqlite")
    try:
        plan = RunPlan(device="device-py312", models=(MODEL,), backends=("executorch", "tflite"), precisions=("fp32",),
                       n_images=N_IMAGES, gallery_batch=4, protocol=FAST)
        outcome = Runner(store).run(plan)
        rows = store.jobs(run_id=outcome.run_id)
        assert outcome.status == "complete", [(r.backend, r.status, r.error) for r in rows]
        assert sorted(r.backend for r in rows) == ["executorch", "tflite"]
        for row in rows:
            rec = row.record
            assert rec.status == "ok" and rec.failure is None, rec.reason
            fingerprint = rec.provenance.device.fingerprint
            assert fingerprint["python"]["version"].startswith("3.12."), fingerprint.get("python")
            runtimes = fingerprint.get("runtimes") or {}
            assert runtimes.get("executorch_numpy_runtime") and runtimes.get("ai_edge_litert"), runtimes
            assert not runtimes.get("torch") and not runtimes.get("executorch"), runtimes
            for tower in ("image", "text"):
                t = rec.towers[tower]
                assert t.executor == "agent" and t.runtime.backend == row.backend
                assert t.runtime.module == EXPECTED_MODULES[row.backend], t.runtime
                assert t.agent["platform"]["python"].startswith("3.12."), t.agent
                assert t.latency.n >= FAST.min_runs and len(t.latency.samples) == t.latency.n
                assert all(s > 0 for s in t.latency.samples) and t.load_s > 0 and t.first_inference_s > 0
                assert t.gallery.batch == 4 and t.gallery.items_per_s > 0
                assert t.gallery.n_items == (N_IMAGES if tower == "image" else rec.job.n_captions)
                # the device's embeddings against the host's eager fp32 PyTorch, every item
                cosine = rec.fidelity.vs_fp32_pytorch[tower]
                assert cosine.cosine_min > 0.999 and cosine.n == t.gallery.n_items, cosine
            for key, value in rec.accuracy.reference.items():
                assert abs(rec.accuracy.recall[key] - value) <= 0.002, key
            assert rec.accuracy.source == "device embeddings"
    finally:
        store.close()
