"""A lab across hosts: --weights files travel from the submitting host to the device's node, and --repeat rounds
run through the device's actor. The actor is the class Ray runs (`DeviceActor`), built here without Ray, on the
local device with a scripted executor; the same paths on a real two-node cluster are in test_lab_ray.py. The
one-host lab (threads) with both, for comparison, is the last test.
"""

from __future__ import annotations

import pytest

from edge_bench.agent.spec import Protocol
from edge_bench.executors.scripted import Script, ScriptedFactory
from edge_bench.models.builtin import architecture, assemble, default_tokenizer, save_checkpoint
from edge_bench.models.weights import file_sha256
from edge_bench.runner import RunPlan
from edge_bench.runner.job_run import first_repeat
from edge_bench.runner.lab_weights import land_weights, pack_weights
from edge_bench.runner.ray_lab import DeviceActor

MODEL = "edgeclip-s-scratch"
FAST = Protocol(warmup_min_runs=2, warmup_min_seconds=0.0, min_runs=8, min_seconds=0.0, max_runs=200, max_seconds=5.0)


@pytest.fixture
def checkpoint(tmp_path):
    tok = default_tokenizer()
    model = assemble(architecture("edgeclip-s", tok), tok, "x", seed=7).eval()
    return save_checkpoint(model, tmp_path / "host" / "mine.safetensors", half=False)


def plan(**over) -> RunPlan:
    return RunPlan(**{**dict(models=(MODEL,), backends=("tflite",), n_images=12, gallery_batch=3, protocol=FAST,
                             ceilings=False), **over})


def test_packs_land_once_per_sha_and_untrained_needs_no_file(tmp_path, checkpoint):
    packs = pack_weights({MODEL: str(checkpoint), "edgeclip-m-scratch": "untrained"})
    assert set(packs) == {MODEL} and packs[MODEL].sha256 == file_sha256(checkpoint)
    first = land_weights(packs, tmp_path / "node")
    assert first[MODEL].read_bytes() == checkpoint.read_bytes() and first[MODEL].name == "mine.safetensors"
    first[MODEL].write_bytes(b"kept")  # a second landing of the same sha256 writes nothing
    assert land_weights(packs, tmp_path / "node")[MODEL].read_bytes() == b"kept"


def test_the_actor_builds_from_the_shipped_weights_when_the_node_lacks_the_hosts_file(checkpoint):
    p = plan(weights={MODEL: str(checkpoint)})
    packs = pack_weights(p.weights)
    sha = file_sha256(checkpoint)
    checkpoint.unlink()  # the node has no such path: only the shipped copy can be loaded
    actor = DeviceActor(p, ScriptedFactory(Script()), packs)
    try:
        info = actor.describe()
        (job,) = info["jobs"]
        record, _, _ = actor.run(job, "J1", None)
    finally:
        actor.close()
    assert record.status == "ok", record.reason
    model = record.provenance.model
    assert model.weights_status == "trained" and model.weights_sha256 == sha
    assert model.weights_source == str(checkpoint)  # the host's file, as a run on one host records it
    assert record.accuracy.label == "trained"


def test_without_shipped_weights_the_missing_host_file_fails_the_actor(checkpoint):
    p = plan(weights={MODEL: str(checkpoint)})
    checkpoint.unlink()
    actor = DeviceActor(p, ScriptedFactory(Script()))
    try:
        with pytest.raises(Exception, match="weights not found"):
            actor.describe()
    finally:
        actor.close()


def test_a_repeat_round_through_the_actor_adds_each_towers_latency():
    actor = DeviceActor(plan(repeat=3), ScriptedFactory(Script(default_ms=2.0)))
    try:
        (job,) = actor.describe()["jobs"]
        record, _, _ = actor.run(job, "J2", None)
        record = first_repeat(record)
        for round_no in (2, 3):
            record = actor.repeat(job, "J2", record, round_no)
    finally:
        actor.close()
    for tower in ("image", "text"):
        repeats = record.tower(tower).repeats
        assert len(repeats) == 3 and all(r.n >= FAST.min_runs for r in repeats)
        assert repeats[0] == record.tower(tower).latency  # the first run is the first repeat
        assert not any("repeat" in note for note in record.tower(tower).notes)  # no round failed


def test_the_one_host_lab_repeats_and_loads_weights_on_every_device(isolated_home, tmp_path, checkpoint):  # noqa: ARG001  (its own profiles)
    from edge_bench import paths
    from edge_bench.runner.lab import LabRunner
    from edge_bench.store import Store

    for name in ("bench-a", "bench-b"):
        path = paths.config_dir() / "devices" / f"{name}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'name = "{name}"\ntransport = "local"\nthreads = 1\nbackends = ["tflite"]\n')
    store = Store(tmp_path / "results.sqlite")
    try:
        outcome = LabRunner(store, executor_factory=ScriptedFactory(Script()), hardware=lambda p, t: p.name).run(
            plan(repeat=2, weights={MODEL: str(checkpoint)}), ("bench-a", "bench-b"))
        assert outcome.status == "complete"
        rows = store.jobs()
        assert sorted(r.device for r in rows) == ["bench-a", "bench-b"]
        for row in rows:
            assert len(row.record.tower("image").repeats) == 2 and len(row.record.tower("text").repeats) == 2
            assert row.record.provenance.model.weights_sha256 == file_sha256(checkpoint)
    finally:
        store.close()
