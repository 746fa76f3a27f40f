"""The device's processes: exactly those whose root directory is the device's root filesystem.

Under qemu-user every process inside is a host process (qemu running the arm64
binary) chrooted into the rootfs, so `/proc/PID/root` names its device; nothing
else on the host is ever signalled.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def rooted_in(rootfs: Path) -> list[int]:
    """Pids of the processes whose root is `rootfs` (or a folder inside it)."""
    target = str(rootfs)
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            root = os.readlink(f"/proc/{entry}/root")
        except OSError:
            continue
        if root == target or root.startswith(target + "/"):
            pids.append(int(entry))
    return pids


def alive(pid: int) -> bool:
    """Is `pid` a live (not zombie) process?"""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def is_device_process(pid: int, rootfs: Path, name: str | None = None) -> bool:
    """Is `pid` alive, rooted in `rootfs` and (given `name`) running that program?"""
    if not alive(pid) or pid not in rooted_in(rootfs):
        return False
    if name is None:
        return True
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(os.path.basename(a.decode(errors="replace")) == name for a in argv[:3])


def terminate(pids: list[int], grace: float = 5.0) -> list[int]:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL; returns the pids that were signalled."""
    hit = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
            hit.append(pid)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(p) for p in hit):
        time.sleep(0.1)
    for pid in hit:
        if alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return hit


def kill_device(rootfs: Path, first: int | None = None) -> list[int]:
    """Stop every process of the device, `first` (its sshd) before the rest, until none is left."""
    killed = []
    if first is not None and first in rooted_in(rootfs):
        killed += terminate([first])
    for _ in range(10):  # sessions may fork while we look
        pids = [p for p in rooted_in(rootfs) if alive(p)]
        if not pids:
            break
        killed += terminate(pids, grace=3.0)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and any(alive(p) for p in rooted_in(rootfs)):
        time.sleep(0.1)
    return killed
