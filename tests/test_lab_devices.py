"""A lab run on real devices: the local host and a real sshd on loopback, with the real agent and runtime.

Both are this machine, so the timing guard refuses them together; with --allow-shared-hardware both run at once,
their records are marked as taken concurrently, and each artifact is converted once for both.
"""

from __future__ import annotations

import importlib
import threading

import pytest

from edge_bench import paths
from edge_bench.agent.spec import Protocol
from edge_bench.converters import convert
from edge_bench.errors import ConfigError
from edge_bench.runner import RunPlan
from edge_bench.runner.lab import LabRunner
from edge_bench.store import Store

MODEL = "edgeclip-s-scratch"
FAST = Protocol(warmup_min_runs=2, warmup_min_seconds=0.0, min_runs=8, min_seconds=0.0, max_runs=200, max_seconds=5.0)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "results.sqlite")
    yield s
    s.close()


@pytest.mark.slow
def test_local_and_loopback_ssh_one_machine_refused_then_run_at_once_marked_and_converted_once(store, sshd_server, monkeypatch):
    # the loopback device runs tflite only: while local converts ExecuTorch, it converts LiteRT (two keys at once)
    sshd_server.write_profile(paths.config_dir(), "loop-lab", backends=["tflite"])
    plan = RunPlan(models=(MODEL,), backends=("executorch", "tflite"), precisions=("fp32",), n_images=15, gallery_batch=3,
                   protocol=FAST, ceilings=False)
    with pytest.raises(ConfigError, match="local and loop-lab are one machine"):
        LabRunner(store).run(plan, ("local", "loop-lab"))
    assert store.runs() == []

    pipeline = importlib.import_module(convert.__module__)
    converted, lock = [], threading.Lock()
    real = pipeline._convert_checked

    def counting(converter, job, path, *args):
        with lock:
            converted.append(path.name)
        return real(converter, job, path, *args)

    monkeypatch.setattr(pipeline, "_convert_checked", counting)
    outcome = LabRunner(store, allow_shared_hardware=True).run(plan, ("local", "loop-lab"))
    assert outcome.status == "complete", [j.error for j in store.jobs()]
    assert len(converted) == len(set(converted)) and "image-b3.tflite" in converted  # each unit converted once, for both
    rows = {r.device: r for r in store.jobs() if r.backend == "tflite"}
    assert sorted((r.device, r.status) for r in store.jobs() if r.backend == "executorch") == [("local", "ok"), ("loop-lab", "skipped")]
    assert set(rows) == {"local", "loop-lab"} and all(r.status == "ok" for r in rows.values())
    local, remote = rows["local"].record, rows["loop-lab"].record
    assert local.artifact.dir == remote.artifact.dir  # one artifact set, shared
    assert local.provenance.artifact["files"] == remote.provenance.artifact["files"]
    assert local.lab.concurrent_with == ("loop-lab",) and remote.lab.concurrent_with == ("local",)
    assert local.tower("image").executor == remote.tower("image").executor == "agent"
    assert remote.fidelity.verdict.status == "agrees"
    assert {r.lab_id for r in store.lab_runs(outcome.lab_id)} == {outcome.lab_id}
