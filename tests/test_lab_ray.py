"""A lab across hosts on a real two-node Ray cluster on 127.0.0.1 (each node `edge-bench lab serve`, ended by its pid).

The head serves the local device; the second node (its own edge-bench home) serves a device behind a real sshd
on loopback. Both are this machine, so the timing guard refuses them together unless allowed. Towers are
answered by a scripted executor built in each actor (its transport is opened for real), except in the one test
of real runtimes, where artifacts converted here travel through the object store to the nodes' agents.
"""

from __future__ import annotations

import threading

import pytest
from ray_cluster import free_port, start_node, wait_devices

from edge_bench.agent.spec import Protocol
from edge_bench.errors import ConfigError
from edge_bench.executors.scripted import Script, ScriptedFactory
from edge_bench.runner import RunPlan
from edge_bench.runner.events import JobFinished, RunStarted
from edge_bench.runner.ray_lab import RayLabRunner, connect
from edge_bench.store import Store

pytestmark = pytest.mark.slow
MODELS = ("edgeclip-s-scratch", "edgeclip-s-distilled", "edgeclip-m-scratch")
FAST = Protocol(warmup_min_runs=2, warmup_min_seconds=0.0, min_runs=8, min_seconds=0.0, max_runs=200, max_seconds=5.0)
REMOTE = "loop-ray"


class Lab:
    def __init__(self, root, sshd) -> None:
        self.address = f"127.0.0.1:{free_port()}"
        self.root, self.sshd = root, sshd
        sshd.write_profile(root / "node-b" / "config", REMOTE, backends=["executorch", "tflite"])
        self.head = start_node(root / "head", self.address, ("local",), head=True)
        self.node_b = None
        self.start_b()
        self.ray = connect(self.address)
        wait_devices(self.ray, {"local", REMOTE})

    def start_b(self) -> None:
        self.node_b = start_node(self.root / "node-b", self.address, (REMOTE,))

    def stop(self) -> None:
        import ray

        ray.shutdown()
        for node in (self.node_b, self.head):
            if node is not None:
                node.stop()


@pytest.fixture(scope="module")
def lab(tmp_path_factory, sshd_server):
    cluster = Lab(tmp_path_factory.mktemp("lab"), sshd_server)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "results.sqlite")
    yield s
    s.close()


def plan(**over) -> RunPlan:
    settings = dict(models=MODELS[:1], backends=("tflite",), precisions=("fp32",), n_images=12, gallery_batch=3,
                    protocol=FAST, ceilings=False)
    settings.update(over)
    return RunPlan(**settings)


def test_status_lists_both_nodes_and_their_devices(lab, capsys):
    from edge_bench.cli import main

    assert main(["lab", "status", "--address", lab.address]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if "│ yes " in line]
    assert len(rows) == 2 and "no (lost)" not in out, out
    assert sorted(line.split("│")[4].strip() for line in rows) == ["local", REMOTE]  # each node's own device
    assert all(line.split("│")[5].strip() == "-" for line in rows)  # nothing is running: no device busy


def test_one_machine_refused_then_run_on_both_nodes_records_back_here(lab, store):
    with pytest.raises(ConfigError, match=f"local and {REMOTE} are one machine"):
        RayLabRunner(lab.address, store, executor_factory=ScriptedFactory(Script())).run(plan(), ("local", REMOTE))
    assert store.runs() == []
    with pytest.raises(ConfigError, match="no node of the lab .* owns nowhere"):
        RayLabRunner(lab.address, store).run(plan(), ("local", "nowhere"))

    events = []
    outcome = RayLabRunner(lab.address, store, on_event=events.append, executor_factory=ScriptedFactory(Script()),
                           allow_shared_hardware=True).run(plan(backends=("executorch", "tflite")), ("local", REMOTE))
    assert outcome.status == "complete", [r.error for r in store.jobs()]
    assert outcome.counts == {"ok": 4, "failed": 0, "skipped": 0, "done before": 0, "cancelled": 0}
    runs = store.lab_runs(outcome.lab_id)
    assert sorted(r.device for r in runs) == ["local", REMOTE]
    for row in store.jobs():
        record = row.record
        assert record.tower("image").executor == "scripted" and record.accuracy.recall
        assert record.lab.lab_id == outcome.lab_id and record.lab.concurrent
        assert record.provenance.device.name == row.device
        for path in record.embeddings.values():
            assert path.startswith(str(store.path.parent.parent)) or path  # stored on this host
    assert {e.device for e in events if isinstance(e, RunStarted)} == {"local", REMOTE}


def test_a_node_lost_mid_run_fails_its_jobs_the_other_finishes_resume_completes(lab, store):
    script = Script(delay_s=1.5)
    events, killed = [], threading.Event()
    remote_run = {}

    def on_event(event):
        events.append(event)
        if isinstance(event, RunStarted):
            remote_run[event.device] = event.run_id
        if (isinstance(event, JobFinished) and event.run_id == remote_run.get(REMOTE) and event.status == "ok"
                and not killed.is_set()):
            killed.set()
            threading.Thread(target=lab.node_b.kill).start()  # the host of the remote device is gone

    p = plan(models=MODELS)
    outcome = RayLabRunner(lab.address, store, on_event=on_event, executor_factory=ScriptedFactory(script),
                           allow_shared_hardware=True).run(p, ("local", REMOTE))
    assert killed.is_set()
    assert outcome.runs["local"].status == "complete" and outcome.runs["local"].counts["ok"] == 3
    rows = store.jobs(run_id=outcome.runs[REMOTE].run_id)
    assert [r.status for r in rows] == ["ok", "failed", "failed"]
    assert all(r.error.startswith(f"the lab node of {REMOTE} was lost: ") for r in rows[1:]), [r.error for r in rows]
    assert outcome.status == "partial"

    wait_devices(lab.ray, {"local"}, deadline_s=180)  # the cluster marks the lost node dead (missed heartbeats)
    lab.start_b()  # the host is back
    wait_devices(lab.ray, {"local", REMOTE})
    again = RayLabRunner(lab.address, store, executor_factory=ScriptedFactory(Script()), allow_shared_hardware=True)
    second = again.run(p, ("local", REMOTE), resume=True)
    assert second.lab_id == outcome.lab_id and second.status == "complete", [r.error for r in store.jobs()][-2:]
    assert second.counts == {"ok": 2, "failed": 0, "skipped": 0, "done before": 4, "cancelled": 0}
    rows = store.jobs(run_id=outcome.runs[REMOTE].run_id)
    assert [r.status for r in rows] == ["ok", "failed", "failed", "ok", "ok"]
    ok = [(r.model, r.backend) for r in store.jobs() if r.status == "ok"]
    assert len(ok) == 6 and len(set((r.device, r.model) for r in store.jobs() if r.status == "ok")) == 6  # nothing twice


def test_real_runtimes_artifacts_converted_here_shipped_through_the_object_store(lab, store):
    outcome = RayLabRunner(lab.address, store, allow_shared_hardware=True).run(plan(), ("local", REMOTE))
    assert outcome.status == "complete", [r.error for r in store.jobs()]
    rows = {r.device: r.record for r in store.jobs()}
    for device, record in rows.items():
        assert record.tower("image").executor == "agent" and record.tower("image").latency.n >= FAST.min_runs
        assert "lab-artifacts" in record.artifact.dir  # the node's copy of the shipped set
    assert rows["local"].provenance.artifact["files"] == rows[REMOTE].provenance.artifact["files"]  # one conversion, same files
    assert rows[REMOTE].fidelity.verdict.status == "agrees"


def test_cli_run_on_the_lab(lab, capsys):
    from edge_bench.cli import main

    code = main(["run", "--lab", lab.address, "--device", f"local,{REMOTE}", "--allow-shared-hardware", "-m", MODELS[0],
                 "-b", "tflite", "--n-images", "12", "--gallery-batch", "3", "--no-ceilings", "--warmup-runs", "2",
                 "--warmup-seconds", "0", "--min-runs", "8", "--min-seconds", "0", "--max-seconds", "5"])
    out = capsys.readouterr().out
    assert code == 0, out[-3000:]
    lab_id = next(word for word in out.split() if word.startswith("L") and len(word) == 11)
    runs = Store().lab_runs(lab_id)
    assert sorted(r.device for r in runs) == ["local", REMOTE] and all(r.status == "complete" for r in runs)
    assert f"  {REMOTE}: ok {MODELS[0]} tflite fp32" in out


def test_repeat_and_weights_files_on_the_lab(lab, store, tmp_path):
    from edge_bench.models.builtin import architecture, assemble, default_tokenizer, save_checkpoint
    from edge_bench.models.weights import file_sha256

    tok = default_tokenizer()
    weights = save_checkpoint(assemble(architecture("edgeclip-s", tok), tok, "x", seed=5).eval(),
                              tmp_path / "submitter" / "mine.safetensors", half=False)
    p = plan(models=MODELS[:2], weights={MODELS[0]: str(weights)}, repeat=3)
    outcome = RayLabRunner(lab.address, store, executor_factory=ScriptedFactory(Script()),
                           allow_shared_hardware=True).run(p, ("local", REMOTE))
    assert outcome.status == "complete", [r.error for r in store.jobs()]
    rows = store.jobs()
    assert len(rows) == 4
    for row in rows:
        for tower in ("image", "text"):
            result = row.record.tower(tower)
            assert len(result.repeats) == 3 and result.repeats[0] == result.latency, (row.device, tower)
            assert not any("repeat" in note for note in result.notes)
        model = row.record.provenance.model
        if row.model == MODELS[0]:
            assert (model.weights_status, model.weights_sha256, model.weights_source) == (
                "trained", file_sha256(weights), str(weights))
        else:
            assert model.weights_source != str(weights)
    landed = list((lab.root / "node-b").rglob("lab-weights/*/mine.safetensors"))  # the remote node's own copy
    assert len(landed) == 1 and landed[0].read_bytes() == weights.read_bytes()


def test_a_node_lost_during_the_repeats_keeps_what_its_jobs_measured(lab, store):
    from edge_bench.runner.events import JobStage

    killed, runs = threading.Event(), {}

    def on_event(event):
        if isinstance(event, RunStarted):
            runs[event.device] = event.run_id
        if (isinstance(event, JobStage) and event.run_id == runs.get(REMOTE) and event.stage.startswith("repeat 2/")
                and not killed.is_set()):
            killed.set()
            threading.Thread(target=lab.node_b.kill).start()  # the remote host is gone during its first repeat

    try:
        outcome = RayLabRunner(lab.address, store, on_event=on_event, executor_factory=ScriptedFactory(Script(delay_s=1.0)),
                               allow_shared_hardware=True).run(plan(models=MODELS[:2], repeat=3), ("local", REMOTE))
        assert killed.is_set()
        assert outcome.runs["local"].status == "complete" and outcome.runs[REMOTE].status == "complete"  # both jobs ran
        for row in store.jobs(run_id=outcome.runs["local"].run_id):
            assert len(row.record.tower("image").repeats) == 3
        remote = store.jobs(run_id=outcome.runs[REMOTE].run_id)
        assert [r.status for r in remote] == ["ok", "ok"]
        for row in remote:
            assert 1 <= len(row.record.tower("image").repeats) < 3  # the first run's loops are kept
        notes = remote[-1].record.tower("image").notes  # the round never reached the second job
        assert any(n.startswith(f"repeat 2 failed: the lab node of {REMOTE} was lost: ") for n in notes), notes
    finally:
        if killed.is_set():  # the host is back for the tests after this one
            wait_devices(lab.ray, {"local"}, deadline_s=180)
            lab.start_b()
            wait_devices(lab.ray, {"local", REMOTE})
