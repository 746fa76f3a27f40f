"""Building the device: debootstrap, host-side configuration, the venv of device wheels.

Each slow stage writes a stamp when it has finished; a stage without its stamp
is redone from the start (an interrupted debootstrap is wiped, not trusted).
`build.json` is written last and is what "built" means.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Iterator

from emulated_pi_lib import host, mounts, procs
from emulated_pi_lib.cpuinfo import RPI5_CPUINFO
from emulated_pi_lib.errors import PiError
from emulated_pi_lib.layout import (CA_IN_ROOTFS, DEBIAN_PACKAGES, IMPORT_CHECK, SUITE, USER, USER_HOME, USER_ID,
                                    VENV, WHEELS, Layout)


def build(lay: Layout, cpu: str, mirror: str | None, say) -> dict:
    """Make whatever is missing; returns the build record (also in `build.json`)."""
    entry = host.ensure_binfmt()
    lay.state.mkdir(parents=True, exist_ok=True)
    if lay.stamp.exists() and _stamp_current(lay):
        say(f"already built ({lay.stamp})")
        configure(lay, entry)
        return json.loads(lay.stamp.read_text())
    lay.stamp.unlink(missing_ok=True)
    mirror = mirror or host.apt_mirror()
    started = time.monotonic()
    debootstrap(lay, mirror, say)
    configure(lay, entry)
    with _mounted(lay, say):
        versions = venv(lay, cpu, say)
    stages = {stage: _stage_seconds(lay, stage) for stage in ("debootstrap", "venv")}
    record = {
        "suite": SUITE, "mirror": mirror, "packages": list(DEBIAN_PACKAGES), "wheels": list(WHEELS),
        "versions": versions, "stage_seconds": stages, "from_scratch_seconds": round(sum(stages.values()), 1),
        "this_run_seconds": round(time.monotonic() - started, 1),
        "rootfs_bytes": _du(lay.rootfs), "qemu": _qemu_version(),
        "built_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    lay.stamp.write_text(json.dumps(record, indent=2) + "\n")
    say(f"built in {record['this_run_seconds']:.0f} s ({lay.stamp})")
    return record


def _stamp_current(lay: Layout) -> bool:
    """A build stamp counts when its wheels are today's list and the venv is there."""
    try:
        record = json.loads(lay.stamp.read_text())
    except (OSError, ValueError):
        return False
    return record.get("wheels") == list(WHEELS) and lay.inside(f"{VENV}/bin/python").exists()


def _stage_seconds(lay: Layout, stage: str) -> float:
    """How long a finished stage took when it ran (from its stamp)."""
    return float(json.loads(lay.stage_stamp(stage).read_text())["seconds"])


def debootstrap(lay: Layout, mirror: str, say) -> None:
    """Debian arm64 (minbase + Python + sshd) into the rootfs, unless its stamp says it is there."""
    stamp = lay.stage_stamp("debootstrap")
    if stamp.exists():
        return
    if lay.rootfs.exists():
        say(f"removing a half-made root filesystem at {lay.rootfs}")
        wipe(lay, say)
    say(f"debootstrap {SUITE} arm64 from {mirror} (8-20 min, longer on a busy machine; log: {lay.build_log})")
    started = time.monotonic()
    argv = ["debootstrap", "--arch=arm64", "--variant=minbase", f"--include={','.join(DEBIAN_PACKAGES)}",
            SUITE, str(lay.rootfs), mirror]
    try:
        host.run(argv, log=lay.build_log, what="debootstrap")
    finally:  # a failed or interrupted debootstrap leaves processes and proc behind
        procs.kill_device(lay.rootfs)
        mounts.unmount_all(lay, say)
    seconds = round(time.monotonic() - started, 1)
    stamp.write_text(json.dumps({"seconds": seconds, "mirror": mirror}) + "\n")


def wipe(lay: Layout, say) -> None:
    """Delete the rootfs, only once nothing of it runs and nothing is mounted under it."""
    procs.kill_device(lay.rootfs)
    mounts.unmount_all(lay, say)
    subprocess.run(["rm", "-rf", "--one-file-system", str(lay.rootfs)], check=True)


def configure(lay: Layout, binfmt: dict) -> None:
    """The quick, host-side part (redone on every build): cpuinfo, CA bundle, DNS, the device user, ssh keys."""
    lay.cpuinfo.write_text(RPI5_CPUINFO)
    ca = lay.inside(CA_IN_ROOTFS)
    ca.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(host.ca_bundle(), ca)
    resolv = lay.inside("/etc/resolv.conf")
    resolv.unlink(missing_ok=True)  # may be a dangling symlink to a resolver the device lacks
    shutil.copyfile("/etc/resolv.conf", resolv)
    host.install_interpreter(lay.rootfs, binfmt)
    device_user(lay)
    _ssh_keys(lay)


def device_user(lay: Layout) -> None:
    """The unprivileged login USER (uid and gid USER_ID, a private home), written into the rootfs's own files."""
    entries = {"passwd": f"{USER}:x:{USER_ID}:{USER_ID}:edge-bench device user:{USER_HOME}:/bin/bash",
               "group": f"{USER}:x:{USER_ID}:", "shadow": f"{USER}:*:20000::::::"}  # "*": no password (not "!", which sshd reads as a locked account)
    for name, line in entries.items():
        path = lay.inside(f"/etc/{name}")
        text = path.read_text()
        if not any(row.split(":")[0] == USER for row in text.splitlines()):
            path.write_text(text + ("" if text.endswith("\n") or not text else "\n") + line + "\n")
    home = lay.inside(USER_HOME)
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    home.chmod(0o700)
    os.chown(home, USER_ID, USER_ID)


def _ssh_keys(lay: Layout) -> None:
    if not lay.key.exists():
        host.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "edge-bench emulated-pi",
                  "-f", str(lay.key)], what="ssh-keygen")
    hostkey = lay.inside("/etc/ssh/ssh_host_ed25519_key")
    if not hostkey.exists():
        host.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(hostkey)], what="ssh-keygen")
    lay.inside("/root/.ssh/authorized_keys").unlink(missing_ok=True)  # earlier builds let root log in
    ssh_dir = lay.inside(f"{USER_HOME}/.ssh")
    ssh_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    authorized = ssh_dir / "authorized_keys"
    authorized.write_text(Path(f"{lay.key}.pub").read_text())
    authorized.chmod(0o600)
    for path in (ssh_dir, authorized):
        os.chown(path, USER_ID, USER_ID)


def venv(lay: Layout, cpu: str, say) -> dict:
    """A venv at VENV with the device wheels (unless its stamp lists today's); the runtime versions."""
    stamp = lay.stage_stamp("venv")
    if stamp.exists():
        record = json.loads(stamp.read_text())
        if record.get("wheels") == list(WHEELS):
            return record["versions"]
    started = time.monotonic()
    shutil.rmtree(lay.inside(VENV), ignore_errors=True)
    say(f"venv {VENV} with {' '.join(WHEELS)} (3-8 min)")
    inside(lay, cpu, ["/usr/bin/python3", "-m", "venv", VENV], what="python3 -m venv")
    pip_env = [f"PIP_CERT={CA_IN_ROOTFS}", f"SSL_CERT_FILE={CA_IN_ROOTFS}", "PIP_DISABLE_PIP_VERSION_CHECK=1",
               "PIP_NO_CACHE_DIR=1", "PIP_DEFAULT_TIMEOUT=180"]
    inside(lay, cpu, ["/usr/bin/env", *pip_env, f"{VENV}/bin/pip", "install", *WHEELS], what="pip install")
    versions = json.loads(inside(lay, cpu, [f"{VENV}/bin/python", "-c", IMPORT_CHECK], what="import check"))
    seconds = round(time.monotonic() - started, 1)
    stamp.write_text(json.dumps({"seconds": seconds, "wheels": list(WHEELS), "versions": versions}) + "\n")
    return versions


def inside(lay: Layout, cpu: str, argv: list[str], what: str) -> str:
    """Run a command inside the device (chroot, clean environment, the qemu CPU); its stdout."""
    proc = subprocess.run(["chroot", str(lay.rootfs), *argv], env=host.qemu_env(cpu),
                          capture_output=True, text=True)
    with open(lay.build_log, "a") as log:
        log.write(f"$ {' '.join(argv)}\n{proc.stdout}{proc.stderr}")
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-4:])
        raise PiError(f"{what} inside the device failed (exit {proc.returncode}): {tail}",
                           hint=f"full output in {lay.build_log}")
    return proc.stdout


@contextlib.contextmanager
def _mounted(lay: Layout, say) -> Iterator[None]:
    """proc, sys and /dev for the build; torn down after unless the device was already running."""
    running = bool(mounts.mounted_under(lay.rootfs)) and bool(procs.rooted_in(lay.rootfs))
    mounts.mount_all(lay)
    try:
        yield
    finally:
        if not running:
            procs.kill_device(lay.rootfs)
            mounts.unmount_all(lay, say)


def _du(path: Path) -> int:
    out = subprocess.run(["du", "-sxb", str(path)], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else 0


def _qemu_version() -> str:
    qemu = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")
    if not qemu:
        return ""
    out = subprocess.run([qemu, "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else ""
