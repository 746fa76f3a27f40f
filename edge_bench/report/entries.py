"""Store rows to report entries: the record's nested figures, flattened and converted to report units."""

from __future__ import annotations

from edge_bench.report.model import TOWERS, JobEntry, Problem, TowerFigures


def _ms(value) -> float | None:
    return None if value is None else float(value) * 1e3


def _int(value) -> int | None:
    return None if value is None else int(value)


def tower_figures(tower: dict, artifact_bytes: int | None) -> TowerFigures:
    """One tower of a record in report units."""
    latency = tower.get("latency") or {}
    gallery = tower.get("gallery") or {}
    memory = tower.get("memory") or {}
    runtime = tower.get("runtime") or {}
    peak = memory.get("peak_rss_bytes") or memory.get("pss_end_bytes")
    return TowerFigures(
        latency_median_ms=_ms(latency.get("median")),
        latency_mean_ms=_ms(latency.get("mean")),
        latency_sd_ms=_ms(latency.get("sd")),
        latency_p90_ms=_ms(latency.get("p90")),
        latency_p99_ms=_ms(latency.get("p99")),
        latency_min_ms=_ms(latency.get("min")),
        latency_max_ms=_ms(latency.get("max")),
        latency_n=int(latency.get("n") or 0),
        latency_samples_ms=tuple(float(s) * 1e3 for s in latency.get("samples") or ()),
        outliers=len(latency.get("outliers") or ()),
        first_inference_ms=_ms(tower.get("first_inference_s")),
        load_ms=_ms(tower.get("load_s")),
        throughput_items_per_s=gallery.get("items_per_s"),
        gallery_batch=_int(gallery.get("batch")),
        peak_rss_bytes=_int(peak),
        artifact_size_bytes=_int(artifact_bytes),
        flops=tower.get("flops"),
        achieved_gflop_per_s=tower.get("achieved_gflops"),
        peak_share=tower.get("peak_share"),
        runtime=" ".join(str(v) for v in (runtime.get("name") or runtime.get("backend"), runtime.get("version")) if v),
        notes=tuple(tower.get("notes") or ()),
        thermal=dict(tower.get("thermal") or {}),
    )


def job_entry(row) -> JobEntry:
    """A successful JobRow (edge_bench.store.JobRow) as a report entry."""
    record = row.record
    job = record.get("job") or {}
    sizes = (record.get("artifact") or {}).get("size_bytes") or {}
    towers = {name: tower_figures(data, sizes.get(name)) for name, data in (record.get("towers") or {}).items()
              if name in TOWERS and not data.get("failed")}
    fidelity = record.get("fidelity") or {}
    verdict = fidelity.get("verdict") or {}
    return JobEntry(
        job_id=row.id, run_id=row.run_id, finished=row.finished,
        model=row.model, backend=row.backend, precision=row.precision,
        dataset=job.get("dataset") or row.dataset, n_images=job.get("n_images"), n_captions=job.get("n_captions"),
        threads=job.get("threads"), towers=towers,
        recall=dict(record.get("recall") or {}), reference_recall=dict(record.get("reference_recall") or {}),
        recall_label=record.get("recall_label") or "unknown", recall_source=record.get("recall_source") or "",
        fidelity=dict(fidelity.get("vs_fp32_pytorch") or {}),
        verdict=verdict.get("status") or "not checked", verdict_message=verdict.get("message"),
        provenance=dict(record.get("provenance") or {}),
    )


def problem(row) -> Problem:
    """A failed or skipped JobRow, with its reason."""
    record = row.record or {}
    reason = row.error or record.get("reason") or "no reason recorded"
    return Problem(row.id, row.run_id, row.model, row.backend, row.precision, row.status, " ".join(str(reason).split()),
                   record.get("phase"))
