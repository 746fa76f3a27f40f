"""Running the device: mounts, its sshd (under qemu, chrooted), readiness, teardown, status."""

from __future__ import annotations

import json
import socket
import subprocess
import time

from emulated_pi_lib import host, mounts, procs
from emulated_pi_lib.errors import PiError
from emulated_pi_lib.layout import SSHD_PIDFILE_INSIDE, USER, Layout
from emulated_pi_lib.profile import HOST, known_hosts_line, profile_text, ssh_argv

READY_TIMEOUT_S = 120.0


def running(lay: Layout) -> dict | None:
    """The running device's record (port, qemu_cpu, pid), or None when it is not running."""
    try:
        record = json.loads(lay.running.read_text())
    except (OSError, ValueError):
        return None
    pid = record.get("pid")
    if isinstance(pid, int) and procs.is_device_process(pid, lay.rootfs, "sshd"):
        return record
    return None


def start(lay: Layout, port: int, cpu: str, say) -> dict:
    """Mount, start sshd, wait until `uname -m` answers over ssh; a no-op when already running."""
    current = running(lay)
    if current:
        note = "" if (current["port"], current["qemu_cpu"]) == (port, cpu) else " (stop it first to change port or CPU)"
        say(f"already running on {HOST}:{current['port']} (qemu {current['qemu_cpu']}){note}; profile: {lay.profile}")
        return current
    stop(lay, say, quiet=True)  # leftovers of a half-done start or a crash
    _require_free(port)
    started = time.monotonic()
    try:
        mounts.mount_all(lay)
        lay.inside("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
        hostkey = lay.inside("/etc/ssh/ssh_host_ed25519_key.pub").read_text()
        lay.known_hosts.write_text(known_hosts_line(port, hostkey))
        pid = _spawn_sshd(lay, port, cpu)
        lay.pidfile.write_text(f"{pid}\n")
        machine = _wait_ready(lay, port, cpu, pid)
    except BaseException:
        stop(lay, say, quiet=True)
        raise
    record = {"pid": pid, "port": port, "qemu_cpu": cpu, "host": HOST, "machine": machine,
              "profile": str(lay.profile), "start_seconds": round(time.monotonic() - started, 2)}
    lay.profile.write_text(profile_text(lay, port, cpu))
    lay.running.write_text(json.dumps(record, indent=2) + "\n")
    say(f"running: ssh -p {port} {USER}@{HOST} ({machine}, qemu {cpu}, up in {record['start_seconds']:.1f} s); "
        f"profile: {lay.profile}")
    return record


def _require_free(port: int) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            raise PiError(f"port {port} on {HOST} is in use ({exc.strerror})", hint="pick another with --port") from None


def _spawn_sshd(lay: Layout, port: int, cpu: str) -> int:
    """sshd inside the device, in the foreground of its own session; its pid (the qemu process)."""
    argv = ["chroot", str(lay.rootfs), "/usr/sbin/sshd", "-D", "-e", "-p", str(port),
            "-h", "/etc/ssh/ssh_host_ed25519_key",
            "-o", f"ListenAddress={HOST}", "-o", f"PidFile={SSHD_PIDFILE_INSIDE}",
            "-o", "PermitRootLogin=no", "-o", f"AllowUsers={USER}", "-o", "PasswordAuthentication=no",
            "-o", "KbdInteractiveAuthentication=no", "-o", "UseDNS=no", "-o", "AcceptEnv=LANG LC_* QEMU_CPU",
            "-o", "MaxStartups=32:50:64", "-o", "MaxSessions=32"]
    with open(lay.sshd_log, "a") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                env=host.qemu_env(cpu), start_new_session=True)
    return proc.pid


def _wait_ready(lay: Layout, port: int, cpu: str, pid: int) -> str:
    """Poll until the device answers `uname -m` over ssh; its answer."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    detail = ""
    while time.monotonic() < deadline:
        if not procs.alive(pid):
            raise PiError(f"the device's sshd exited: {_log_tail(lay)}", hint=f"see {lay.sshd_log}")
        try:
            proc = subprocess.run(ssh_argv(lay, port, cpu) + ["uname -m"], capture_output=True, text=True,
                                  timeout=60, stdin=subprocess.DEVNULL)
            if proc.returncode == 0 and proc.stdout.strip():
                return proc.stdout.strip()
            detail = proc.stderr.strip()
        except subprocess.TimeoutExpired:
            detail = "ssh timed out"
        time.sleep(0.5)
    raise PiError(f"the device did not answer over ssh within {READY_TIMEOUT_S:.0f} s: {detail}",
                  hint=f"see {lay.sshd_log}")


def _log_tail(lay: Layout) -> str:
    try:
        return " | ".join(lay.sshd_log.read_text(errors="replace").strip().splitlines()[-4:])
    except OSError:
        return ""


def stop(lay: Layout, say, quiet: bool = False) -> dict:
    """Kill the device's processes (sshd first), unmount everything under it; safe on any state."""
    pid = None
    try:
        pid = int(lay.pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    killed = procs.kill_device(lay.rootfs, first=pid) if lay.rootfs.exists() else []
    unmounted = mounts.unmount_all(lay, say)
    for path in (lay.pidfile, lay.running):
        path.unlink(missing_ok=True)
    if not quiet:
        say(f"stopped: {len(killed)} processes ended, {len(unmounted)} mounts removed")
    return {"killed": killed, "unmounted": unmounted}


def status(lay: Layout) -> dict:
    """Built? running? what is mounted and running under it?"""
    build = None
    if lay.stamp.exists():
        try:
            build = json.loads(lay.stamp.read_text())
        except ValueError:
            build = None
    current = running(lay)
    return {
        "root": str(lay.root), "built": build is not None, "build": build, "running": current is not None,
        **({k: current[k] for k in ("pid", "port", "qemu_cpu")} if current else {}),
        "profile": str(lay.profile) if current else None,
        "mounts": mounts.mounted_under(lay.rootfs),
        "processes": procs.rooted_in(lay.rootfs) if lay.rootfs.exists() else [],
        "key": str(lay.key), "known_hosts": str(lay.known_hosts),
    }
