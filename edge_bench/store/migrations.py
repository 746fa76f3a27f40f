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


def migrate(db: sqlite3.Connection) -> int:
    """Apply the migrations not yet applied; returns how many ran."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    count = 0
    for fn in MIGRATIONS:
        if fn.__name__ in done:
            continue
        with db:
            fn(db)
            db.execute("INSERT INTO _migrations (name, applied) VALUES (?, datetime('now'))", (fn.__name__,))
        count += 1
    return count
