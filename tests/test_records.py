"""The typed job record: its JSON codec, the schema-1 upgrade, the selection rule, and a store written before it.

`tests/fixtures/store-v1/results.sqlite` was written by edge-bench 0.1.0 (schema-1 dict rows): the CLI's readers
must show it as they showed it then. Expected values are read from the fixture's raw JSON with sqlite3, never
through the code under test. The fixture is only ever copied (sqlite would write -wal/-shm files beside it).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from edge_bench.agent.spec import Protocol
from edge_bench.records.codec import decode, encode
from edge_bench.records.job import (HOST_COMPUTED, Accuracy, ArtifactInfo, CosineStats, DeviceProvenance, Failure,
                                    Fidelity, JobIdentity, JobRecord, ModelProvenance, Provenance, Verdict)
from edge_bench.records.tower import (NO_TOWER, Gallery, LatencyStats, Loop, Memory, RuntimeInfo, Thermal,
                                      TowerResult)
from edge_bench.records.upgrade import SCHEMA_VERSION, upgrade

FIXTURE = Path(__file__).parent / "fixtures" / "store-v1" / "results.sqlite"
RUN_OK, RUN_SKIPPED = "r10bbf18122", "r194d7460c5"
RECALL = {"image_retrieval_recall@1": 0.4, "image_retrieval_recall@5": 0.8, "image_retrieval_recall@10": 0.95,
          "text_retrieval_recall@1": 0.5, "text_retrieval_recall@5": 0.85, "text_retrieval_recall@10": 1.0,
          "mean_recall": 0.75}


# --- the JSON codec ----------------------------------------------------------------------------------


def full_record() -> JobRecord:
    """A record with every field away from its default."""
    image = TowerResult(
        status="ok",
        latency=LatencyStats(n=3, median=0.002, mean=0.0021, sd=0.00025, p90=0.0023, p99=0.00239, min=0.0019,
                             max=0.0024, mad=0.0001, outliers=(2,), first=0.01, slow_first_run=True,
                             samples=(0.0019, 0.002, 0.0024)),
        notes=("1 statistical outlier(s) of 3 runs (MAD)", "slow first run: 10.00 ms vs median 2.00 ms"),
        load_s=0.05, first_inference_s=0.01,
        warmup=Loop(n=5, seconds=0.011, capped_by="max_runs", complete=False),
        timed=Loop(n=3, seconds=0.0063, capped_by=None, complete=True),
        gallery=Gallery(batch=8, n_items=40, items_per_s=812.5, wall_s=0.049, load_s=0.03,
                        batch_latency=LatencyStats(n=2, median=0.0098, samples=(0.0097, 0.0099))),
        memory=Memory(rss_start_bytes=30_000_000, rss_before_load_bytes=46_000_000, rss_after_load_bytes=54_000_000,
                      peak_rss_bytes=56_446_976, peak_rss_source="VmHWM", pss_end_bytes=38_000_000,
                      extra={"units": "bytes", "gallery_rss_after_load_bytes": 55_824_384}),
        thermal=Thermal(before={"zone0": 45.5}, after={"zone0": 47.0}, governor="schedutil", throttled="0x0",
                        freq_khz={"before": {"cpu0": 2400000}}, extra={"absent": ["zone1"]}),
        runtime=RuntimeInfo(backend="tflite", name="ai-edge-litert", module="ai_edge_litert.interpreter",
                            version="2.3.0", threads_applied=4, timed_region="interpreter.invoke()"),
        flops=58_655_744.0, achieved_gflops=29.3, peak_share=0.19, executor="agent",
        agent={"agent_version": "0b2221e5", "affinity_applied": [2, 3], "sha256_verified": True},
    )
    text = TowerResult(status="failed", executor="native", native={"protocol_deviations": ["warm-up by runs only"]},
                       partial={"latency_s": [0.001, 0.0011], "memory": {"peak_rss_bytes": 900}, "load_s": 0.01})
    return JobRecord(
        job=JobIdentity(key="9dfa0517c8d806a5", model="edgeclip-s-scratch", backend="tflite", precision="int8",
                        device="rpi5", dataset="flickr30k", split="test", n_images=40, n_captions=200, threads=4,
                        affinity=(2, 3), gallery_batch=8, protocol=Protocol(2, 0.0, 8, 0.5, 100, 5.0), peak_gflops=153.6),
        status="failed",
        failure=Failure(phase="timed", reason="text tower failed in timed: runner crashed"),
        towers={"image": image, "text": text},
        accuracy=Accuracy(recall=RECALL, reference={**RECALL, "image_retrieval_recall@1": 0.45}, label="untrained",
                          source=HOST_COMPUTED, ties={"image_retrieval_recall@1": {"queries": 2, "optimistic": 0.41}}),
        fidelity=Fidelity(vs_fp32_pytorch={"image": CosineStats(0.991, 0.97, 0.975, 0.012, 40, None)},
                          vs_host_artifact={"text": CosineStats(n=0, error="shape [1, 256] vs reference [2, 256]")},
                          verdict=Verdict("DISAGREES", 0.97, 0.999, "not comparable")),
        artifact=ArtifactInfo(dir="/cache/artifacts/x", size_bytes={"image": 1885080, "text": 1793324},
                              flops={"image": 58_655_744.0}, parity={"image": {"cosine_min": 0.9991, "status": "ok"}}),
        embeddings={"image": "/cache/runs/j/embeddings/image.npy"},
        provenance=Provenance(
            edge_bench_version="0.2.0",
            model=ModelProvenance("edgeclip-s-scratch", "edgeclip", "trained", "3ade9bab", "/w/s.safetensors"),
            artifact={"backend": "tflite", "precision": "int8", "files": {"image": [{"file": "image-b1.tflite", "batch": 1}]}},
            converter_versions={"torch": "2.13.0+cpu"},
            device=DeviceProvenance("rpi5", {"machine": "aarch64", "cpu": {"cores": 4, "model": "Cortex-A76"}}),
            host={"machine": "x86_64"}),
    )


def test_json_round_trip_gives_back_the_input_values():
    record = full_record()
    data = json.loads(json.dumps(record.to_json()))  # what the store keeps
    # the JSON holds the values given, in plain JSON types
    assert data["schema"] == SCHEMA_VERSION == 2
    assert data["status"] == "failed" and data["failure"] == {"phase": "timed", "reason": "text tower failed in timed: runner crashed"}
    assert data["job"]["affinity"] == [2, 3] and data["job"]["n_images"] == 40 and data["job"]["dataset"] == "flickr30k"
    assert data["job"]["protocol"] == {"warmup_min_runs": 2, "warmup_min_seconds": 0.0, "min_runs": 8, "min_seconds": 0.5,
                                       "max_runs": 100, "max_seconds": 5.0}
    image = data["towers"]["image"]
    assert image["latency"]["samples"] == [0.0019, 0.002, 0.0024] and image["latency"]["outliers"] == [2]
    assert image["latency"]["median"] == 0.002 and image["latency"]["first"] == 0.01
    gallery = dict(image["gallery"])
    batches = gallery.pop("batch_latency")
    assert gallery == {"batch": 8, "n_items": 40, "items_per_s": 812.5, "wall_s": 0.049, "load_s": 0.03}
    assert (batches["n"], batches["median"], batches["samples"], batches["mean"]) == (2, 0.0098, [0.0097, 0.0099], None)
    assert image["memory"]["peak_rss_bytes"] == 56_446_976 and image["memory"]["extra"] == {
        "units": "bytes", "gallery_rss_after_load_bytes": 55_824_384}
    assert image["warmup"] == {"n": 5, "seconds": 0.011, "capped_by": "max_runs", "complete": False}
    assert image["notes"] == ["1 statistical outlier(s) of 3 runs (MAD)", "slow first run: 10.00 ms vs median 2.00 ms"]
    assert data["towers"]["text"]["partial"] == {"latency_s": [0.001, 0.0011], "memory": {"peak_rss_bytes": 900}, "load_s": 0.01}
    assert data["accuracy"]["recall"] == RECALL and data["accuracy"]["source"] == HOST_COMPUTED
    assert data["fidelity"]["vs_fp32_pytorch"]["image"] == {"cosine_mean": 0.991, "cosine_min": 0.97, "cosine_p01": 0.975,
                                                            "max_abs_diff": 0.012, "n": 40, "error": None}
    assert data["fidelity"]["verdict"] == {"status": "DISAGREES", "worst_cosine": 0.97, "threshold": 0.999,
                                           "message": "not comparable"}
    assert data["provenance"]["device"] == {"name": "rpi5", "fingerprint": {"machine": "aarch64",
                                                                            "cpu": {"cores": 4, "model": "Cortex-A76"}}}
    # and reading it gives back exactly the record that was written (every field, types included)
    back = JobRecord.from_json(data)
    assert back == record
    assert isinstance(back.job.affinity, tuple) and isinstance(back.towers["image"].latency.samples, tuple)
    assert isinstance(back.job.protocol, Protocol) and isinstance(back.towers["text"], TowerResult)


def test_accessors_read_the_figures():
    record = full_record()
    assert record.median_ms("image") == pytest.approx(2.0, rel=1e-15)
    assert record.median_ms("text") is None and record.median_ms("audio") is None
    assert record.items_per_s("image") == 812.5 and record.items_per_s("text") is None
    assert record.recall("image", 1) == 0.4 and record.recall("text", 10) == 1.0 and record.recall("image", 2) is None
    assert record.metrics == RECALL
    assert record.peak_bytes() == 56_446_976  # the text tower stopped before measuring memory
    assert record.load_s() == 0.05
    assert record.artifact_bytes("text") == 1793324
    assert (record.reason, record.phase, record.ok) == ("text tower failed in timed: runner crashed", "timed", False)
    assert record.untrained and record.host_recall and record.disagrees
    assert record.label == "edgeclip-s-scratch tflite int8"
    assert record.tower("audio") is NO_TOWER and not NO_TOWER.ok
    assert record.fidelity.worst_mean_cosine() == 0.991
    assert record.towers["image"].memory.peak_bytes == 56_446_976
    assert Memory(pss_end_bytes=7).peak_bytes == 7  # no VmHWM (Android): the PSS at the end
    assert record.towers["image"].thermal.hottest_after == 47.0
    assert record.towers["image"].runtime.label == "ai-edge-litert 2.3.0"
    ok = JobRecord(status="ok")
    assert (ok.reason, ok.phase) == (None, "done")
    stopped = ok.failed("cancelled", "image", "cancelled\n during  the image tower")
    assert (stopped.status, stopped.failure) == ("cancelled", Failure("image", "cancelled during the image tower"))


def test_missing_keys_take_the_defaults():
    assert JobRecord.from_json({"schema": 2, "status": "ok"}) == JobRecord()
    assert JobRecord.from_json({"schema": 2, "status": "ok", "job": {"model": "m"},
                                "towers": {"image": {"latency": {"median": 0.001}}}}) == \
        JobRecord(job=JobIdentity(model="m"), towers={"image": TowerResult(latency=LatencyStats(median=0.001))})


@pytest.mark.parametrize("status", [None, "", "done", 3])
def test_a_record_without_a_valid_status_never_reads_as_ok(status):
    data = {"schema": 2, "job": {"model": "m"}} if status is None else {"schema": 2, "job": {"model": "m"}, "status": status}
    record = JobRecord.from_json(data)
    assert record.status == "failed" and not record.ok
    assert record.reason == f"the stored record has no valid status ({data.get('status')!r})"
    tower = decode(TowerResult, {"gallery": {"batch": 4}})
    assert tower.gallery == Gallery(batch=4) and tower.latency == LatencyStats() and tower.status == "ok"
    assert tower.latency.n == 0 and tower.latency.samples == () and tower.memory.extra == {}
    assert decode(JobIdentity, {}).protocol == Protocol()


def test_unknown_keys_are_dropped():
    data = {"schema": 2, "status": "ok", "from_a_newer_writer": {"x": 1},
            "job": {"model": "m", "new_axis": "npu"},
            "towers": {"image": {"latency": {"median": 0.001, "p999": 0.5}, "energy_j": 3.0}}}
    record = JobRecord.from_json(data)
    assert record == JobRecord(job=JobIdentity(model="m"), towers={"image": TowerResult(latency=LatencyStats(median=0.001))})
    out = record.to_json()
    assert "from_a_newer_writer" not in out and "new_axis" not in out["job"] and "energy_j" not in out["towers"]["image"]
    # a newer schema is read as far as this version understands it (not 'upgraded' down)
    assert JobRecord.from_json({**data, "schema": 3}).schema == 3


def test_nulls():
    # where the type admits None, None is kept
    record = JobRecord.from_json({"schema": 2, "status": "ok", "accuracy": None, "failure": None,
                                  "job": {"n_images": None, "peak_gflops": None},
                                  "towers": {"image": {"latency": {"median": None, "first": None}, "load_s": None}}})
    assert record.accuracy is None and record.failure is None and record.fidelity is None
    assert record.job.n_images is None and record.job.peak_gflops is None
    assert record.towers["image"].latency.median is None and record.towers["image"].load_s is None
    # where it does not, a null takes the field's default
    tower = decode(TowerResult, {"latency": None, "notes": None, "memory": {"extra": None}, "agent": None,
                                 "gallery": {"batch_latency": {"n": None, "samples": None, "outliers": None}}})
    assert tower == TowerResult()
    assert decode(CosineStats, {"n": None, "cosine_min": None}) == CosineStats()
    assert JobRecord.from_json({"schema": 2, "status": "ok", "towers": None, "embeddings": None}) == JobRecord()
    assert decode(JobIdentity, {"model": None}).model == ""


def test_tuples_and_plain_values():
    # typed tuples: lists (JSON) or tuples in, tuples back; always lists out
    stats = decode(LatencyStats, {"samples": [0.1, 0.2], "outliers": (1,)})
    assert stats.samples == (0.1, 0.2) and stats.outliers == (1,)
    assert encode(stats)["samples"] == [0.1, 0.2] and encode(stats)["outliers"] == [1]
    assert decode(JobIdentity, {"affinity": "0-3"}).affinity == ()  # not a list: the default
    # untyped (Any) values are kept as JSON has them: a tuple written there reads back as a list
    tower = TowerResult(agent={"affinity_applied": (0, 1)})
    assert JobRecord.from_json(json.loads(json.dumps(JobRecord(towers={"t": tower}).to_json()))).towers["t"].agent == \
        {"affinity_applied": [0, 1]}
    # numbers: ints read as floats where a float is declared, integral floats as ints; bools are not numbers
    assert decode(Gallery, {"batch": 8.0, "items_per_s": 812, "wall_s": True}) == Gallery(batch=8, items_per_s=812.0)
    assert isinstance(decode(Gallery, {"items_per_s": 812}).items_per_s, float)
    # numpy scalars and paths become plain JSON values
    assert encode({"a": np.float32(1.5), "b": np.int64(3), "c": Path("/x/y.npy")}) == {"a": 1.5, "b": 3, "c": "/x/y.npy"}
    assert type(encode(np.int64(3))) is int


# --- the schema-1 upgrade ------------------------------------------------------------------------------

PROTOCOL_V1 = {"warmup_min_runs": 2, "warmup_min_seconds": 0.0, "min_runs": 6, "min_seconds": 0.0, "max_runs": 2000,
               "max_seconds": 30.0}
JOB_V1 = {"key": "f1c8a914aefbd11e", "model": "edgeclip-s-scratch", "backend": "tflite", "precision": "fp32",
          "device": "pixel-8", "dataset": "synthetic", "split": "test", "n_images": 24, "n_captions": 120, "threads": 4,
          "affinity": [4, 5, 6, 7], "gallery_batch": 8, "protocol": PROTOCOL_V1, "peak_gflops": 291.2}
LATENCY_V1 = {"n": 2, "median": 0.003, "mean": 0.003, "sd": 0.0001, "p90": 0.0031, "p99": 0.0031, "min": 0.0029,
              "max": 0.0031, "mad": 0.0001, "outliers": [], "first": 0.009, "slow_first_run": True,
              "samples": [0.0029, 0.0031]}


def v1_failed_job() -> dict:
    """A job the agent path stored in schema 1: the image tower done, the text tower failed in its timed loop."""
    return {
        "job": {**JOB_V1, "device": "rpi5"},
        "status": "failed", "phase": "timed",
        "reason": "text tower failed in timed:\n  Traceback  (most recent call last)\tboom",
        "towers": {
            "image": {"latency": LATENCY_V1, "notes": ["slow first run: 9.00 ms vs median 3.00 ms"], "load_s": 0.02,
                      "first_inference_s": 0.009, "warmup": {"n": 2, "seconds": 0.006, "capped_by": None},
                      "timed": {"n": 2, "seconds": 0.006, "capped_by": None, "complete": True},
                      "gallery": {"batch": 8, "n_items": 24, "items_per_s": 1000.0, "wall_s": 0.024, "load_s": 0.01,
                                  "batch_latency": {"n": 3, "median": 0.008, "samples": [0.008, 0.008, 0.008]}},
                      "memory": {"rss_before_load_bytes": 40, "peak_rss_bytes": 64, "peak_rss_source": "VmHWM"},
                      "thermal": {"before": {"zone0": 50.0}, "after": {"zone0": 52.5}, "governor": "ondemand"},
                      "runtime": {"backend": "tflite", "name": "ai-edge-litert", "version": "2.3.0"},
                      "flops": 1e6, "achieved_gflops": 0.33, "peak_share": 0.001,
                      "agent": {"agent_version": "0b2221e5", "threads": 4}},
            "text": {"failed": True, "partial": {"latency_s": [0.001, 0.0012], "memory": {"peak_rss_bytes": 50}, "load_s": 0.004}},
        },
    }


def v1_android_job() -> dict:
    """An ok job of the Android path in schema 1: native runners, recall host-computed, Android memory figures."""
    return {
        "job": JOB_V1, "status": "ok", "reason": None, "phase": "done",
        "towers": {tower: {
            "latency": LATENCY_V1, "notes": [], "load_s": 0.5, "first_inference_s": 0.009,
            "warmup": {"n": 2, "seconds": 0.1}, "timed": {"n": 2, "seconds": 0.006},
            "gallery": {"batch": 8, "n_items": 24 if tower == "image" else 120, "items_per_s": 400.0},
            "memory": {"peak_rss_bytes": 81_920_000, "peak_rss_source": "runner", "pss_end_bytes": 61_440_000,
                       "pss_samples_bytes": [50_000_000, 61_440_000], "units": "bytes"},
            "thermal": {"before": {"cpu-big": 38.0}, "after": {"cpu-big": 41.5}, "governor": "sched_pixel",
                        "battery": {"level": 81, "temp_c": 29.0}, "absent": []},
            "runtime": {"backend": "tflite", "name": "benchmark_model", "version": "2.19"},
            "flops": 58_655_744, "achieved_gflops": 19.6, "peak_share": 0.067,
            "agent": {"agent_version": None, "platform": None},
            "android": {"latency_stats_from_tool": {"avg_us": 3000.0, "std_us": 100.0}, "fidelity": {"cosine_min": 0.99999},
                        "protocol_deviations": ["warm-up gated by runs only (benchmark_model has no warm-up seconds)"]},
        } for tower in ("image", "text")},
        "recall": RECALL, "reference_recall": {**RECALL, "mean_recall": 0.76}, "recall_label": "trained",
        "recall_source": HOST_COMPUTED,
        "fidelity": {"vs_fp32_pytorch": {"image": {"cosine_mean": 0.9999, "cosine_min": 0.999, "cosine_p01": 0.999,
                                                   "max_abs_diff": 0.001, "n": 24}}},
        "embeddings": {"image": "/c/image.npy", "text": "/c/text.npy"},
    }


def test_v1_failed_job_is_upgraded():
    record = JobRecord.from_json(v1_failed_job())
    assert record.schema == 2 and record.status == "failed"
    assert record.failure == Failure(phase="timed", reason="text tower failed in timed: Traceback (most recent call last) boom")
    assert (record.reason, record.phase) == (record.failure.reason, "timed")
    assert record.accuracy is None and record.fidelity is None
    # the failed tower: its status, and what it had measured, as stored
    assert record.towers["text"] == TowerResult(status="failed", partial={"latency_s": [0.001, 0.0012],
                                                                          "memory": {"peak_rss_bytes": 50}, "load_s": 0.004})
    # the finished tower: every figure as stored
    image = record.towers["image"]
    assert image.status == "ok" and image.executor == "agent" and image.native == {}
    assert image.latency == LatencyStats(n=2, median=0.003, mean=0.003, sd=0.0001, p90=0.0031, p99=0.0031, min=0.0029,
                                         max=0.0031, mad=0.0001, outliers=(), first=0.009, slow_first_run=True,
                                         samples=(0.0029, 0.0031))
    assert image.gallery == Gallery(batch=8, n_items=24, items_per_s=1000.0, wall_s=0.024, load_s=0.01,
                                    batch_latency=LatencyStats(n=3, median=0.008, samples=(0.008, 0.008, 0.008)))
    assert image.memory == Memory(rss_before_load_bytes=40, peak_rss_bytes=64, peak_rss_source="VmHWM")
    assert image.thermal == Thermal(before={"zone0": 50.0}, after={"zone0": 52.5}, governor="ondemand")
    assert image.warmup == Loop(n=2, seconds=0.006) and image.timed == Loop(n=2, seconds=0.006, complete=True)
    assert image.runtime == RuntimeInfo(backend="tflite", name="ai-edge-litert", version="2.3.0")
    assert (image.flops, image.achieved_gflops, image.peak_share, image.load_s) == (1e6, 0.33, 0.001, 0.02)
    assert image.notes == ("slow first run: 9.00 ms vs median 3.00 ms",)
    assert image.agent == {"agent_version": "0b2221e5", "threads": 4}
    assert record.job == JobIdentity(key="f1c8a914aefbd11e", model="edgeclip-s-scratch", backend="tflite",
                                     precision="fp32", device="rpi5", dataset="synthetic", split="test", n_images=24,
                                     n_captions=120, threads=4, affinity=(4, 5, 6, 7), gallery_batch=8,
                                     protocol=Protocol(**PROTOCOL_V1), peak_gflops=291.2)
    # the cancelled form of a stopped tower, and a v1 row without a status
    cancelled = {**v1_failed_job(), "status": "cancelled",
                 "towers": {"image": {"cancelled": True, "partial": {"latency_s": [0.002], "memory": {}}}}}
    assert JobRecord.from_json(cancelled).towers["image"] == TowerResult(status="cancelled",
                                                                         partial={"latency_s": [0.002], "memory": {}})
    assert JobRecord.from_json({"reason": "the stored record is not valid JSON"}).failure == \
        Failure(None, "the stored record is not valid JSON")
    assert JobRecord.from_json({"reason": "x"}).status == "failed"


def test_v1_android_job_is_upgraded():
    record = JobRecord.from_json(v1_android_job())
    assert record.status == "ok" and record.failure is None and record.phase == "done"
    assert record.accuracy == Accuracy(recall=RECALL, reference={**RECALL, "mean_recall": 0.76}, label="trained",
                                       source=HOST_COMPUTED, ties={})
    assert record.host_recall and not record.untrained and record.recall("text", 5) == 0.85
    for name in ("image", "text"):
        tower = record.towers[name]
        assert tower.executor == "native"
        assert tower.native == {"latency_stats_from_tool": {"avg_us": 3000.0, "std_us": 100.0},
                                "fidelity": {"cosine_min": 0.99999},
                                "protocol_deviations": ["warm-up gated by runs only (benchmark_model has no warm-up seconds)"]}
        assert tower.memory == Memory(peak_rss_bytes=81_920_000, peak_rss_source="runner", pss_end_bytes=61_440_000,
                                      extra={"pss_samples_bytes": [50_000_000, 61_440_000], "units": "bytes"})
        assert tower.thermal == Thermal(before={"cpu-big": 38.0}, after={"cpu-big": 41.5}, governor="sched_pixel",
                                        extra={"battery": {"level": 81, "temp_c": 29.0}, "absent": []})
        assert tower.runtime.label == "benchmark_model 2.19" and tower.flops == 58_655_744.0
        assert tower.warmup == Loop(n=2, seconds=0.1)
    assert record.towers["text"].gallery.n_items == 120 and record.items_per_s("image") == 400.0
    assert record.peak_bytes() == 81_920_000
    assert record.fidelity.vs_fp32_pytorch == {"image": CosineStats(0.9999, 0.999, 0.999, 0.001, 24)}
    assert record.fidelity.verdict == Verdict() and record.fidelity.vs_host_artifact == {}
    assert record.embeddings == {"image": "/c/image.npy", "text": "/c/text.npy"}
    # an upgraded record writes the current schema, and that reads back to the same record
    data = json.loads(json.dumps(record.to_json()))
    assert data["schema"] == 2 and "recall_label" not in data and "android" not in data["towers"]["image"]
    assert upgrade(data) == data and JobRecord.from_json(data) == record


# --- the selection rule ------------------------------------------------------------------------------------


def _record(dataset: str, status: str = "ok", median: float = 0.001, device: str = "local") -> JobRecord:
    job = JobIdentity(key=f"k-{dataset}", model="edgeclip-s-scratch", backend="tflite", precision="fp32", device=device,
                      dataset=dataset)
    if status != "ok":
        return JobRecord(job=job, status=status, failure=Failure("image", "image tower failed in timed: boom"))
    return JobRecord(job=job, towers={"image": TowerResult(latency=LatencyStats.of([median] * 3))})


def test_selection_keeps_each_dataset_and_a_later_failure_does_not_hide_a_success(tmp_path):
    from edge_bench.records.select import datasets, latest_attempts, newest_ok, pair
    from edge_bench.report.build import choose_jobs
    from edge_bench.store import Store

    store = Store(tmp_path / "results.sqlite")
    try:
        run = store.create_run("local", "plan", {}, "test").id
        synthetic = store.add_job(run, _record("synthetic", median=0.002))
        flickr = store.add_job(run, _record("flickr30k", median=0.003))
        failed = store.add_job(run, _record("synthetic", status="failed"))
        rows = store.jobs(run_id=run)
        chosen = newest_ok(rows)
        assert [r.id for r in chosen.values()] == [synthetic.id, flickr.id]  # the same model, backend, precision: both
        assert list(chosen) == [("edgeclip-s-scratch", "tflite", "fp32", "synthetic", "local"),
                                ("edgeclip-s-scratch", "tflite", "fp32", "flickr30k", "local")]
        assert chosen[list(chosen)[0]].record.median_ms("image") == pytest.approx(2.0)
        assert {k: r.id for k, r in latest_attempts(rows).items()} == {k: r.id for k, r in chosen.items()}
        ok, bad = choose_jobs(rows)  # the report's selection: the success kept, the later failure listed too
        assert [r.id for r in ok] == [synthetic.id, flickr.id] and [r.id for r in bad] == [failed.id]
        assert datasets(rows) == ["synthetic", "flickr30k"]
        # a newer success replaces the older one of the same identity
        newer = store.add_job(run, _record("synthetic", median=0.004))
        assert [r.id for r in newest_ok(store.jobs(run_id=run)).values()] == [newer.id, flickr.id]
        # two runs pair by everything but the device
        other = store.create_run("rpi5", "plan", {}, "test").id
        remote = store.add_job(other, _record("flickr30k", device="rpi5", median=0.03))
        (p,) = pair(store.jobs(run_id=run), store.jobs(run_id=other))
        assert (p.a.id, p.b.id, p.label) == (flickr.id, remote.id, "edgeclip-s-scratch tflite fp32 flickr30k")
    finally:
        store.close()


# --- the store written before the typed record ----------------------------------------------------------


def raw_rows(path: Path) -> dict[str, dict]:
    """The fixture's job rows straight from SQLite (no edge-bench code): id -> columns and the parsed JSON."""
    db = sqlite3.connect(path)
    try:
        cols = [c[1] for c in db.execute("PRAGMA table_info(jobs)")]
        rows = [dict(zip(cols, r)) for r in db.execute("SELECT * FROM jobs ORDER BY rowid")]
    finally:
        db.close()
    return {r["id"]: {**r, "record": json.loads(r["record_json"])} for r in rows}


@pytest.fixture
def old_home(tmp_path, monkeypatch) -> Path:
    """An edge-bench home whose results store is a copy of the fixture; returns the home."""
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    shutil.copyfile(FIXTURE, home / "data" / "results.sqlite")
    monkeypatch.setenv("EDGE_BENCH_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")
    return home


@pytest.fixture
def raw(tmp_path) -> dict[str, dict]:
    copy = tmp_path / "raw.sqlite"
    shutil.copyfile(FIXTURE, copy)
    return raw_rows(copy)


def _check_stats(stats: LatencyStats, raw: dict) -> None:
    for key, value in raw.items():
        got = getattr(stats, key)
        assert (list(got) if isinstance(got, tuple) else got) == value, key


def _check_tower(tower: TowerResult, raw: dict) -> None:
    """Every figure of a schema-1 tower, against the typed tower."""
    known = {"latency", "notes", "load_s", "first_inference_s", "warmup", "timed", "gallery", "memory", "thermal",
             "runtime", "flops", "achieved_gflops", "peak_share", "agent"}
    assert set(raw) == known  # nothing in the old row goes unchecked
    _check_stats(tower.latency, raw["latency"])
    assert list(tower.notes) == raw["notes"]
    for key in ("load_s", "first_inference_s", "flops", "achieved_gflops", "peak_share"):
        assert getattr(tower, key) == raw[key], key
    assert dataclasses.asdict(tower.warmup) == {"n": None, "seconds": None, "capped_by": None, "complete": None, **raw["warmup"]}
    assert dataclasses.asdict(tower.timed) == {"n": None, "seconds": None, "capped_by": None, "complete": None, **raw["timed"]}
    gallery = dict(raw["gallery"])
    _check_stats(tower.gallery.batch_latency, gallery.pop("batch_latency"))
    for key, value in gallery.items():
        assert getattr(tower.gallery, key) == value, key
    memory = {f.name for f in dataclasses.fields(Memory)} - {"extra"}
    assert {k: getattr(tower.memory, k) for k in raw["memory"] if k in memory} == {k: v for k, v in raw["memory"].items() if k in memory}
    assert tower.memory.extra == {k: v for k, v in raw["memory"].items() if k not in memory}
    assert tower.memory.extra  # the fixture has figures beyond the named ones (units, gallery RSS, ...)
    thermal = {"before", "after", "governor", "throttled", "freq_khz"}
    assert {k: getattr(tower.thermal, k) for k in thermal} == {k: raw["thermal"].get(k, {} if k in ("before", "after") else None)
                                                                for k in thermal}
    assert tower.thermal.extra == {k: v for k, v in raw["thermal"].items() if k not in thermal}
    assert dataclasses.asdict(tower.runtime) == raw["runtime"]
    assert tower.agent == raw["agent"]
    assert tower.status == "ok" and tower.executor == "agent"


def test_store_v1_reads_as_typed_records(old_home, raw):
    from edge_bench.store import Store

    store = Store(old_home / "data" / "results.sqlite")
    try:
        rows = {r.id: r for r in store.jobs()}
        assert list(rows) == list(raw) and len(rows) == 3
        assert {r.id for r in store.runs()} == {RUN_OK, RUN_SKIPPED}
        for job_id, row in rows.items():
            old, record = raw[job_id]["record"], row.record
            assert isinstance(record, JobRecord) and record.schema == 2
            for column in ("run_id", "job_key", "model", "backend", "precision", "device", "dataset", "status", "error",
                           "started", "finished"):
                assert getattr(row, column) == raw[job_id][column], column
            for key, value in old["job"].items():
                got = getattr(record.job, key)
                expected = Protocol(**value) if key == "protocol" else tuple(value) if key == "affinity" else value
                assert got == expected, key
            assert record.status == old["status"] == row.status
            if old["status"] != "ok":
                assert record.failure == Failure(old.get("phase"), old["reason"])
                assert record.towers == {} and record.accuracy is None
                continue
            assert record.failure is None and record.phase == old["phase"] == "done"
            assert set(record.towers) == set(old["towers"]) == {"image", "text"}
            for tower in ("image", "text"):
                _check_tower(record.towers[tower], old["towers"][tower])
            assert record.accuracy == Accuracy(recall=old["recall"], reference=old["reference_recall"],
                                               label=old["recall_label"], source=old["recall_source"])
            assert {t: dataclasses.asdict(c) for t, c in record.fidelity.vs_fp32_pytorch.items()} == \
                {t: {**c, "error": None} for t, c in old["fidelity"]["vs_fp32_pytorch"].items()}
            assert record.fidelity.vs_host_artifact == {} and record.verdict == Verdict()
            assert dataclasses.asdict(record.artifact) == {**old["artifact"], "samples": {}}  # v1 kept no sample source
            assert record.embeddings == old["embeddings"]
            prov = old["provenance"]
            assert record.provenance.edge_bench_version == prov["edge_bench_version"] == "0.1.0"
            assert dataclasses.asdict(record.provenance.model) == prov["model"]
            assert record.provenance.artifact == prov["artifact"]
            assert record.provenance.converter_versions == prov["converter_versions"]
            assert dataclasses.asdict(record.provenance.device) == prov["device"]
            assert record.provenance.host == prov["host"]
        # the figures named in the fixture's own notes, as literal values
        by = {r.backend: r.record for r in rows.values()}
        assert by["tflite"].tower("image").latency.median == 0.0005493595000000001
        assert by["tflite"].median_ms("image") == pytest.approx(0.5493595)
        assert by["tflite"].recall("image", 1) == 0.9416666666666667
        assert by["tflite"].tower("text").latency.outliers == (0,)
        assert by["executorch"].peak_bytes() == 243490816
        assert by["executorch"].tower("image").memory.extra["units"] == "bytes"
        assert (by["coreml"].status, by["coreml"].reason) == (
            "skipped", "the device profile does not list coreml (it runs executorch, tflite)")
        assert by["coreml"].job.model == "edgeclip-s-scratch" and by["coreml"].job.key == ""
    finally:
        store.close()
    # reading upgraded nothing in place: the rows still hold what 0.1.0 wrote
    assert {k: v["record_json"] for k, v in raw_rows(old_home / "data" / "results.sqlite").items()} == \
        {k: v["record_json"] for k, v in raw.items()}


def cli(capsys, *args: str) -> str:
    from edge_bench.cli import main

    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    assert code == 0, out.err[-3000:]
    return " ".join(out.out.split())


def test_cli_reads_the_v1_store(old_home, raw, capsys, tmp_path):
    jobs = {r["backend"]: r["record"] for r in raw.values()}
    medians = {b: jobs[b]["towers"]["image"]["latency"]["median"] * 1e3 for b in ("executorch", "tflite")}
    assert (f"{medians['executorch']:.2f}", f"{medians['tflite']:.2f}") == ("0.99", "0.55")

    runs = cli(capsys, "runs")
    assert f"{RUN_SKIPPED} │ 2026-12-01T19:59:51 │ local │ complete │ 0 │ 0 │ 1 │ edgeclip-s-scratch" in runs
    assert f"{RUN_OK} │ 2026-12-01T19:58:24 │ local │ complete │ 2 │ 0 │ 0 │ edgeclip-s-scratch" in runs

    show = cli(capsys, "show", RUN_OK)
    # speed: median and p90 per tower (ms), images/s, captions/s from the stored records
    tfl = jobs["tflite"]["towers"]
    row = (f"edgeclip-s-scratch tflite fp32 │ 0.55 │ {tfl['image']['latency']['p90'] * 1e3:.2f} │ "
           f"{tfl['text']['latency']['median'] * 1e3:.2f} │ {tfl['text']['latency']['p90'] * 1e3:.2f} │ "
           f"{tfl['image']['gallery']['items_per_s']:.0f} │ {tfl['text']['gallery']['items_per_s']:.0f}")
    assert row == "edgeclip-s-scratch tflite fp32 │ 0.55 │ 0.65 │ 0.24 │ 0.80 │ 2038 │ 5259" and row in show
    assert "edgeclip-s-scratch executorch fp32 │ 0.99 │ 1.10 │ 0.43 │ 0.46 │ 1024 │ 2465" in show
    # recall % both ways at 1/5/10 and the cosine to fp32
    assert "edgeclip-s-scratch tflite fp32 │ 94.2 │ 100.0 │ 100.0 │ 95.8 │ 95.8 │ 100.0 │ 1.0000" in show
    assert "note edgeclip-s-scratch tflite fp32 text: 1 statistical outlier(s) of 6 runs (MAD)" in show
    assert "runtime ai-edge-litert 2.3.0; executor agent; edge-bench 0.1.0" in show

    skipped = cli(capsys, "show", RUN_SKIPPED)
    assert "skipped edgeclip-s-scratch coreml fp32: the device profile does not list coreml (it runs executorch, tflite)" in skipped

    figures = cli(capsys, "show", RUN_OK, "--figures")
    assert "edgeclip-s-scratch tflite fp32 on local" in figures
    assert "│ latency_median_ms │ 0.55 │ 0.24 │" in figures and "│ latency_median_ms │ 0.99 │ 0.43 │" in figures
    assert "│ peak_rss_bytes │ 56446976 │ 54317056 │" in figures and "│ outliers │ 0 │ 1 │" in figures
    assert "│ runtime │ ai-edge-litert 2.3.0 │ ai-edge-litert 2.3.0 │" in figures

    from edge_bench.cli import main

    capsys.readouterr()
    assert main(["show", RUN_OK, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [j["id"] for j in shown["jobs"]] == [k for k, v in raw.items() if v["run_id"] == RUN_OK]
    for job in shown["jobs"]:
        old = raw[job["id"]]["record"]
        assert job["record"]["schema"] == 2 and job["record"]["accuracy"]["recall"] == old["recall"]
        assert job["record"]["towers"]["image"]["latency"]["samples"] == old["towers"]["image"]["latency"]["samples"]

    compare = cli(capsys, "compare", RUN_OK, RUN_OK)  # a run against itself: every ratio 1, the same recall
    for backend in ("executorch", "tflite"):
        assert f"edgeclip-s-scratch {backend} fp32 synthetic │ 1.00" in compare
    assert compare.count("│ 94.2 -> 94.2 │") == 2

    out = tmp_path / "report"
    cli(capsys, "report", "--device", "local", "--format", "html,md,json,csv", "--out", str(out))
    report = json.loads((out / "report-local.json").read_text())
    results = {r["backend"]: r for r in report["results"]}
    assert set(results) == {"executorch", "tflite"}
    for backend, result in results.items():
        old = jobs[backend]
        assert result["metrics"] == old["recall"] and result["reference_metrics"] == old["reference_recall"]
        for tower in ("image", "text"):
            figures = result["towers"][tower]
            assert figures["latency_median_ms"] == pytest.approx(old["towers"][tower]["latency"]["median"] * 1e3, rel=1e-12)
            assert figures["peak_rss_bytes"] == old["towers"][tower]["memory"]["peak_rss_bytes"]
            assert figures["throughput_items_per_s"] == old["towers"][tower]["gallery"]["items_per_s"]
    assert results["tflite"]["towers"]["image"]["latency_median_ms"] == pytest.approx(0.5493595, rel=1e-12)
    assert [(p["backend"], p["status"], p["reason"]) for p in report["problems"]] == [
        ("coreml", "skipped", "the device profile does not list coreml (it runs executorch, tflite)")]
    csv = (out / "report-local.csv").read_text().splitlines()
    assert len(csv) == 4 and csv[0].startswith("device,job_id,run_id,model,backend,precision,status")
    assert any(line.startswith("local,j87ecf70cb8,r10bbf18122,edgeclip-s-scratch,tflite,fp32,ok,") and
               ",0.5493595000000001," in line for line in csv)
    md = " ".join((out / "report-local.md").read_text().split())
    assert "| edgeclip-s-scratch tflite fp32 | 94.2 | 100.0 | 100.0 | 95.8 | 95.8 | 100.0 | 97.6 |" in md
    html = (out / "report-local.html").read_text()
    assert "edgeclip-s-scratch" in html and "0.55" in html
    assert {p.name for p in out.iterdir()} >= {"report-local.html", "report-local.md", "report-local.json",
                                               "report-local.csv", "report-local-pareto.png", "report-local-latency.png"}
