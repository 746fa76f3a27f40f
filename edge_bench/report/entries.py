"""Store rows to report entries: the typed record's figures in report units."""

from __future__ import annotations

from dataclasses import asdict

from edge_bench.records.job import JobRecord
from edge_bench.records.tower import TowerResult, figures
from edge_bench.report.model import TOWERS, JobEntry, Problem, TowerFigures


def tower_figures(tower: TowerResult, artifact_bytes: int | None) -> TowerFigures:
    """One tower of a record in report units."""
    return TowerFigures(
        values={**figures(tower), "artifact_size_bytes": artifact_bytes},
        latency_samples_ms=tuple(s * 1e3 for s in tower.latency.samples),
        notes=tuple(tower.notes),
        thermal=asdict(tower.thermal),
    )


def job_entry(row) -> JobEntry:
    """A successful JobRow (edge_bench.store.JobRow) as a report entry."""
    record: JobRecord = row.record
    job = record.job
    towers = {name: tower_figures(t, record.artifact_bytes(name)) for name, t in record.towers.items()
              if name in TOWERS and t.ok}
    fidelity = record.fidelity
    accuracy = record.accuracy
    return JobEntry(
        job_id=row.id, run_id=row.run_id, finished=row.finished,
        model=row.model, backend=row.backend, precision=row.precision,
        dataset=job.dataset or row.dataset, n_images=job.n_images, n_captions=job.n_captions,
        threads=job.threads, towers=towers,
        recall=dict(accuracy.recall) if accuracy else {}, reference_recall=dict(accuracy.reference) if accuracy else {},
        recall_label=accuracy.label if accuracy else "unknown", recall_source=accuracy.source if accuracy else "",
        fidelity={t: asdict(c) for t, c in fidelity.vs_fp32_pytorch.items()} if fidelity else {},
        verdict=record.verdict.status, verdict_message=record.verdict.message,
        provenance=asdict(record.provenance) if record.provenance else {},
        ties=dict(accuracy.ties) if accuracy else {},
    )


def problem(row) -> Problem:
    """A failed or skipped JobRow, with its reason."""
    record: JobRecord = row.record
    reason = row.error or record.reason or "no reason recorded"
    return Problem(row.id, row.run_id, row.model, row.backend, row.precision, row.status, " ".join(str(reason).split()),
                   record.phase, row.dataset)
