"""Shared data for the TUI tests: a results store with fixed runs and jobs (no tests of its own).

Records are typed `JobRecord`s whose towers come from the executors' own
conversion (`tower_result`) of agent results with fixed samples; their
`to_json()` is written with fixed ids and times into a real store (its
migrations), so snapshots and table tests see the same content every time.
"""

from __future__ import annotations

import json
from pathlib import Path

from edge_bench.executors.results import tower_result
from edge_bench.records.job import (Accuracy, CosineStats, Failure, Fidelity, JobIdentity, JobRecord, ModelProvenance,
                                    Provenance)
from edge_bench.store import Store

RUNS = (
    ("r000000000a", "2026-11-20T10:00:00+00:00", "local", "complete"),
    ("r000000000b", "2026-11-21T09:30:00+00:00", "rpi5", "partial"),
)
# run, model, backend, precision, image ms, text ms, images/s, (t2i R@1, i2t R@1), trained, temps
OK_JOBS = (
    ("r000000000a", "edgeclip-s-distilled", "executorch", "fp32", 4.0, 1.0, 300.0, (0.42, 0.45), True, (40.0, 41.0)),
    ("r000000000a", "edgeclip-s-distilled", "tflite", "fp32", 3.0, 0.8, 380.0, (0.42, 0.45), True, (41.0, 42.5)),
    ("r000000000a", "edgeclip-s-distilled", "tflite", "int8", 2.0, 0.6, 520.0, (0.40, 0.43), True, (42.0, 43.0)),
    ("r000000000a", "edgeclip-s-scratch", "tflite", "fp32", 3.1, 0.8, 410.0, (0.05, 0.06), False, (42.0, 43.0)),
    ("r000000000b", "edgeclip-s-distilled", "executorch", "fp32", 20.0, 5.0, 60.0, (0.42, 0.45), True, (52.0, 58.0)),
    ("r000000000b", "edgeclip-s-distilled", "tflite", "fp32", 15.0, 4.0, 75.0, (0.42, 0.45), True, (55.0, 61.0)),
)
NOT_RUN = (
    ("r000000000a", "edgeclip-s-distilled", "coreml", "fp32", "skipped",
     "Core ML runs only on macOS/iOS; local runs Linux", None),
    ("r000000000b", "edgeclip-s-distilled", "tflite", "int8", "failed",
     "connection to rpi5 lost: the connection dropped mid-command (ssh exit 255)", "connection"),
)


def agent_result(median_ms: float, items_per_s: float, temps: tuple[float, float], n: int = 20) -> dict:
    """An agent result.json with fixed, slightly spread samples around a median."""
    samples = [median_ms / 1e3 * (1 + 0.02 * ((i % 5) - 2)) for i in range(n)]
    batch = 8
    return {
        "latency_s": samples, "first_inference_s": 3 * median_ms / 1e3, "load_s": 0.05,
        "warmup": {"n": 10, "seconds": 1.0}, "timed": {"n": n, "seconds": sum(samples)},
        "gallery": {"batch": batch, "n_items": 96, "batch_latency_s": [batch / items_per_s] * 12,
                    "items_per_s": items_per_s, "wall_s": 96 / items_per_s, "load_s": 0.06},
        "memory": {"rss_before_load_bytes": 50 * 2**20, "peak_rss_bytes": int(64.5 * 2**20)},
        "thermal": {"before": {"zone0": temps[0]}, "after": {"zone0": temps[1]}},
        "runtime": {"name": "fixture-runtime", "version": "1.0"},
    }


def ok_record(key, model, backend, precision, img_ms, txt_ms, ips, recall, trained, temps, device) -> JobRecord:
    """A successful job's record, shaped as the runner writes it."""
    t2i, i2t = recall
    weights = "trained" if trained else "untrained"
    return JobRecord(
        job=JobIdentity(key=key, model=model, backend=backend, precision=precision, device=device, dataset="synthetic"),
        status="ok",
        towers={"image": tower_result(agent_result(img_ms, ips, temps), 1e8, None),
                "text": tower_result(agent_result(txt_ms, ips * 4, temps), 2e7, None)},
        accuracy=Accuracy(recall={"image_retrieval_recall@1": t2i, "text_retrieval_recall@1": i2t,
                                  "image_retrieval_recall@5": min(1.0, t2i * 2),
                                  "text_retrieval_recall@5": min(1.0, i2t * 2)}, label=weights),
        fidelity=Fidelity(vs_fp32_pytorch={"image": CosineStats(cosine_min=0.9991),
                                           "text": CosineStats(cosine_min=0.9995)}),
        provenance=Provenance(model=ModelProvenance(weights_status=weights)),
    )


def not_run_record(key, model, backend, precision, device, status, reason, phase) -> JobRecord:
    """A skipped or failed job's record: its identity, status and why."""
    return JobRecord(job=JobIdentity(key=key, model=model, backend=backend, precision=precision, device=device,
                                     dataset="synthetic"), status=status, failure=Failure(phase, reason))


def seed_store(path: Path) -> Path:
    """Write the fixed runs and jobs into a fresh store at `path`; returns the path."""
    store = Store(path)
    devices = {run_id: device for run_id, _, device, _ in RUNS}
    with store.db:
        for run_id, created, device, status in RUNS:
            plan = {"device": device, "models": ["edgeclip-s-distilled"], "dataset": "synthetic"}
            store.db.execute("INSERT INTO runs (id, created, device, plan_key, plan_json, status, edge_bench_version)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (run_id, created, device, f"plan-{device}", json.dumps(plan), status, "0.1.0"))
        n = 0
        for run_id, model, backend, precision, *figures in OK_JOBS:
            n += 1
            _insert(store, n, run_id, ok_record(f"key{n}", model, backend, precision, *figures, devices[run_id]))
        for run_id, model, backend, precision, status, reason, phase in NOT_RUN:
            n += 1
            _insert(store, n, run_id,
                    not_run_record(f"key{n}", model, backend, precision, devices[run_id], status, reason, phase))
    store.close()
    return path


def _insert(store: Store, n: int, run_id: str, record: JobRecord) -> None:
    """One job row with a fixed id and times (Store.add_job would draw both)."""
    stamp = f"2026-11-2{0 if run_id.endswith('a') else 1}T10:{n:02d}:00+00:00"
    job = record.job
    store.db.execute("INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (f"j{n:010d}", run_id, job.key, job.model, job.backend, job.precision, job.device, job.dataset,
                      record.status, record.reason, stamp, stamp, json.dumps(record.to_json())))
