"""The host side: privileges, tools, binfmt_misc, the apt mirror, the lock, commands."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator

from emulated_pi_lib.errors import Busy, NotSupported, PiError
from emulated_pi_lib.layout import PATH_INSIDE, QEMU_DEFAULT

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
BINFMT_ENTRY = BINFMT_DIR / "qemu-aarch64"
FALLBACK_MIRROR = "http://deb.debian.org/debian"
TOOLS = {"debootstrap": "debootstrap", "chroot": "coreutils", "mount": "mount", "umount": "mount",
         "ssh": "openssh-client", "ssh-keygen": "openssh-client", "update-binfmts": "binfmt-support"}


def run(argv: list[str], log: Path | None = None, env: dict | None = None, timeout: float | None = None,
        what: str | None = None) -> str:
    """Run a host command; its output goes to `log` (or is returned); failure is a PiError.

    The command gets a process group of its own, killed whole when this one is
    interrupted: debootstrap's chrooted dpkg must not outlive an aborted build.
    """
    out = open(log, "a") if log else subprocess.PIPE
    try:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, text=True,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            stdout, _ = proc.communicate(timeout=timeout)
        except BaseException:
            _kill_group(proc)
            raise
    finally:
        if log:
            out.close()
    if proc.returncode != 0:
        detail = _tail(log) if log else (stdout or "").strip()[-800:]
        raise PiError(f"{what or argv[0]} failed (exit {proc.returncode}): {detail}",
                      hint=f"full output in {log}" if log else None)
    return stdout or ""


def _kill_group(proc: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(path: Path, lines: int = 6) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def qemu_env(cpu: str) -> dict[str, str]:
    """The environment of a process started inside: a clean PATH and the qemu CPU model."""
    env = {"PATH": PATH_INSIDE, "HOME": "/root", "LANG": "C.UTF-8"}
    if cpu != QEMU_DEFAULT:
        env["QEMU_CPU"] = cpu
    return env


def require_root() -> None:
    """Mounting and chroot need root."""
    if os.geteuid() != 0:
        raise NotSupported("the emulated Pi needs root (mount, chroot)", hint="run it as root, e.g. with sudo")


def require_tools() -> None:
    """The host tools the emulator uses, with the Debian package to install when one is missing."""
    missing = {tool: pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None}
    if missing:
        pkgs = " ".join(sorted(set(missing.values()) | {"qemu-user-static"}))
        raise NotSupported(f"missing host tools: {', '.join(missing)}", hint=f"apt-get install {pkgs}")


def ensure_binfmt() -> dict[str, str]:
    """Mount binfmt_misc and enable qemu-aarch64; returns the entry's fields."""
    if not (BINFMT_DIR / "status").exists():
        proc = subprocess.run(["mount", "binfmt_misc", "-t", "binfmt_misc", str(BINFMT_DIR)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise NotSupported(f"cannot mount binfmt_misc: {proc.stderr.strip()}",
                               hint="run on a host (or privileged container) that allows binfmt_misc")
    if not BINFMT_ENTRY.exists() or not BINFMT_ENTRY.read_text().startswith("enabled"):
        proc = subprocess.run(["update-binfmts", "--enable", "qemu-aarch64"], capture_output=True, text=True)
        if proc.returncode != 0 or not BINFMT_ENTRY.exists():
            raise NotSupported(f"cannot enable qemu-aarch64 in binfmt_misc: {proc.stderr.strip()}",
                               hint="apt-get install qemu-user-static binfmt-support")
    return binfmt_entry()


def binfmt_entry() -> dict[str, str]:
    """The qemu-aarch64 binfmt entry: 'state', 'interpreter', 'flags'."""
    fields = {"state": "absent", "interpreter": "", "flags": ""}
    if BINFMT_ENTRY.exists():
        lines = BINFMT_ENTRY.read_text().splitlines()
        fields["state"] = lines[0].strip() if lines else "unknown"
        for line in lines[1:]:
            key, _, value = line.partition(" ")
            if key in ("interpreter", "flags:"):
                fields[key.rstrip(":")] = value.strip()
    return fields


def install_interpreter(rootfs: Path, entry: dict[str, str]) -> None:
    """Without binfmt's F flag the kernel looks for qemu inside the chroot: put a copy there."""
    if "F" in entry["flags"] or not entry["interpreter"]:
        return
    target = rootfs / entry["interpreter"].lstrip("/")
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.realpath(entry["interpreter"]), target)


def apt_mirror() -> str:
    """The Debian mirror apt already uses here (deb822 .sources or one-line .list files)."""
    files = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    files += sorted(Path("/etc/apt/sources.list.d").glob("*.list")) + [Path("/etc/apt/sources.list")]
    for path in files:
        try:
            text = path.read_text()
        except OSError:
            continue
        uris = re.findall(r"^URIs:\s*(\S+)", text, re.M) + re.findall(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M)
        for uri in uris:
            if uri.rstrip("/").endswith("/debian"):
                return uri.rstrip("/")
    return FALLBACK_MIRROR


def ca_bundle() -> Path:
    """The host's CA bundle (pip inside must trust what the host trusts)."""
    for candidate in (os.environ.get("SSL_CERT_FILE"), os.environ.get("PIP_CERT"),
                      "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise PiError("no CA bundle found on the host", hint="set SSL_CERT_FILE to the host's CA bundle")


@contextlib.contextmanager
def locked(lock: Path, timeout: float | None, say) -> Iterator[None]:
    """Hold the root's lock: one emulated-pi command at a time per device."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        deadline = None if timeout is None else time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise Busy(f"another emulated-pi command holds {lock}",
                               hint="wait for it to finish, or raise --lock-timeout") from None
                if not told:
                    say(f"waiting for another emulated-pi command on {lock.parent.parent} ...")
                    told = True
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
