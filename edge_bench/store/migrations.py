"""The store's schema as an append-only list of migrations (simonw/llm style).

Never edit a migration that has shipped: add a new one at the end.
"""

from __future__ import annotations

import sqlite3
from typing import Callable

MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = []


def migration(fn: Callable[[sqlite3.Connection], None]) -> Callable[[sqlite3.Connection], None]:
    """Register a migration (they run in definition order)."""
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_runs_and_jobs(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            created TEXT NOT NULL,
            device TEXT NOT NULL,
            plan_key TEXT NOT NULL,
            plan_json TEXT NOT NULL,
            status TEXT NOT NULL,
            edge_bench_version TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(id),
            job_key TEXT NOT NULL,
            model TEXT NOT NULL,
            backend TEXT NOT NULL,
            precision TEXT NOT NULL,
            device TEXT NOT NULL,
            dataset TEXT NOT NULL,
            status TEXT NOT NULL,
            error TEXT,
            started TEXT,
            finished TEXT,
            record_json TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX jobs_run ON jobs(run_id)")
    db.execute("CREATE INDEX jobs_key ON jobs(job_key, status)")
    db.execute("CREATE INDEX runs_plan ON runs(plan_key, created)")


@migration
def m002_runs_lab(db: sqlite3.Connection) -> None:
    """Runs of one lab run (several devices at once) share a lab id."""
    db.execute("ALTER TABLE runs ADD COLUMN lab_id TEXT")
    db.execute("CREATE INDEX runs_lab ON runs(lab_id)")


def _pending(db: sqlite3.Connection) -> list[Callable[[sqlite3.Connection], None]]:
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'").fetchone():
        return list(MIGRATIONS)
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    return [fn for fn in MIGRATIONS if fn.__name__ not in done]


def migrate(db: sqlite3.Connection) -> int:
    """Apply the migrations not yet applied, all in one transaction; returns how many ran.

    `db` must be in autocommit mode (`isolation_level=None`): Python's sqlite3 would
    otherwise commit each CREATE on its own, so a kill or a second process opening
    the same new store mid-way left "table runs already exists" for good. Here the
    write lock is taken first (`BEGIN IMMEDIATE`: a second process waits for it), the
    list is read again under it, and everything or nothing is committed.
    """
    if db.isolation_level is not None:
        raise ValueError("migrate() needs a connection opened with isolation_level=None")
    if not _pending(db):
        return 0
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
        todo = _pending(db)
        for fn in todo:
            fn(db)
            db.execute("INSERT INTO _migrations (name, applied) VALUES (?, datetime('now'))", (fn.__name__,))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return len(todo)
