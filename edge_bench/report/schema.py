"""The JSON report (docs/report-schema.md) and the flat CSV rows, both from the report model.

Field names carry units (`_ms`, `_bytes`, `_per_s`); recall keeps
CLIP_benchmark's names (`image_retrieval_recall@k`, `text_retrieval_recall@k`).
Bump SCHEMA_VERSION on any change a reader would notice.
"""

from __future__ import annotations

from dataclasses import asdict

from edge_bench.report.model import FIGURE_NAMES, RECALL_KEYS, TOWERS, CompareReport, DeviceReport, JobEntry, TowerFigures

SCHEMA_VERSION = 2
"""2: per-tower figures follow edge_bench.records.tower.TOWER_FIGURES (adds rss_before_load_bytes); `ties`; compare rows name the dataset."""


def _tower(t: TowerFigures) -> dict:
    return {**t.values, "latency_samples_ms": list(t.latency_samples_ms), "notes": list(t.notes), "thermal": t.thermal}


def entry_json(e: JobEntry, front: set[str]) -> dict:
    """One successful job."""
    return {
        "job_id": e.job_id, "run_id": e.run_id, "finished_utc": e.finished,
        "model": e.model, "backend": e.backend, "precision": e.precision,
        "dataset": e.dataset, "split": "test", "n_images": e.n_images, "n_captions": e.n_captions, "threads": e.threads,
        "recall_label": e.recall_label, "recall_source": e.recall_source,
        "metrics": {k: e.recall[k] for k in RECALL_KEYS if k in e.recall}, "recall_ties": e.ties,
        "reference_metrics": {k: e.reference_recall[k] for k in RECALL_KEYS if k in e.reference_recall},
        "towers": {name: _tower(t) for name, t in e.towers.items()},
        "fidelity": {"vs_fp32_pytorch": e.fidelity, "verdict": e.verdict, "verdict_message": e.verdict_message},
        "flags": e.flags(), "pareto_front": e.job_id in front,
        "provenance": e.provenance,
    }


def selection_json(r: DeviceReport) -> dict:
    """Which runs were looked at and which jobs are shown."""
    return {"rule": r.selection, "runs": [asdict(run) for run in r.runs],
            "job_ids": [e.job_id for e in r.entries] + [p.job_id for p in r.problems]}


def device_json(r: DeviceReport) -> dict:
    """The whole device report as the documented JSON object."""
    front = set(r.pareto_front)
    return {
        "schema_version": SCHEMA_VERSION, "kind": "edge-bench.device-report",
        "generated_utc": r.generated, "edge_bench_version": r.edge_bench_version,
        "status": r.status, "message": r.message, "alerts": r.alerts,
        "device": {"name": r.device, "description": r.description, "peak_gflop_per_s": r.peak_gflop_per_s,
                   "peak_gflop_per_s_derivation": r.peak_derivation, "fingerprint": r.fingerprint},
        "selection": selection_json(r),
        "results": [entry_json(e, front) for e in r.entries],
        "problems": [asdict(p) for p in r.problems],
        "pareto": {"metric": r.pareto_metric, "throughput": "towers.image.throughput_items_per_s", "front_job_ids": r.pareto_front},
        "distillation": {"teacher": r.teacher, "teacher_reason": r.teacher_reason,
                         "rows": [asdict(d) for d in r.distillation]},
        "notes": r.notes,
    }


def compare_json(c: CompareReport) -> dict:
    """A two-device comparison as JSON: per shared job, both sides' figures and the B/A ratios."""
    rows = []
    for row in c.rows:
        rows.append({
            "model": row.model, "backend": row.backend, "precision": row.precision, "dataset": row.dataset,
            "a": entry_json(row.a, set()), "b": entry_json(row.b, set()),
            "latency_ratio_b_over_a": {t: (None if v is None else {"mean": v[0], "sd": v[1]}) for t, v in row.latency_ratio.items()},
            "throughput_ratio_b_over_a": row.throughput_ratio,
        })
    return {
        "schema_version": SCHEMA_VERSION, "kind": "edge-bench.compare-report",
        "generated_utc": c.generated, "edge_bench_version": c.edge_bench_version,
        "status": c.status, "message": c.message,
        "devices": {"a": c.a.device, "b": c.b.device},
        "selection": {"a": selection_json(c.a), "b": selection_json(c.b)},
        "rows": rows, "only_a": c.only_a, "only_b": c.only_b,
    }


TOWER_COLUMNS = list(FIGURE_NAMES)
CSV_COLUMNS = (["device", "job_id", "run_id", "model", "backend", "precision", "status", "reason", "phase", "dataset",
                "n_images", "n_captions", "threads", "recall_label", "recall_source", *RECALL_KEYS, "fidelity_verdict",
                "fidelity_image_cosine_mean", "fidelity_text_cosine_mean", "pareto_front"]
               + [f"{t}_{c}" for t in TOWERS for c in TOWER_COLUMNS])
"""One row per job; `status` is ok, failed or skipped (or 'empty' for a report without jobs)."""


def device_csv_rows(r: DeviceReport) -> list[dict]:
    """Flat rows: successful jobs, then failed and skipped ones; one 'empty' row saying why when there are none."""
    front = set(r.pareto_front)
    rows = []
    for e in r.entries:
        row = {"device": r.device, "job_id": e.job_id, "run_id": e.run_id, "model": e.model, "backend": e.backend,
               "precision": e.precision, "status": "ok", "dataset": e.dataset, "n_images": e.n_images,
               "n_captions": e.n_captions, "threads": e.threads, "recall_label": e.recall_label,
               "recall_source": e.recall_source, "fidelity_verdict": e.verdict, "pareto_front": e.job_id in front}
        row.update({k: e.recall.get(k) for k in RECALL_KEYS})
        for tower in TOWERS:
            row[f"fidelity_{tower}_cosine_mean"] = (e.fidelity.get(tower) or {}).get("cosine_mean")
            row.update({f"{tower}_{c}": getattr(e.figures(tower), c) for c in TOWER_COLUMNS})
        rows.append(row)
    for p in r.problems:
        rows.append({"device": r.device, "job_id": p.job_id, "run_id": p.run_id, "model": p.model, "backend": p.backend,
                     "precision": p.precision, "status": p.status, "reason": p.reason, "phase": p.phase,
                     "dataset": p.dataset})
    if not rows:
        rows.append({"device": r.device, "status": "empty", "reason": r.message})
    return rows


COMPARE_CSV_COLUMNS = ["model", "backend", "precision", "dataset", "device_a", "device_b"] + [
    f"{t}_{m}" for t in TOWERS for m in ("latency_median_ms_a", "latency_median_ms_b", "latency_ratio_b_over_a",
                                           "latency_ratio_sd", "throughput_items_per_s_a", "throughput_items_per_s_b")
] + [f"{k}_{s}" for k in ("image_retrieval_recall@1", "text_retrieval_recall@1") for s in ("a", "b")] + [
    "recall_label_a", "recall_label_b", "fidelity_verdict_a", "fidelity_verdict_b", "status", "reason"]


def compare_csv_rows(c: CompareReport) -> list[dict]:
    """One row per shared job; one 'nothing-shared' row when there is none."""
    rows = []
    for row in c.rows:
        out = {"model": row.model, "backend": row.backend, "precision": row.precision, "dataset": row.dataset, "device_a": c.a.device,
               "device_b": c.b.device, "status": "ok", "recall_label_a": row.a.recall_label, "recall_label_b": row.b.recall_label,
               "fidelity_verdict_a": row.a.verdict, "fidelity_verdict_b": row.b.verdict}
        for t in TOWERS:
            ratio = row.latency_ratio.get(t)
            out.update({f"{t}_latency_median_ms_a": row.a.figures(t).latency_median_ms,
                        f"{t}_latency_median_ms_b": row.b.figures(t).latency_median_ms,
                        f"{t}_latency_ratio_b_over_a": ratio[0] if ratio else None, f"{t}_latency_ratio_sd": ratio[1] if ratio else None,
                        f"{t}_throughput_items_per_s_a": row.a.figures(t).throughput_items_per_s,
                        f"{t}_throughput_items_per_s_b": row.b.figures(t).throughput_items_per_s})
        for k in ("image_retrieval_recall@1", "text_retrieval_recall@1"):
            out[f"{k}_a"], out[f"{k}_b"] = row.a.recall.get(k), row.b.recall.get(k)
        rows.append(out)
    return rows or [{"device_a": c.a.device, "device_b": c.b.device, "status": c.status, "reason": c.message}]
