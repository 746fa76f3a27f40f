"""Run locks: a run is measured by one process at a time, so `--resume` never records a job twice.

A process that runs a run holds an exclusive `flock` on `<store dir>/locks/run-<id>.lock` until the run
ends; the operating system drops it when the process dies (even by SIGKILL), so a run left `running`
by a killed process can be resumed, and a live one cannot. Choosing the run (the newest of a plan, or a
new one) and locking it happen under a short plan lock, so two processes starting one plan at once
never pick the same run. Lock files are never deleted: removing a lock file while another process
has it open would let both "hold" it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from edge_bench.errors import StoreError


class RunBusy(StoreError):
    """The run is being measured by another live process (`run_id`): leave it alone."""

    def __init__(self, message: str, run_id: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.run_id = run_id


class RunLock:
    """An exclusive hold on one run, released by `release()` or by the holder's death."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, folder: Path, run_id: str) -> "RunLock":
        """Hold the run's lock now, or raise RunBusy naming the holder."""
        path = _folder(folder) / f"run-{run_id}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            raise RunBusy(f"run {run_id} is still running ({holder or 'held by another process'})", run_id,
                          hint="wait for it to end, or run without --resume to start a new run") from None
        os.ftruncate(fd, 0)
        since = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {since}".encode(), 0)
        return cls(path, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Let go of the run (safe to call twice)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.ftruncate(fd, 0)
            os.close(fd)  # closing the only descriptor drops the flock


@contextmanager
def plan_lock(folder: Path, plan_key: str) -> Iterator[None]:
    """Serialise choosing and locking a run of one plan between processes and threads (a short, blocking hold)."""
    name = hashlib.sha256(plan_key.encode()).hexdigest()[:16]
    fd = os.open(_folder(folder) / f"plan-{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _folder(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the lock folder {folder}: {exc.strerror}") from None
    return folder


def _read(fd: int) -> str:
    try:
        return " ".join(os.pread(fd, 300, 0).decode(errors="replace").split())
    except OSError:
        return ""
