"""The store's migrations: one transaction, so a kill mid-way or two processes opening one new store both end usable.

Each test starts real Python processes on one SQLite file. The hook that holds a process inside the migration is
test-side: the child wraps the first migration (same name) so that it signals, then waits, after its DDL ran.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from edge_bench.store import Store
from edge_bench.store.migrations import MIGRATIONS

CHILD = textwrap.dedent("""
    import functools, sys, time
    from pathlib import Path
    from edge_bench.store import migrations

    store_path, marker, hold = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    first = migrations.MIGRATIONS[0]

    @functools.wraps(first)
    def held(db):
        first(db)                      # the DDL of the first migration has run ...
        marker.write_text("inside")    # ... and this process is still inside the migration
        time.sleep(hold)

    migrations.MIGRATIONS[0] = held
    from edge_bench.store import Store
    store = Store(Path(store_path))
    run = store.create_run("local", "plan", {}, "test")
    print(run.id)
""")


def child(tmp_path: Path, store: Path, name: str, hold: float) -> tuple[subprocess.Popen, Path]:
    marker = tmp_path / f"{name}.inside"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(store), str(marker), str(hold)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, marker


def wait_for(path: Path, proc: subprocess.Popen, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"the child ended before the migration: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            pytest.fail("the child never reached the migration")
        time.sleep(0.05)


def usable(path: Path) -> None:
    """The store opens, has every migration recorded once, and takes a run and reads it back."""
    store = Store(path)
    try:
        names = [r[0] for r in store.db.execute("SELECT name FROM _migrations ORDER BY name")]
        assert names == sorted(fn.__name__ for fn in MIGRATIONS)
        run = store.create_run("local", "k", {"a": 1}, "test")
        assert store.run(run.id).plan == {"a": 1}
    finally:
        store.close()


def test_a_store_killed_during_its_migration_opens_afterwards(tmp_path):
    path = tmp_path / "results.sqlite"
    proc, marker = child(tmp_path, path, "killed", hold=120)
    wait_for(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    usable(path)  # before: "table runs already exists" on every later open


def test_two_processes_opening_one_new_store_both_succeed(tmp_path):
    path = tmp_path / "results.sqlite"
    first, marker = child(tmp_path, path, "first", hold=1.0)
    wait_for(marker, first)  # the first is inside the migration: the second opens the same new store now
    second, _ = child(tmp_path, path, "second", hold=0.0)
    outs = [p.communicate(timeout=120) for p in (first, second)]
    for proc, (out, err) in zip((first, second), outs):
        assert proc.returncode == 0, err
        assert out.strip().startswith("r")
    usable(path)
    store = Store(path)
    assert len(store.runs()) == 3  # both children's runs, and usable()'s
    store.close()


def test_migrate_refuses_a_connection_with_implicit_transactions(tmp_path):
    import sqlite3

    from edge_bench.store.migrations import migrate

    with pytest.raises(ValueError, match="isolation_level=None"):
        migrate(sqlite3.connect(tmp_path / "x.sqlite"))
