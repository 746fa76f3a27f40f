"""A run always ends with a status, and `--resume` never runs one run twice at once.

A fault no check foresaw (not an EdgeBenchError) fails its job with a one-line reason and the run ends `partial`.
Two `--resume` runs of one plan are real processes on one store: while the first is live the second refuses
with one line; once the first is gone (ended, or killed with SIGKILL) a resume goes on, and no job is stored twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from edge_bench.agent.spec import Protocol
from edge_bench.executors.scripted import Script, ScriptedExecutor
from edge_bench.runner import RunPlan, Runner
from edge_bench.store import Store
from edge_bench.store.locks import RunBusy

MODEL = "edgeclip-s-scratch"
FAST = Protocol(warmup_min_runs=2, warmup_min_seconds=0.0, min_runs=8, min_seconds=0.0, max_runs=200, max_seconds=5.0)


def plan() -> RunPlan:
    return RunPlan(device="local", models=(MODEL,), backends=("executorch", "tflite"), precisions=("fp32",),
                   n_images=40, gallery_batch=4, protocol=FAST)


class Buggy(ScriptedExecutor):
    """A scripted device whose executorch text tower hits a bug (a KeyError, not an EdgeBenchError)."""

    def run_tower(self, request, cancel):
        if request.backend == "executorch" and request.tower == "text":
            return {}["latency_s"]
        return super().run_tower(request, cancel)


def test_a_bug_in_a_job_fails_that_job_with_a_reason_and_the_run_ends_partial(tmp_path):
    store = Store(tmp_path / "results.sqlite")
    outcome = Runner(store, executor_factory=lambda *_: Buggy(Script())).run(plan())
    assert outcome.status == "partial" and store.run(outcome.run_id).status == "partial"
    assert outcome.counts["ok"] == 1 and outcome.counts["failed"] == 1
    by = {r.backend: r for r in store.jobs(run_id=outcome.run_id)}
    assert by["executorch"].status == "failed"
    assert by["executorch"].error == "internal error: KeyError: 'latency_s' (a bug in edge-bench: please report it)"
    assert by["executorch"].record.failure.phase == "internal"
    assert by["tflite"].status == "ok"  # the run went on
    assert store.lock_run(outcome.run_id).held  # and let go of its lock
    store.close()


def test_a_bug_outside_any_job_still_ends_the_run_with_a_status(tmp_path):
    store = Store(tmp_path / "results.sqlite")

    def on_event(event):
        if type(event).__name__ == "JobFinished":
            raise RuntimeError("a display crashed")

    with pytest.raises(RuntimeError):
        Runner(store, on_event=on_event, executor_factory=lambda *_: ScriptedExecutor(Script())).run(plan())
    (run,) = store.runs()
    assert run.status == "interrupted"
    assert store.lock_run(run.id).held
    store.close()


CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from edge_bench.errors import EdgeBenchError
    from edge_bench.executors.scripted import Script, ScriptedExecutor
    from edge_bench.runner import Runner
    from test_run_safety import plan

    store_path, started, release = sys.argv[1], Path(sys.argv[2]), sys.argv[3]

    class Held(ScriptedExecutor):
        def run_tower(self, request, cancel):
            started.write_text("in a tower")
            while release != "-" and not Path(release).exists():
                time.sleep(0.05)
            return super().run_tower(request, cancel)

    from edge_bench.store import Store
    runner = Runner(Store(Path(store_path)), executor_factory=lambda *_: Held(Script()))
    try:
        outcome = runner.run(plan(), resume=True)
    except EdgeBenchError as exc:
        print(exc.one_line())
        sys.exit(3)
    print(outcome.status, outcome.run_id, outcome.counts["ok"], outcome.counts["done before"])
""")


def resume(tmp_path: Path, name: str, release: str = "-") -> tuple[subprocess.Popen, Path]:
    started = tmp_path / f"{name}.started"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "results.sqlite"), str(started), release],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    return proc, started


def wait_for(path: Path, proc: subprocess.Popen, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"the run ended before its first tower: {proc.communicate()}")
        if time.monotonic() > deadline:
            pytest.fail("the run never reached its first tower")
        time.sleep(0.05)


def ok_rows(tmp_path: Path) -> Counter:
    store = Store(tmp_path / "results.sqlite")
    try:
        return Counter(j.job_key for j in store.jobs(status="ok"))
    finally:
        store.close()


def test_two_concurrent_resume_runs_of_one_plan_one_refuses(tmp_path):
    release = tmp_path / "release"
    first, started = resume(tmp_path, "first", str(release))
    wait_for(started, first)  # the first run is live, inside its first tower

    second, _ = resume(tmp_path, "second")
    out, err = second.communicate(timeout=120)
    assert second.returncode == 3, err
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("run r") and "is still running (pid " in lines[0]
    assert f"pid {first.pid} on " in lines[0] and "(hint: wait for it to end, or run without --resume" in lines[0]

    release.write_text("go")
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    status, run_id, ok, before = out.split()
    assert (status, ok, before) == ("complete", "2", "0")

    third, _ = resume(tmp_path, "third")  # the first has ended: a resume goes on, with nothing left to do
    out, err = third.communicate(timeout=120)
    assert third.returncode == 0, err
    assert out.split() == ["complete", run_id, "0", "2"]
    counts = ok_rows(tmp_path)
    assert len(counts) == 2 and set(counts.values()) == {1}  # no job recorded twice


@pytest.mark.slow
def test_a_run_whose_process_was_killed_can_be_resumed(tmp_path):
    killed, started = resume(tmp_path, "killed", str(tmp_path / "never"))
    wait_for(started, killed)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=30)
    store = Store(tmp_path / "results.sqlite")
    (run,) = store.runs()
    assert run.status == "running"  # nothing could mark it: the lock, not the status, says it is not live
    store.close()

    again, _ = resume(tmp_path, "again")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert out.split() == ["complete", run.id, "2", "0"]
    counts = ok_rows(tmp_path)
    assert len(counts) == 2 and set(counts.values()) == {1}


def test_a_held_run_refuses_in_the_same_process_too(tmp_path):
    store = Store(tmp_path / "results.sqlite")
    run = store.create_run("local", "k", {}, "test")
    lock = store.lock_run(run.id)
    with pytest.raises(RunBusy) as info:
        store.lock_run(run.id)
    assert "\n" not in info.value.one_line() and f"pid {os.getpid()}" in info.value.one_line()
    lock.release()
    lock.release()
    assert store.lock_run(run.id).held
    store.close()
