"""The runner with real runtimes and real transports: the local device (ExecuTorch and LiteRT through the agent)
and a real sshd on loopback (a cut connection and resume, a corrupted push), and cancelling a running agent.

Planning, storing, resuming, cancelling and bad inputs without a runtime are in test_runner_scripted.py.
"""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

from edge_bench import paths
from edge_bench.agent.spec import Protocol
from edge_bench.runner import RunPlan, Runner
from edge_bench.runner.events import JobFinished, JobStage, RunFinished, RunStarted
from edge_bench.store import Store

MODEL = "edgeclip-s-scratch"
FAST = Protocol(warmup_min_runs=2, warmup_min_seconds=0.0, min_runs=8, min_seconds=0.0, max_runs=200, max_seconds=5.0)


def plan(device: str = "local", **over) -> RunPlan:
    settings = dict(device=device, models=(MODEL,), backends=("executorch", "tflite"), precisions=("fp32",),
                    n_images=40, gallery_batch=4, protocol=FAST)
    settings.update(over)
    return RunPlan(**settings)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "results.sqlite")
    yield s
    s.close()


def test_local_device_end_to_end(store):
    events = []
    outcome = Runner(store, on_event=events.append).run(plan())
    assert outcome.status == "complete", [j.error for j in store.jobs()]
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    assert [e.status for e in events if isinstance(e, JobFinished)] == ["ok", "ok"]
    rows = store.jobs(run_id=outcome.run_id)
    assert {r.backend for r in rows} == {"executorch", "tflite"}
    for row in rows:
        rec = row.record
        assert rec.status == "ok" and rec.failure is None and rec.job.device == "local"
        for tower in ("image", "text"):
            t = rec.towers[tower]
            assert t.executor == "agent" and t.runtime.backend == row.backend
            assert t.latency.n >= FAST.min_runs and len(t.latency.samples) == t.latency.n
            assert t.first_inference_s > 0 and t.load_s > 0
            assert t.gallery.batch == 4 and t.gallery.items_per_s > 0
            assert t.gallery.n_items == (40 if tower == "image" else rec.job.n_captions)
            assert t.memory.peak_rss_bytes >= t.memory.rss_before_load_bytes > 0
            assert rec.fidelity.vs_fp32_pytorch[tower].cosine_min > 0.999
            assert rec.fidelity.vs_fp32_pytorch[tower].n == t.gallery.n_items
            assert t.flops > 0 and t.achieved_gflops > 0
        # recall from the device's embeddings equals recall from eager PyTorch at fp32 (within 0.2 points)
        for key, value in rec.accuracy.reference.items():
            assert abs(rec.accuracy.recall[key] - value) <= 0.002, key
        assert rec.accuracy.label in ("trained", "untrained") and rec.accuracy.source == "device embeddings"
        emb = np.load(rec.embeddings["image"])
        assert emb.shape == (40, 256)
        assert rec.provenance.artifact["files"]["image"][0]["sha256"]
        assert rec.provenance.device.fingerprint["machine"]
    runtimes = {r.backend: r.record.tower("image").runtime.module for r in rows}
    assert runtimes["tflite"].startswith("ai_edge_litert") and runtimes["executorch"].startswith("executorch")


def test_ssh_device_end_to_end(store, sshd_server):
    sshd_server.write_profile(paths.config_dir(), "loop-e2e", backends=["tflite"])
    outcome = Runner(store).run(plan("loop-e2e", backends=("tflite",)))
    assert outcome.status == "complete", [j.error for j in store.jobs()]
    (row,) = store.jobs(run_id=outcome.run_id)
    rec = row.record
    assert rec.job.device == "loop-e2e" and rec.status == "ok"
    # a remote device is checked against the host's run of the same artifact
    assert rec.fidelity.verdict.status == "agrees"
    assert rec.fidelity.vs_host_artifact["image"].cosine_min > 0.9999
    assert rec.fidelity.vs_host_artifact["text"].cosine_min > 0.9999


def _cut_sessions(server) -> None:
    """Kill every ssh session under the listener (the listener survives: a dropped link, not a dead host)."""
    import psutil

    for child in psutil.Process(server.process.pid).children(recursive=False):
        child.kill()


def test_cut_connection_fails_one_job_and_resume_runs_only_the_missing(store, fresh_sshd):
    fresh_sshd.write_profile(paths.config_dir(), "loop-cut", backends=["executorch", "tflite"])
    # each tower times for at least 1.5 s, so the ExecuTorch job lasts over 3 s from its image stage on
    # (longer on a loaded machine, never shorter): a cut 1 s after that stage lands inside the job
    slow = Protocol(warmup_min_runs=2, warmup_min_seconds=0.0, min_runs=8, min_seconds=1.5, max_runs=10**7, max_seconds=20.0)
    p = plan("loop-cut", protocol=slow)
    cut = {"done": False}

    def on_event(event):
        if isinstance(event, JobStage) and event.stage == "image" and event.job.backend == "executorch" and not cut["done"]:
            cut["done"] = True
            threading.Timer(1.0, _cut_sessions, args=(fresh_sshd,)).start()

    first = Runner(store, on_event=on_event).run(p)
    rows = store.jobs(run_id=first.run_id)
    status = {r.backend: r for r in rows}
    assert first.status == "partial"
    assert status["executorch"].status == "failed"
    assert "lost" in status["executorch"].error
    assert status["executorch"].record.phase == "connection" and status["executorch"].record.reason == status["executorch"].error
    assert status["tflite"].status == "ok"  # the other job finished

    second = Runner(store).run(p, resume=True)
    assert second.run_id == first.run_id
    assert second.counts["done before"] == 1 and second.counts["ok"] == 1
    rows = store.jobs(run_id=first.run_id)
    ok = [r for r in rows if r.status == "ok"]
    assert sorted(r.backend for r in ok) == ["executorch", "tflite"]  # nothing duplicated
    assert len([r for r in rows if r.status == "failed"]) == 1  # the failure is kept, not overwritten
    third = Runner(store).run(p, resume=True)
    assert third.counts["ok"] == 0 and third.counts["done before"] == 2


def test_sha256_mismatch_fails_that_job_only(store, sshd_server, monkeypatch):
    from edge_bench.executors.session import DeviceSession

    sshd_server.write_profile(paths.config_dir(), "loop-sha", backends=["executorch", "tflite"])
    work = sshd_server.folder / "work"
    real_ensure = DeviceSession.ensure_file

    def ensure_then_corrupt(self, local, sha256=None):
        """The device's copy of the tflite image artifact goes bad once it is there (pushed now or by an earlier
        test on this sshd: the push comes after the tower's stage event, so corrupting on the event was order-bound)."""
        remote, sha = real_ensure(self, local, sha256)
        if local.name == "image-b1.tflite":
            path = work / remote
            path.write_bytes(path.read_bytes()[:-8] + b"corrupt!")
        return remote, sha

    monkeypatch.setattr(DeviceSession, "ensure_file", ensure_then_corrupt)
    outcome = Runner(store).run(plan("loop-sha"))
    monkeypatch.setattr(DeviceSession, "ensure_file", real_ensure)
    by = {r.backend: r for r in store.jobs(run_id=outcome.run_id)}
    assert by["executorch"].status == "ok"
    assert by["tflite"].status == "failed" and "sha256 mismatch" in by["tflite"].error
    # the bad copy is removed from the device, so a resume pushes a good one
    again = Runner(store).run(plan("loop-sha"), resume=True)
    assert again.counts["ok"] == 1


def _when_timing_starts(workdir, then, timeout: float = 120.0) -> None:
    """Call `then` once the agent's checkpointed result.json says the image tower is being timed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in workdir.glob("runs/*/image/result.json"):
            try:
                if json.loads(path.read_text()).get("phase") == "timed":
                    time.sleep(1.5)  # let it take some samples
                    return then()
            except (OSError, ValueError):
                pass  # caught mid-write
        time.sleep(0.1)


def test_cancel_stops_the_running_agent_and_keeps_what_it_measured(store, tmp_path):
    workdir = tmp_path / "device"
    profile = paths.config_dir() / "devices" / "local-cancel.toml"
    profile.parent.mkdir(parents=True, exist_ok=True)
    profile.write_text(f'name = "local-cancel"\ntransport = "local"\nbackends = ["executorch", "tflite"]\nworkdir = "{workdir}"\n')
    cancel = threading.Event()
    slow = Protocol(warmup_min_runs=1, warmup_min_seconds=0.0, min_runs=10, min_seconds=60.0, max_runs=10**7, max_seconds=120.0)

    def on_event(event):
        if isinstance(event, JobStage) and event.stage == "image":
            threading.Thread(target=_when_timing_starts, args=(workdir, cancel.set), daemon=True).start()

    outcome = Runner(store, on_event=on_event, cancel=cancel).run(plan("local-cancel", protocol=slow))
    assert outcome.status == "cancelled"
    (row, *rest) = store.jobs(run_id=outcome.run_id)
    assert row.status == "cancelled" and "cancelled during the image tower" in row.error
    image = row.record.towers["image"]
    assert image.status == "cancelled"
    taken = image.partial["latency_s"]  # the samples taken before the stop
    assert taken and sum(taken) < 30  # stopped early, not after the 60 s the protocol asked for
    assert rest == [] and outcome.counts["cancelled"] == 2  # this job, and the one never started
