"""A lab run on one host (`run --device A,B,C`): every device at once, one job at a time each, grouped in the store.

Devices are profiles with the local transport (opened for real: check, fingerprint); towers are answered by
`ScriptedExecutor`, so the tests are about scheduling, grouping, failures, resume and the timing guard, not
timings. Parallelism is proven by a barrier the devices' first towers must all reach together. The real local
device beside a loopback sshd device is in test_lab_devices.py.
"""

from __future__ import annotations

import threading

import pytest

from edge_bench import paths
from edge_bench.agent.spec import Protocol
from edge_bench.devices import ConnectionLost
from edge_bench.errors import ConfigError
from edge_bench.executors.scripted import Script, ScriptedExecutor
from edge_bench.runner import RunPlan
from edge_bench.runner.events import DeviceFailed, LabFinished, LabStarted, RunStarted
from edge_bench.runner.lab import LabRunner
from edge_bench.store import Store

MODEL = "edgeclip-s-scratch"
FAST = Protocol(warmup_min_runs=2, warmup_min_seconds=0.0, min_runs=8, min_seconds=0.0, max_runs=200, max_seconds=5.0)
DEVICES = ("bench-a", "bench-b", "bench-c")


def plan(**over) -> RunPlan:
    settings = dict(models=(MODEL,), backends=("executorch", "tflite"), precisions=("fp32",), n_images=16,
                    gallery_batch=4, protocol=FAST, ceilings=False)
    settings.update(over)
    return RunPlan(**settings)


def local_profile(name: str, backends=("executorch", "tflite")) -> None:
    path = paths.config_dir() / "devices" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'name = "{name}"\ntransport = "local"\nthreads = 1\nbackends = [{", ".join(repr(b) for b in backends)}]\n'.replace("'", '"'))


def by_name(profile, transport) -> str:  # noqa: ARG001
    """Hardware named by the profile: every test device is its own machine."""
    return profile.name


class Watched(ScriptedExecutor):
    """A scripted device that notes how many of its towers run at once, and can wait for the others at a barrier."""

    def __init__(self, script: Script, device: str, active: dict, barrier: threading.Barrier | None = None,
                 lose_after: int | None = None) -> None:
        super().__init__(script)
        self.device, self.active, self.barrier, self.lose_after = device, active, barrier, lose_after
        self.towers = 0

    def run_tower(self, request, cancel):
        with self._lock:
            self.active[self.device] = self.active.get(self.device, 0) + 1
            self.active["max " + self.device] = max(self.active.get("max " + self.device, 0), self.active[self.device])
        try:
            self.towers += 1
            if self.barrier is not None and self.towers == 1:
                self.barrier.wait(timeout=300)  # raises BrokenBarrierError unless every device is in its first tower at once
            if self.lose_after is not None and self.towers > self.lose_after:
                raise ConnectionLost(f"{self.device} vanished (unplugged)")
            return super().run_tower(request, cancel)
        finally:
            with self._lock:
                self.active[self.device] -= 1


def lab(store, factory, events=None, **kwargs) -> LabRunner:
    return LabRunner(store, on_event=(events.append if events is not None else None), executor_factory=factory,
                     hardware=kwargs.pop("hardware", by_name), **kwargs)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "results.sqlite")
    yield s
    s.close()


@pytest.fixture
def devices():
    for name in DEVICES:
        local_profile(name)
    return DEVICES


def test_every_device_at_once_one_job_at_a_time_each_grouped_as_one_lab(store, devices):
    script, active = Script(), {}
    barrier = threading.Barrier(len(devices))
    executors = {}

    def factory(profile, transport, root):
        executors[profile.name] = Watched(script, profile.name, active, barrier)
        return executors[profile.name]

    events = []
    outcome = lab(store, factory, events).run(plan(), devices)

    assert outcome.status == "complete" and not barrier.broken  # all three were in their first tower together
    assert outcome.counts == {"ok": 6, "failed": 0, "skipped": 0, "done before": 0, "cancelled": 0}
    assert all(active["max " + d] == 1 for d in devices)  # never two towers at once on one device
    assert {d: e.towers for d, e in executors.items()} == {d: 4 for d in devices}
    # one run per device, grouped by the lab id in the store and in every record
    runs = store.lab_runs(outcome.lab_id)
    assert sorted(r.device for r in runs) == sorted(devices) and {r.lab_id for r in runs} == {outcome.lab_id}
    assert {d: o.run_id for d, o in outcome.runs.items()} == {r.device: r.id for r in runs}
    assert all(r.status == "complete" for r in runs) and store.lab_runs(outcome.lab_id[:5])[0].lab_id == outcome.lab_id
    for run in runs:
        rows = store.jobs(run_id=run.id)
        assert [(r.backend, r.status, r.device) for r in rows] == [("executorch", "ok", run.device), ("tflite", "ok", run.device)]
        for row in rows:
            assert row.record.lab.lab_id == outcome.lab_id and row.record.lab.devices == devices
            assert not row.record.lab.concurrent
    # events: the lab's start and end around every device's run events
    assert isinstance(events[0], LabStarted) and events[0].devices == devices and events[0].run_id == outcome.lab_id
    assert isinstance(events[-1], LabFinished) and events[-1].runs == {r.device: r.id for r in runs}
    assert sorted(e.device for e in events if isinstance(e, RunStarted)) == sorted(devices)


def test_a_device_that_cannot_be_reached_fails_only_its_own_jobs_and_resume_completes_it(store, devices):
    broken = paths.config_dir() / "devices" / "bench-c.toml"
    broken.write_text('name = "bench-c"\ntransport = "ssh"\nbackends = ["executorch", "tflite"]\n[ssh]\nhost = "127.0.0.1"\n'
                      'port = 9\nconnect_timeout = 3\nconfig_file = "none"\n')
    script, events = Script(), []
    outcome = lab(store, lambda profile, transport, root: ScriptedExecutor(script), events).run(plan(), devices)

    assert outcome.status == "partial" and outcome.counts["ok"] == 4 and outcome.counts["failed"] == 2
    assert {d: o.status for d, o in outcome.runs.items()} == {"bench-a": "complete", "bench-b": "complete", "bench-c": "failed"}
    failed = [e for e in events if isinstance(e, DeviceFailed)]
    assert [e.device for e in failed] == ["bench-c"] and "bench-c" in failed[0].reason
    rows_c = store.jobs(run_id=outcome.runs["bench-c"].run_id)
    assert [(r.backend, r.status) for r in rows_c] == [("executorch", "failed"), ("tflite", "failed")]
    assert all(r.error.startswith("device bench-c failed: ") and r.record.phase == "connection" for r in rows_c)
    assert all(r.record.lab.lab_id == outcome.lab_id for r in rows_c)

    local_profile("bench-c")  # plugged back in
    again = Script()
    second = lab(store, lambda profile, transport, root: ScriptedExecutor(again)).run(plan(), devices, resume=True)
    assert second.lab_id == outcome.lab_id and second.status == "complete"
    assert {d: o.run_id for d, o in second.runs.items()} == {d: o.run_id for d, o in outcome.runs.items()}
    assert second.counts == {"ok": 2, "failed": 0, "skipped": 0, "done before": 4, "cancelled": 0}
    assert len(again.calls) == 4  # only bench-c's two jobs ran (two towers each)
    rows_c = store.jobs(run_id=outcome.runs["bench-c"].run_id)
    assert [(r.backend, r.status) for r in rows_c] == [("executorch", "failed"), ("tflite", "failed"),
                                                       ("executorch", "ok"), ("tflite", "ok")]
    assert [len(store.jobs(run_id=outcome.runs[d].run_id)) for d in ("bench-a", "bench-b")] == [2, 2]  # nothing duplicated


def test_a_device_lost_mid_run_fails_its_remaining_jobs_the_others_finish(store, devices):
    script, active = Script(), {}
    factory = lambda profile, transport, root: Watched(script, profile.name, active,  # noqa: E731
                                                       lose_after=2 if profile.name == "bench-b" else None)
    outcome = lab(store, factory).run(plan(models=(MODEL, "edgeclip-s-distilled")), devices)
    assert outcome.runs["bench-a"].status == outcome.runs["bench-c"].status == "complete"
    rows = store.jobs(run_id=outcome.runs["bench-b"].run_id)
    assert [r.status for r in rows] == ["ok", "failed", "failed", "failed"]
    assert all("bench-b vanished" in r.error for r in rows[1:])
    assert outcome.counts["ok"] == 9 and outcome.counts["failed"] == 3 and outcome.status == "partial"


def test_resume_completes_what_each_device_is_missing(store, devices):
    first_script = Script(fail={(MODEL, "tflite", "fp32", "text"): ("timed", "runtime crashed")})
    factory = lambda profile, transport, root: ScriptedExecutor(  # noqa: E731
        first_script if profile.name == "bench-b" else Script())
    first = lab(store, factory).run(plan(), devices)
    assert first.runs["bench-b"].status == "partial" and first.counts["failed"] == 1
    again = Script()
    events = []
    second = lab(store, lambda profile, transport, root: ScriptedExecutor(again), events).run(plan(), devices, resume=True)
    assert second.lab_id == first.lab_id and second.status == "complete"
    assert again.calls == [(MODEL, "tflite", "fp32", "image"), (MODEL, "tflite", "fp32", "text")]
    assert events[0].resumed and second.counts["done before"] == 5
    assert [r.status for r in store.jobs(run_id=first.runs["bench-b"].run_id)] == ["ok", "failed", "ok"]


def test_resume_leaves_a_device_run_that_another_live_process_holds_alone(store, devices):
    first_script = Script(fail={(MODEL, "tflite", "fp32", "text"): ("timed", "runtime crashed")})
    factory = lambda profile, transport, root: ScriptedExecutor(  # noqa: E731
        first_script if profile.name == "bench-b" else Script())
    first = lab(store, factory).run(plan(), devices)
    held_id = first.runs["bench-b"].run_id
    before = [(r.id, r.status) for r in store.jobs(run_id=held_id)]
    held = store.lock_run(held_id)  # another edge-bench is resuming bench-b right now
    try:
        events = []
        second = lab(store, lambda profile, transport, root: ScriptedExecutor(Script()), events).run(plan(), devices, resume=True)
    finally:
        held.release()
    failed = [e for e in events if isinstance(e, DeviceFailed)]
    assert [(e.device, e.run_id) for e in failed] == [("bench-b", held_id)]
    assert "is still running" in failed[0].reason and "\n" not in failed[0].reason
    assert [(r.id, r.status) for r in store.jobs(run_id=held_id)] == before  # nothing written into the live run
    assert store.run(held_id).status == "partial"
    assert second.runs["bench-b"].status == "failed" and second.runs["bench-a"].status == "complete"


def test_devices_on_one_machine_are_refused_unless_allowed_then_marked_concurrent(store):
    local_profile("bench-a")
    script = Script()
    factory = lambda profile, transport, root: ScriptedExecutor(script)  # noqa: E731
    with pytest.raises(ConfigError) as err:
        lab(store, factory, hardware=None).run(plan(), ("local", "bench-a"))  # the real guard: both are this machine
    line = err.value.one_line()
    assert "local and bench-a are one machine (boot_id " in line and "--allow-shared-hardware" in line and "\n" not in line
    assert store.runs() == [] and script.calls == []

    events = []
    outcome = lab(store, factory, events, hardware=None, allow_shared_hardware=True).run(plan(), ("local", "bench-a"))
    assert outcome.status == "complete"
    assert events[0].shared_hardware == {"local": ("bench-a",), "bench-a": ("local",)}
    for device, other in (("local", "bench-a"), ("bench-a", "local")):
        for row in store.jobs(run_id=outcome.runs[device].run_id):
            assert row.record.lab.concurrent_with == (other,) and row.record.lab.concurrent


def test_one_device_is_not_a_lab(store):
    with pytest.raises(ConfigError, match="at least two devices"):
        LabRunner(store).run(plan(), ("local",))


def test_cli_runs_and_show_know_the_lab(devices, capsys):
    from edge_bench.cli import main

    outcome = lab(Store(), lambda profile, transport, root: ScriptedExecutor(Script())).run(plan(), devices[:2])
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert out.count(outcome.lab_id) == 2
    assert main(["show", outcome.lab_id]) == 0
    out = capsys.readouterr().out
    assert f"lab run {outcome.lab_id}: 2 devices (" in out
    assert all(f"{d}: run {outcome.runs[d].run_id}" in out for d in devices[:2])
    assert main(["show", outcome.runs["bench-a"].run_id]) == 0
    assert f"part of lab run {outcome.lab_id}, with bench-b ({outcome.runs['bench-b'].run_id})" in capsys.readouterr().out


def test_cli_refuses_one_machine_twice_in_one_line(capsys):
    from edge_bench.cli import main

    local_profile("bench-a")
    code = main(["run", "--device", "local,bench-a", "--models", MODEL, "--backends", "tflite", "--no-ceilings"])
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if line.startswith("edge-bench: error")]
    assert code == 2 and len(lines) == 1 and "are one machine" in lines[0] and "Traceback" not in err
    assert main(["run", "--device", "local,no-such-device"]) == 2
    assert "no-such-device" in capsys.readouterr().err


def test_lab_serve_checks_each_device_and_advertises_those_that_answer(capsys):
    pytest.importorskip("ray")
    from edge_bench.cli import main

    closed = paths.config_dir() / "devices" / "closed-lab.toml"
    closed.write_text('name = "closed-lab"\ntransport = "ssh"\nbackends = ["tflite"]\n[ssh]\nhost = "127.0.0.1"\nport = 9\n'
                      'connect_timeout = 3\nconfig_file = "none"\n')
    assert main(["lab", "serve", "--address", "127.0.0.1:6390", "--devices", "local,closed-lab", "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert "closed-lab left out of the lab: " in captured.err
    argv = captured.out.strip().splitlines()[-1]
    assert "start --node-ip-address=127.0.0.1" in argv and '--resources={"edge_bench_device:local": 1}' in argv
    assert "--address=127.0.0.1:6390" in argv and "--block" in argv and "--head" not in argv
    assert main(["lab", "serve", "--address", "127.0.0.1:6390", "--devices", "closed-lab", "--dry-run"]) != 0
    assert "nothing to serve" in capsys.readouterr().err
    assert main(["lab", "serve", "--address", "nohost", "--dry-run"]) != 0
    assert "HEAD:PORT" in capsys.readouterr().err


def test_reports_take_a_lab_id_for_its_runs(devices, tmp_path):
    from edge_bench.cli import main

    outcome = lab(Store(), lambda profile, transport, root: ScriptedExecutor(Script())).run(plan(), devices)
    out = tmp_path / "report"
    assert main(["report", "--compare", "bench-a", "bench-b", "--runs", outcome.lab_id, "-f", "json", "-o", str(out)]) == 0
    text = "".join(p.read_text() for p in out.glob("*.json"))
    assert outcome.runs["bench-a"].run_id in text and outcome.runs["bench-b"].run_id in text
    assert outcome.runs["bench-c"].run_id not in text
    assert main(["report", "--device", "bench-c", "--runs", outcome.lab_id[:6], "-f", "json", "-o", str(tmp_path / "c")]) == 0
    assert outcome.runs["bench-c"].run_id in "".join(p.read_text() for p in (tmp_path / "c").glob("*.json"))


def test_cancel_stops_every_device_and_the_lab_is_cancelled(store, devices):
    cancel, started, lock = threading.Event(), set(), threading.Lock()

    class Holding(ScriptedExecutor):
        def run_tower(self, request, cancel_event):
            with lock:
                started.add(self.device)
                if len(started) == len(devices):
                    cancel.set()  # Ctrl-C once every device is inside its first tower
            return super().run_tower(request, cancel_event)

    def factory(profile, transport, root):
        executor = Holding(Script(delay_s=300.0))
        executor.device = profile.name
        return executor

    watchdog = threading.Timer(120.0, cancel.set)  # a device that never reaches its tower fails the test, not hangs it
    watchdog.start()
    try:
        outcome = LabRunner(store, executor_factory=factory, cancel=cancel, hardware=by_name).run(plan(), devices)
    finally:
        watchdog.cancel()
    assert outcome.status == "cancelled" and started == set(devices)
    assert outcome.counts["cancelled"] == 6 and outcome.counts["ok"] == 0  # each device: the job stopped, the next never started
    for device in devices:
        assert store.run(outcome.runs[device].run_id).status == "cancelled"
        assert [r.status for r in store.jobs(run_id=outcome.runs[device].run_id)] == ["cancelled"]


def test_a_lab_address_where_nothing_listens_is_one_line_at_once(capsys):
    import socket

    from edge_bench.cli import main

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["lab", "status", "--address", f"127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err
    assert f"no Ray cluster answers at 127.0.0.1:{port}" in err and len(err.strip().splitlines()) == 1
