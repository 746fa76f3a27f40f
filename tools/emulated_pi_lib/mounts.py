"""The device's mounts: proc (with a Pi 5 cpuinfo over it), sys, its own /dev, /dev/pts, /dev/shm.

The host's /dev is never bound into the device: /dev is a fresh tmpfs holding
only the harmless character devices (null, zero, full, random, urandom, tty),
/dev/pts a new devpts instance of its own, so no command on the device can
reach a host disk, console or terminal.

Each mount point is recorded as it is made; teardown unmounts the recorded
ones and anything else found under the root filesystem, deepest (and most
recent) first, so a half-done start, an interrupted build or debootstrap's own
leftovers are all cleaned up.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from emulated_pi_lib.errors import PiError
from emulated_pi_lib.layout import Layout


@dataclass(frozen=True)
class Mount:
    """One mount: its target inside the device and the `mount` arguments before the target."""

    target: str
    args: tuple[str, ...]
    private: bool = False  # a bind of a host mount: keep propagation from leaking both ways
    then_readonly: bool = False
    then_populate: bool = False  # the device's /dev: fill it with DEV_NODES and DEV_LINKS


DEV_NODES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9), "tty": (5, 0)}
"""The character devices of the device's /dev (major, minor), each mode 0666: nothing that reaches hardware."""
DEV_LINKS = {"ptmx": "pts/ptmx", "fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
             "stderr": "/proc/self/fd/2"}


def plan(lay: Layout) -> list[Mount]:
    """What the device needs mounted, in mount order."""
    return [
        Mount("proc", ("-t", "proc", "-o", "nosuid,nodev,noexec", "proc")),
        Mount("proc/cpuinfo", ("--bind", str(lay.cpuinfo)), then_readonly=True),
        Mount("sys", ("-t", "sysfs", "-o", "ro,nosuid,nodev,noexec", "sysfs")),
        Mount("dev", ("-t", "tmpfs", "-o", "mode=755,nosuid,noexec,size=64k", "tmpfs"), then_populate=True),
        Mount("dev/pts", ("-t", "devpts", "-o", "newinstance,ptmxmode=0666,mode=620,gid=5,nosuid,noexec", "devpts")),
        Mount("dev/shm", ("-t", "tmpfs", "-o", "mode=1777,nosuid,nodev,size=512m", "tmpfs")),
    ]


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mount_points() -> list[str]:
    """Every mount point of this mount namespace, in mount order (stacked ones repeat)."""
    with open("/proc/self/mountinfo") as handle:
        return [_unescape(line.split()[4]) for line in handle]


def mounted_under(path: Path) -> list[str]:
    """Mount points strictly below `path` (not `path` itself), in mount order."""
    prefix = str(path).rstrip("/") + "/"
    return [p for p in mount_points() if p.startswith(prefix)]


def is_mounted(path: Path) -> bool:
    """Is something mounted exactly at `path`?"""
    return str(path) in mount_points()


def mount_all(lay: Layout) -> list[str]:
    """Mount what is missing, recording each mount point; returns those mounted now."""
    made = []
    for mount in plan(lay):
        target = lay.rootfs / mount.target
        if is_mounted(target):
            continue
        if not target.exists():
            raise PiError(f"mount point {target} is missing", hint="the root filesystem is incomplete: run `build`")
        _mount([*mount.args, str(target)])
        with open(lay.mounts, "a") as record:
            record.write(f"{target}\n")
        made.append(str(target))
        if mount.private:
            _mount(["--make-private", str(target)])
        if mount.then_readonly:
            _mount(["-o", "remount,bind,ro", str(target)])
        if mount.then_populate:
            populate_dev(target)
    return made


def populate_dev(dev: Path) -> None:
    """The device's /dev on its fresh tmpfs: DEV_NODES, DEV_LINKS, and the pts and shm mount points."""
    for name, (major, minor) in DEV_NODES.items():
        node = dev / name
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        node.chmod(0o666)  # mknod applies the umask
    for name, target in DEV_LINKS.items():
        (dev / name).symlink_to(target)
    for folder in ("pts", "shm"):
        (dev / folder).mkdir(mode=0o755)


def _mount(args: list[str]) -> None:
    proc = subprocess.run(["mount", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise PiError(f"mount {' '.join(args)} failed: {proc.stderr.strip()}")


def unmount_all(lay: Layout, say) -> list[str]:
    """Unmount everything under the root filesystem, deepest and newest first; returns what was unmounted."""
    recorded = lay.mounts.read_text().split() if lay.mounts.exists() else []
    done: list[str] = []
    for _ in range(32):  # stacked mounts need one pass each
        found = mounted_under(lay.rootfs)
        if not found:
            break
        order = {p: i for i, p in enumerate(recorded + found)}
        target = max(found, key=lambda p: (p.count("/"), order.get(p, 0)))
        _unmount(target, say)
        done.append(target)
    left = mounted_under(lay.rootfs)
    if left:
        raise PiError(f"still mounted under {lay.rootfs}: {', '.join(left)}",
                      hint="a process outside the device may hold them; see `fuser -vm PATH`")
    lay.mounts.unlink(missing_ok=True)
    return done


def _unmount(target: str, say) -> None:
    for attempt in range(25):
        proc = subprocess.run(["umount", target], capture_output=True, text=True)
        if proc.returncode == 0 or target not in mount_points():
            return
        time.sleep(0.2)
    say(f"warning: {target} is busy ({proc.stderr.strip()}); detaching it lazily")
    subprocess.run(["umount", "-l", target], capture_output=True, text=True)
