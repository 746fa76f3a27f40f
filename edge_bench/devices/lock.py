"""One edge-bench process at a time on a device: an advisory lock file per device on this host.

The lock is `flock` on `<cache dir>/device-locks/<device>.lock` (Linux and macOS
hosts), so it goes with its process: a killed run never leaves a stale lock.
The holder writes who it is into the file; a second process waits up to the
profile's `timeouts.lock` seconds, then fails with one line naming the holder.
Within one process the lock is shared (a device is one job at a time there anyway).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import socket
import sys
import threading
import time
from pathlib import Path

from edge_bench import paths
from edge_bench.devices.errors import DeviceBusy

_POLL_S = 0.2
_held: dict[str, list] = {}
"""Lock path -> [open file, users] for the locks this process holds."""
_guard = threading.Lock()
_gates: dict[str, threading.Lock] = {}
"""Lock path -> the in-process gate its first taker holds while it waits for the flock (the others then share)."""


def lock_path(key: str) -> Path:
    """The lock file of the device called `key` (e.g. 'ssh:pi@10.0.0.5:22')."""
    slug = re.sub(r"[^A-Za-z0-9.@_-]+", "_", key)[:60]
    folder = paths.cache_dir() / "device-locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{slug}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.lock"


class DeviceLock:
    """The lock of one device; `acquire` then `release` (both idempotent per object)."""

    def __init__(self, key: str, name: str) -> None:
        self.key, self.name = key, name
        self.path = str(lock_path(key))
        self._mine = False

    def acquire(self, wait: float) -> None:
        """Hold the lock, waiting up to `wait` seconds; DeviceBusy names the holder when it stays taken."""
        if self._mine:
            return
        with _guard:
            gate = _gates.setdefault(self.path, threading.Lock())
        # one thread of this process takes the flock; threads that ask meanwhile (a lab's devices on one host)
        # wait for it and share, rather than each opening the file and waiting on the flock their own process holds
        with gate:
            self._acquire(wait)

    def _acquire(self, wait: float) -> None:
        with _guard:
            if self.path in _held:
                _held[self.path][1] += 1
                self._mine = True
                return
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115  (kept open while held)
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _describe(self.path)
                    handle.close()
                    raise DeviceBusy(f"device {self.name} is in use by another edge-bench process ({holder}); waited {wait:g} s",
                                     hint="wait for it to finish or stop it; raise timeouts.lock in the profile to wait longer") from None
                time.sleep(_POLL_S)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S"),
                                 "command": " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:200]}))
        handle.flush()
        with _guard:
            _held[self.path] = [handle, 1]
        self._mine = True

    def release(self) -> None:
        """Let go (the file closes, and with it the flock, when the last user in this process releases)."""
        if not self._mine:
            return
        self._mine = False
        with _guard:
            entry = _held.get(self.path)
            if entry is None:
                return
            entry[1] -= 1
            if entry[1] == 0:
                del _held[self.path]
                entry[0].close()


def _describe(path: str) -> str:
    """Who the lock file says holds it."""
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "holder unknown"
    return f"pid {info.get('pid')} on {info.get('host')} since {info.get('since')}: {info.get('command')}"
