"""The runner on a scripted device: planning, storing, failures, resume, cancel, recall and fidelity, bad inputs.

The device is "local" (its real transport is opened for the check and the fingerprint), but every tower is
answered by `ScriptedExecutor`: nothing is converted, no agent starts, latencies are the script's. What needs a
real runtime or a real transport is in test_runner.py.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from helpers import naive_recall

from edge_bench import paths
from edge_bench.agent.spec import Protocol
from edge_bench.devices import load_profile
from edge_bench.errors import ConfigError, DeviceError
from edge_bench.executors.scripted import Script, ScriptedExecutor
from edge_bench.records.job import Failure, JobRecord
from edge_bench.records.tower import TowerResult
from edge_bench.runner import RunPlan, Runner
from edge_bench.runner.events import JobFinished, JobStage, JobStarted, RunStarted
from edge_bench.store import Store

MODEL = "edgeclip-s-scratch"
N_IMAGES = 40
N_CAPTIONS = 5 * N_IMAGES
FAST = Protocol(warmup_min_runs=2, warmup_min_seconds=0.0, min_runs=8, min_seconds=0.0, max_runs=200, max_seconds=5.0)
NOT_LISTED = "the device profile does not list coreml (it runs executorch, tflite)"


def plan(device: str = "local", **over) -> RunPlan:
    settings = dict(device=device, models=(MODEL,), backends=("executorch", "tflite"), precisions=("fp32",),
                    n_images=N_IMAGES, gallery_batch=4, protocol=FAST)
    settings.update(over)
    return RunPlan(**settings)


def scripted(store: Store, script: Script, **kwargs) -> Runner:
    return Runner(store, executor_factory=lambda profile, transport, local_root: ScriptedExecutor(script), **kwargs)


def towers(model: str, backend: str, precision: str) -> list[tuple[str, str, str, str]]:
    return [(model, backend, precision, tower) for tower in ("image", "text")]


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "results.sqlite")
    yield s
    s.close()


# --- planning and storing ------------------------------------------------------------------------------


def test_plan_runs_and_stores_one_typed_record_per_job(store):
    latency = {(MODEL, "executorch", "fp32", "image"): 3.0, (MODEL, "executorch", "fp32", "text"): 1.25,
               (MODEL, "tflite", "fp32", "image"): 2.5, (MODEL, "tflite", "fp32", "text"): 0.75,
               (MODEL, "tflite", "fp16", "image"): 1.5, (MODEL, "tflite", "fp16", "text"): 0.5}
    script = Script(latency_ms=latency, runs=21)
    events = []
    p = plan(backends=("executorch", "coreml", "tflite"), precisions=("fp32", "fp16"))
    outcome = scripted(store, script, on_event=events.append).run(p)

    assert outcome.status == "complete"
    assert outcome.counts == {"ok": 3, "failed": 0, "skipped": 3, "done before": 0, "cancelled": 0}
    expected = [("executorch", "fp32", None), ("executorch", "fp16", "executorch offers fp32, int8-dynamic, int8, not fp16"),
                ("coreml", "fp32", NOT_LISTED), ("coreml", "fp16", NOT_LISTED), ("tflite", "fp32", None), ("tflite", "fp16", None)]
    # events: the run, then per job its start, its stages (skipped jobs have none) and its end, then the run's end
    started = events[0]
    assert isinstance(started, RunStarted) and started.run_id == outcome.run_id and started.device == "local"
    assert [(j.backend, j.precision, j.skip) for j in started.jobs] == expected
    assert (started.resumed, started.already_done) == (False, ())
    flow = [(type(e).__name__, getattr(e, "stage", None) or getattr(e, "status", None)) for e in events[1:]]
    ran = [("JobStarted", None), ("JobStage", "convert"), ("JobStage", "push"), ("JobStage", "image"),
           ("JobStage", "text"), ("JobStage", "recall"), ("JobFinished", "ok")]
    skipped = [("JobStarted", None), ("JobFinished", "skipped")]
    assert flow == ran + skipped * 3 + ran * 2 + [("RunFinished", "complete")]
    assert [(e.index, e.total) for e in events if isinstance(e, JobStarted)] == [(i, 6) for i in range(6)]
    assert events[-1].counts == outcome.counts and all(e.run_id == outcome.run_id for e in events)
    assert script.calls == towers(MODEL, "executorch", "fp32") + towers(MODEL, "tflite", "fp32") + towers(MODEL, "tflite", "fp16")

    # one row per job, in plan order, each a typed record
    rows = store.jobs(run_id=outcome.run_id)
    assert [(r.backend, r.precision, r.status, r.error) for r in rows] == [
        (b, p_, "skipped" if why else "ok", why) for b, p_, why in expected]
    assert outcome.job_rows == [r.id for r in rows]
    assert store.run(outcome.run_id).status == "complete"
    finished = {(e.job.backend, e.job.precision): e for e in events if isinstance(e, JobFinished)}
    profile = load_profile("local")
    for row in rows:
        record = row.record
        assert isinstance(record, JobRecord) and record.schema == 2
        job = record.job
        assert (job.model, job.backend, job.precision, job.device, job.dataset) == (MODEL, row.backend, row.precision, "local", "synthetic")
        assert job.key == row.job_key and finished[(row.backend, row.precision)].job_row_id == row.id
        if row.status == "skipped":
            assert record.failure == Failure(None, row.error) and record.towers == {} and record.accuracy is None
            continue
        assert (job.n_images, job.n_captions, job.gallery_batch, job.protocol) == (N_IMAGES, N_CAPTIONS, 4, FAST)
        assert (job.threads, job.affinity, job.peak_gflops) == (profile.threads, tuple(profile.affinity), profile.peak_gflops)
        assert record.failure is None and record.phase == "done"
        for tower, n_items in (("image", N_IMAGES), ("text", N_CAPTIONS)):
            t = record.towers[tower]
            median_s = latency[(MODEL, row.backend, row.precision, tower)] / 1e3
            assert t.latency.median == median_s  # the scripted median, exactly
            assert t.latency.n == 21 and len(t.latency.samples) == 21
            assert max(t.latency.samples) <= median_s * 1.02 and min(t.latency.samples) >= median_s * 0.98
            assert t.first_inference_s == 2 * median_s and t.latency.first == 2 * median_s
            assert t.executor == "scripted" and t.status == "ok"
            assert (t.gallery.batch, t.gallery.n_items) == (4, n_items)
            assert t.memory.peak_rss_bytes == script.peak_rss_bytes and t.memory.rss_before_load_bytes == script.baseline_rss_bytes
            assert record.peak_bytes() == script.peak_rss_bytes
            flops = 1e6 if tower == "image" else 4e5  # the scripted manifest's
            assert t.flops == flops and t.achieved_gflops == pytest.approx(flops / median_s / 1e9, rel=1e-12)
            assert t.peak_share == pytest.approx(t.achieved_gflops / profile.peak_gflops, rel=1e-12)
            assert t.runtime.name == "scripted" and t.runtime.threads_applied == profile.threads
            assert record.median_ms(tower) == pytest.approx(median_s * 1e3, rel=1e-12)
        summary = finished[(row.backend, row.precision)].summary
        assert summary["image_ms"] == record.median_ms("image") and summary["text_ms"] == record.median_ms("text")
        assert summary["t2i_r1"] == record.recall("image", 1) and summary["i2t_r1"] == record.recall("text", 1)
        assert record.accuracy.label == "trained" and record.accuracy.source == "device embeddings"
        assert set(record.embeddings) == {"image", "text"}
        assert record.provenance.device.name == "local" and record.provenance.device.fingerprint["machine"]
        assert record.artifact.size_bytes["image"] > 0 and record.provenance.model.name == MODEL


def test_skips_are_recorded_with_reasons(store):
    script = Script()
    outcome = scripted(store, script).run(plan(backends=("coreml",), precisions=("fp32",)))
    (row,) = store.jobs(run_id=outcome.run_id)
    assert (row.status, row.error, row.record.reason) == ("skipped", NOT_LISTED, NOT_LISTED)
    assert outcome.status == "complete" and outcome.counts["skipped"] == 1 and script.calls == []


# --- failures, resume, cancel ---------------------------------------------------------------------------

BROKEN = {(MODEL, "executorch", "fp32", "text"): ("timed", "runner crashed")}


def test_a_failed_tower_fails_only_its_job(store):
    events = []
    script = Script(fail=BROKEN)
    outcome = scripted(store, script, on_event=events.append).run(plan())
    assert outcome.status == "partial" and store.run(outcome.run_id).status == "partial"
    assert outcome.counts == {"ok": 1, "failed": 1, "skipped": 0, "done before": 0, "cancelled": 0}
    by = {r.backend: r for r in store.jobs(run_id=outcome.run_id)}
    failed = by["executorch"]
    assert (failed.status, failed.error) == ("failed", "text tower failed in timed: runner crashed")
    record = failed.record
    assert record.failure == Failure("timed", "text tower failed in timed: runner crashed")
    assert set(record.towers) == {"image"} and record.towers["image"].ok  # what was measured before the failure is kept
    assert record.accuracy is None and record.embeddings == {}
    assert [(e.job.backend, e.status, e.reason) for e in events if isinstance(e, JobFinished)] == [
        ("executorch", "failed", "text tower failed in timed: runner crashed"), ("tflite", "ok", None)]
    assert by["tflite"].status == "ok" and by["tflite"].record.accuracy is not None  # the run went on
    assert script.calls == towers(MODEL, "executorch", "fp32") + towers(MODEL, "tflite", "fp32")


def test_resume_runs_only_what_is_missing(store):
    p = plan(backends=("executorch", "coreml", "tflite"))
    first = scripted(store, Script(fail=BROKEN)).run(p)
    assert first.status == "partial"
    keys = {r.backend: r.job_key for r in store.jobs(run_id=first.run_id)}

    events = []
    again = Script()
    second = scripted(store, again, on_event=events.append).run(p, resume=True)
    assert second.run_id == first.run_id and second.status == "complete"
    assert second.counts == {"ok": 1, "failed": 0, "skipped": 0, "done before": 2, "cancelled": 0}
    assert again.calls == towers(MODEL, "executorch", "fp32")  # only the failed job ran again
    assert events[0].resumed and set(events[0].already_done) == {keys["coreml"], keys["tflite"]}
    rows = store.jobs(run_id=first.run_id)
    assert [(r.backend, r.status) for r in rows] == [("executorch", "failed"), ("coreml", "skipped"), ("tflite", "ok"),
                                                      ("executorch", "ok")]  # the failure is kept, nothing duplicated
    assert store.run(first.run_id).status == "complete"

    third = Script()
    done = scripted(store, third).run(p, resume=True)
    assert (done.run_id, done.status) == (first.run_id, "complete")
    assert done.counts == {"ok": 0, "failed": 0, "skipped": 0, "done before": 3, "cancelled": 0}
    assert third.calls == [] and len(store.jobs(run_id=first.run_id)) == 4

    # without --resume the same plan is a new run that measures everything
    fresh = Script()
    new = scripted(store, fresh).run(p)
    assert new.run_id != first.run_id and new.counts["ok"] == 2
    assert fresh.calls == towers(MODEL, "executorch", "fp32") + towers(MODEL, "tflite", "fp32")


def test_cancel_during_a_tower_stops_it_and_records_the_job_as_cancelled(store):
    cancel = threading.Event()
    script = Script(delay_s=300.0)  # each tower would hold for five minutes
    marks = {}

    def cancel_once_the_tower_runs():
        deadline = time.monotonic() + 120
        while not script.calls and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
        marks["cancel"] = time.monotonic()
        cancel.set()

    def on_event(event):
        if isinstance(event, JobFinished):
            marks["finished"] = time.monotonic()

    canceller = threading.Thread(target=cancel_once_the_tower_runs, daemon=True)
    canceller.start()
    outcome = scripted(store, script, on_event=on_event, cancel=cancel).run(plan())
    canceller.join(5)
    assert outcome.status == "cancelled" and store.run(outcome.run_id).status == "cancelled"
    assert marks["finished"] - marks["cancel"] < 10  # the tower stopped at the cancel, not after its 300 s
    assert outcome.counts == {"ok": 0, "failed": 0, "skipped": 0, "done before": 0, "cancelled": 2}  # this job, and the one never started
    (row,) = store.jobs(run_id=outcome.run_id)
    assert (row.backend, row.status, row.error) == ("executorch", "cancelled", "cancelled during the image tower")
    assert row.record.failure == Failure("timed", "cancelled during the image tower")
    assert row.record.towers == {"image": TowerResult(status="cancelled", partial={"latency_s": [], "memory": {}})}
    assert script.calls == [(MODEL, "executorch", "fp32", "image")]


def test_a_ctrl_c_swallowed_during_the_last_job_still_ends_the_run_cancelled(store):
    """A toolchain ate the KeyboardInterrupt, so the last job finished; the cancel flag it set still cancels the run."""
    from edge_bench.cli.checks import exit_code

    cancel = threading.Event()

    def on_event(event):
        if isinstance(event, JobStage) and event.stage == "recall":  # the towers are done: nothing checks the flag any more
            cancel.set()  # what edge_bench.cli.interrupts does on SIGINT, before the toolchain swallows the exception

    outcome = scripted(store, Script(), on_event=on_event, cancel=cancel).run(plan(backends=("tflite",)))
    assert outcome.counts["ok"] == 1  # the job itself finished and is kept
    assert outcome.status == "cancelled" and store.run(outcome.run_id).status == "cancelled"
    assert exit_code(outcome) == 130


def test_cancel_between_towers_keeps_the_finished_tower(store):
    cancel = threading.Event()
    script = Script()

    def on_event(event):
        if isinstance(event, JobStage) and event.stage == "image":
            cancel.set()  # the image tower still runs (it has no delay); the text tower never starts

    outcome = scripted(store, script, on_event=on_event, cancel=cancel).run(plan())
    assert outcome.status == "cancelled" and outcome.counts["cancelled"] == 2
    (row,) = store.jobs(run_id=outcome.run_id)
    assert (row.status, row.error, row.record.phase) == ("cancelled", "cancelled before the text tower", "text")
    assert set(row.record.towers) == {"image"} and row.record.towers["image"].ok
    assert script.calls == [(MODEL, "executorch", "fp32", "image")]


# --- recall and fidelity from the stored embeddings -----------------------------------------------------


def same_recall(got: dict[str, float], expected: dict[str, float]) -> None:
    """The same metrics with the same hit counts: equal once rounded to float32.

    (Different hit counts differ by at least 1/n_queries, far above float32's rounding; the equality holds whether
    the library averages hits in float64 or, as CLIP_benchmark does, in float32.)
    """
    assert set(got) == set(expected)
    per_k = [k for k in expected if k != "mean_recall"]
    assert {k: np.float32(got[k]) for k in per_k} == {k: np.float32(expected[k]) for k in per_k}
    assert got["mean_recall"] == pytest.approx(float(np.mean([got[k] for k in per_k])), abs=1e-15)


def closest_call(images: np.ndarray, texts: np.ndarray, owner: np.ndarray) -> float:
    """The smallest score gap between a query's best correct item and any wrong one (both directions)."""
    scores = texts @ images.T
    gaps = []
    for s, positive in ((scores, owner[:, None] == np.arange(len(images))[None, :]),
                        (scores.T, np.arange(len(images))[:, None] == owner[None, :])):
        best = np.where(positive, s, -np.inf).max(axis=1, keepdims=True)
        gaps.append(np.abs(np.where(positive, np.inf, s - best)).min())
    return float(min(gaps))


def eager_embeddings(ds) -> tuple[np.ndarray, np.ndarray]:
    """fp32 PyTorch eager, straight through the model's encoders (float64 out)."""
    import torch

    from edge_bench.data.preprocess import normalize, preprocess_images
    from edge_bench.models import create_model

    model = create_model(MODEL)
    pixels = normalize(preprocess_images(ds, model.preprocess), model.preprocess.mean, model.preprocess.std)
    with torch.inference_mode():
        images = model.image_encoder(torch.from_numpy(pixels)).double().numpy()
        texts = model.text_encoder(torch.from_numpy(model.tokenizer(ds.captions))).double().numpy()
    return images, texts


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a.astype(np.float64), b.astype(np.float64)
    return (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)


def test_recall_and_fidelity_follow_from_the_stored_embeddings(store):
    from edge_bench.data import load_dataset

    outcome = scripted(store, Script()).run(plan(backends=("tflite",), precisions=("fp32", "int8")))
    assert outcome.status == "complete"
    ds = load_dataset("synthetic", "test", n_images=N_IMAGES)
    owner = np.asarray(ds.caption_image)
    eager = dict(zip(("image", "text"), eager_embeddings(ds)))
    reference = naive_recall(eager["image"], eager["text"], owner)
    by = {r.precision: r.record for r in store.jobs(run_id=outcome.run_id)}
    assert set(by) == {"fp32", "int8"}
    for precision, record in by.items():
        stored = {t: np.load(record.embeddings[t]) for t in ("image", "text")}
        assert stored["image"].shape == (N_IMAGES, eager["image"].shape[1]) and stored["text"].shape == (N_CAPTIONS, eager["text"].shape[1])
        images, texts = (stored[t].astype(np.float64) for t in ("image", "text"))
        assert closest_call(images, texts, owner) > 1e-4, "near-tie: recall would depend on float rounding"
        same_recall(record.accuracy.recall, naive_recall(images, texts, owner))
        same_recall(record.accuracy.reference, reference)  # fp32 PyTorch eager on the host
        for tower in ("image", "text"):
            cos = cosines(stored[tower], eager[tower])
            fidelity = record.fidelity.vs_fp32_pytorch[tower]
            assert fidelity.n == len(cos)
            assert fidelity.cosine_mean == pytest.approx(cos.mean(), abs=1e-6)
            assert fidelity.cosine_min == pytest.approx(cos.min(), abs=1e-6)
            if precision == "fp32":  # the scripted fp32 device returns the fp32 embeddings
                assert fidelity.cosine_mean == pytest.approx(1.0, abs=1e-12)
                assert fidelity.cosine_min == pytest.approx(1.0, abs=1e-12) and fidelity.max_abs_diff < 1e-6
            else:  # int8 is perturbed: below 1, as a quantised artifact is
                assert fidelity.cosine_min < 0.9999
        assert record.fidelity.verdict.status == "not checked"  # the local device is the host itself
    same_recall(by["fp32"].accuracy.recall, reference)
    assert by["int8"].accuracy.recall != by["fp32"].accuracy.recall  # the perturbation changes the rankings
    assert by["int8"].fidelity.worst_mean_cosine() < by["fp32"].fidelity.worst_mean_cosine()


# --- bad inputs --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("over, message", [
    ({"precisions": ("int3",)}, "unknown precision 'int3'"),
    ({"backends": ("onnx",)}, "onnx"),
])
def test_bad_plans_are_config_errors_and_record_nothing(store, over, message):
    script = Script()
    with pytest.raises(ConfigError) as err:
        scripted(store, script).run(plan(**over))
    assert message in err.value.one_line()
    assert store.runs() == [] and script.calls == []


def test_unknown_device_and_unreachable_host(store, tmp_path):
    with pytest.raises(ConfigError, match="no-such-device"):
        Runner(store).run(plan("no-such-device"))
    profile = paths.config_dir() / "devices" / "closed-port.toml"
    profile.parent.mkdir(parents=True, exist_ok=True)
    profile.write_text('name = "closed-port"\ntransport = "ssh"\nbackends = ["tflite"]\n[ssh]\nhost = "127.0.0.1"\nport = 9\n'
                       'connect_timeout = 3\nconfig_file = "none"\n')
    with pytest.raises(DeviceError):
        Runner(store).run(plan("closed-port"))
    assert store.runs() == []  # nothing was half-recorded


def test_misspelt_profile_key_is_a_config_error(store):
    profile = paths.config_dir() / "devices" / "typo.toml"
    profile.parent.mkdir(parents=True, exist_ok=True)
    profile.write_text('name = "typo"\ntransport = "local"\nbackend = ["tflite"]\n')
    with pytest.raises(ConfigError) as err:
        Runner(store).run(plan("typo"))
    assert "unknown key 'backend'" in err.value.one_line() and "backends" in err.value.one_line()


@pytest.mark.parametrize("args, message", [
    (["run", "--device", "no-such-device"], "no-such-device"),
    (["run", "--backends", "onnx"], "onnx"),
    (["run", "--precisions", "int3", "--backends", "tflite"], "int3"),
    (["show", "r-nope"], "no run"),
    (["run", "--models", "edgeclip-s-scratch", "--weights", "edgeclip-s-scrach=untrained"], "edgeclip-s-scrach"),
    (["run", "--models", "edgeclip-s-scratch", "--weights", "edgeclip-s-scratch=/no/such.safetensors"], "no such file"),
])
def test_cli_errors_are_one_line(args, message, capsys):
    from edge_bench.cli import main

    code = main(args)
    err = capsys.readouterr().err
    assert code != 0
    lines = [line for line in err.strip().splitlines() if line.startswith("edge-bench: error")]
    assert len(lines) == 1 and message in lines[0], err[-2000:]
    assert "Traceback" not in err
