"""The SQLite results store: runs and their jobs, each job's full record as JSON.

One row per job keeps the raw samples and the full provenance (in
`record_json`); embeddings live as .npy files beside the database.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from edge_bench.errors import StoreError
from edge_bench.records.job import JobRecord
from edge_bench.store.locks import RunLock, plan_lock
from edge_bench.store.migrations import migrate


def now() -> str:
    """UTC time as ISO 8601, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class RunRow:
    """A run: one plan on one device."""

    id: str
    created: str
    device: str
    plan_key: str
    plan: dict
    status: str
    edge_bench_version: str
    lab_id: str | None = None
    """The lab run this run belongs to (`run --device A,B`), or None."""


@dataclass
class JobRow:
    """A job: one model x backend x precision on one device, with its record."""

    id: str
    run_id: str
    job_key: str
    model: str
    backend: str
    precision: str
    device: str
    dataset: str
    status: str
    error: str | None
    started: str | None
    finished: str | None
    record: JobRecord
    """The typed record (rows of older schemas are upgraded on read)."""


class Store:
    """The results store (SQLite)."""

    def __init__(self, path: Path | None = None) -> None:
        from edge_bench import paths

        self.path = Path(path) if path else paths.data_dir() / "results.sqlite"
        self.embeddings_dir = self.path.parent / "embeddings"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # autocommit: transactions are explicit (BEGIN IMMEDIATE), never Python's implicit ones
            self.db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            migrate(self.db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"results store {self.path} cannot be opened: {exc}") from None
        except OSError as exc:
            raise StoreError(f"results store {self.path} cannot be created: {exc.strerror}") from None

    def close(self) -> None:
        self.db.close()

    def create_run(self, device: str, plan_key: str, plan: dict, version: str, lab_id: str | None = None) -> RunRow:
        """Start a new run (of a lab run when `lab_id` is given)."""
        row = RunRow(f"r{uuid.uuid4().hex[:10]}", now(), device, plan_key, plan, "running", version, lab_id)
        with self.db:
            self.db.execute(
                "INSERT INTO runs (id, created, device, plan_key, plan_json, status, edge_bench_version, lab_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (row.id, row.created, row.device, row.plan_key, json.dumps(plan), row.status, version, lab_id),
            )
        return row

    def lab_runs(self, lab_id: str) -> list[RunRow]:
        """The runs of one lab run (by id or a unique prefix), in device order of creation."""
        ids = {r[0] for r in self.db.execute("SELECT DISTINCT lab_id FROM runs WHERE lab_id LIKE ?", (lab_id + "%",))}
        if not ids:
            raise StoreError(f"no lab run {lab_id!r} in {self.path}", hint="`edge-bench runs` lists them in its lab column")
        if len(ids) > 1:
            raise StoreError(f"lab id {lab_id!r} is ambiguous ({len(ids)} lab runs start with it)")
        rows = self.db.execute("SELECT * FROM runs WHERE lab_id = ? ORDER BY created, rowid", (ids.pop(),))
        return [self._run(r) for r in rows]

    def set_run_status(self, run_id: str, status: str) -> None:
        with self.db:
            self.db.execute("UPDATE runs SET status = ? WHERE id = ?", (status, run_id))

    def add_job(self, run_id: str, record: JobRecord, started: str | None = None) -> JobRow:
        """Append one job's record (jobs are never overwritten: a re-run adds a row)."""
        job = record.job
        row = JobRow(f"j{uuid.uuid4().hex[:10]}", run_id, job.key, job.model, job.backend, job.precision,
                     job.device, job.dataset, record.status, record.reason, started, now(), record)
        with self.db:
            self.db.execute(
                "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row.id, run_id, job.key, row.model, row.backend, row.precision, row.device, row.dataset, row.status,
                 row.error, started, row.finished, json.dumps(record.to_json(), default=_json_default)),
            )
        return row

    def update_record(self, job_id: str, record: JobRecord) -> None:
        """Replace the record of a job attempt with a later state of the same attempt (its repeats added)."""
        with self.db:
            self.db.execute("UPDATE jobs SET record_json = ? WHERE id = ?",
                            (json.dumps(record.to_json(), default=_json_default), job_id))

    def runs(self, device: str | None = None, limit: int | None = None) -> list[RunRow]:
        """Runs, newest first."""
        sql = "SELECT * FROM runs" + (" WHERE device = ?" if device else "") + " ORDER BY created DESC, rowid DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [self._run(r) for r in self.db.execute(sql, (device,) if device else ())]

    def run(self, run_id: str) -> RunRow:
        """A run by id, or by a unique prefix of it."""
        rows = self.db.execute("SELECT * FROM runs WHERE id LIKE ?", (run_id + "%",)).fetchall()
        if not rows:
            raise StoreError(f"no run {run_id!r} in {self.path}", hint="`edge-bench runs` lists them")
        if len(rows) > 1:
            raise StoreError(f"run id {run_id!r} is ambiguous ({len(rows)} runs start with it)")
        return self._run(rows[0])

    def latest_run(self, plan_key: str) -> RunRow | None:
        """The newest run of the same plan, for --resume."""
        row = self.db.execute(
            "SELECT * FROM runs WHERE plan_key = ? ORDER BY created DESC, rowid DESC LIMIT 1", (plan_key,)
        ).fetchone()
        return self._run(row) if row else None

    def jobs(self, run_id: str | None = None, device: str | None = None, status: str | None = None) -> list[JobRow]:
        """Jobs, in the order they finished."""
        where, args = [], []
        for column, value in (("run_id", run_id), ("device", device), ("status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = "SELECT * FROM jobs" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY rowid"
        return [self._job(r) for r in self.db.execute(sql, args)]

    @property
    def locks_dir(self) -> Path:
        """Where run locks live (edge_bench.store.locks), beside the database."""
        return self.path.parent / "locks"

    def lock_run(self, run_id: str) -> RunLock:
        """Hold a run for this process until it ends; RunBusy (one line) when a live process holds it."""
        return RunLock.acquire(self.locks_dir, run_id)

    def plan_lock(self, plan_key: str):
        """A short hold while a run of the plan is chosen and locked (see edge_bench.store.locks)."""
        return plan_lock(self.locks_dir, plan_key)

    def _run(self, r) -> RunRow:
        return RunRow(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7] if len(r) > 7 else None)

    def _job(self, r) -> JobRow:
        try:
            data = json.loads(r[12])
        except ValueError:
            data = {"status": "failed", "reason": "the stored record is not valid JSON"}
        return JobRow(*r[:12], JobRecord.from_json(data))


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
