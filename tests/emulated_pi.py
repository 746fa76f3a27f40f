"""The emulated Raspberry Pi for tests: built or reused, started, always stopped.

`tools/emulated-pi` does the work (Debian arm64 under qemu-user with its own
sshd, see docs/emulated-pi.md); this module drives it the way a user does, from
its command line. Import the fixtures into a test module:

- `emulated_pi` (session): builds the device when its cached root is absent
  (12-30 min; reused afterwards), starts it, yields an `EmulatedPi`, and stops it
  when the session ends, also after failures. Skipped, with the reason, only
  where the machine cannot emulate (no root, no binfmt_misc, missing tools).
- `emulated_pi_profiles` (function): writes the device's profiles into the
  current config dir (`<config>/devices/emulated-pi.toml` and
  `emulated-pi-qemu-default.toml`, the latter without QEMU_CPU) and returns
  the folder.

The root is `$EDGE_BENCH_PI_ROOT` or /var/cache/edge-bench/emulated-pi (the
script's default); the port `$EDGE_BENCH_PI_PORT`, else a free one.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tools" / "emulated-pi"
DEFAULT_ROOT = Path("/var/cache/edge-bench/emulated-pi")
BUILD_TIMEOUT_S = 60 * 60
START_TIMEOUT_S = 10 * 60
NOT_SUPPORTED = 75  # the script's exit code when this machine cannot emulate
CPU = "cortex-a76"
QEMU_DEFAULT_PROFILE = "emulated-pi-qemu-default"


def pi_root() -> Path:
    """Where the device lives: $EDGE_BENCH_PI_ROOT or the script's default."""
    value = os.environ.get("EDGE_BENCH_PI_ROOT")
    return Path(value) if value else DEFAULT_ROOT


def run_script(*args: str, root: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`tools/emulated-pi ARGS --root ROOT`, output captured as text."""
    argv = [sys.executable, str(SCRIPT), *args, "--root", str(root or pi_root())]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ok(proc: subprocess.CompletedProcess, what: str) -> subprocess.CompletedProcess:
    if proc.returncode != 0:
        pytest.fail(f"tools/emulated-pi {what} failed ({proc.returncode}): {proc.stderr[-2000:]}", pytrace=False)
    return proc


@dataclass
class EmulatedPi:
    """A running emulated Pi and the files a client needs to reach it."""

    root: Path
    port: int
    qemu_cpu: str
    key: Path
    known_hosts: Path
    build: dict = field(default_factory=dict)
    """The build record (versions, stage seconds, rootfs size)."""
    timings: dict = field(default_factory=dict)
    """Wall seconds of this session's build (or reuse), start and stop calls."""

    @property
    def rootfs(self) -> Path:
        return self.root / "rootfs"

    def ssh(self, command: str, qemu_cpu: str | None = None, timeout: float = 300,
            input: bytes | None = None, user: str = "pi") -> subprocess.CompletedProcess:
        """Run a shell line on the device as `user` with plain OpenSSH (bytes out); QEMU_CPU sent along."""
        cpu = qemu_cpu or self.qemu_cpu
        argv = ["ssh", "-F", "none", "-i", str(self.key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                "-o", "LogLevel=ERROR", "-p", str(self.port)]
        if cpu != "default":
            argv += ["-o", f"SetEnv=QEMU_CPU={cpu}"]
        return subprocess.run(argv + [f"{user}@127.0.0.1", command], capture_output=True, timeout=timeout, input=input,
                              stdin=None if input is not None else subprocess.DEVNULL)

    def status(self) -> dict:
        """`tools/emulated-pi status --json`."""
        return json.loads(run_script("status", "--json", root=self.root).stdout)

    def profile_text(self, name: str = "emulated-pi", qemu_cpu: str | None = None) -> str:
        """The device profile the script writes for this device (port and CPU as given)."""
        args = ["profile", "--port", str(self.port), "--qemu-cpu", qemu_cpu or self.qemu_cpu, "--name", name]
        return _ok(run_script(*args, root=self.root), "profile").stdout

    def write_profiles(self, config_dir: Path) -> Path:
        """`emulated-pi.toml` (cortex-a76) and `emulated-pi-qemu-default.toml` in `<config_dir>/devices`."""
        devices = config_dir / "devices"
        devices.mkdir(parents=True, exist_ok=True)
        (devices / "emulated-pi.toml").write_text(self.profile_text())
        (devices / f"{QEMU_DEFAULT_PROFILE}.toml").write_text(self.profile_text(QEMU_DEFAULT_PROFILE, "default"))
        return devices

    def start(self) -> None:
        """Start (a no-op when running), timing it."""
        started = time.monotonic()
        _ok(run_script("start", "--port", str(self.port), "--qemu-cpu", self.qemu_cpu, root=self.root,
                       timeout=START_TIMEOUT_S), "start")
        self.timings["start_s"] = round(time.monotonic() - started, 2)

    def stop(self) -> subprocess.CompletedProcess:
        """Stop (kill its processes, unmount everything under it), timing it."""
        started = time.monotonic()
        proc = run_script("stop", root=self.root, timeout=300)
        self.timings["stop_s"] = round(time.monotonic() - started, 2)
        return proc


def provide_emulated_pi(root: Path | None = None, port: int | None = None) -> EmulatedPi:
    """Check, build (or reuse) and start the device; pytest.skip where it cannot exist."""
    root = root or pi_root()
    check = run_script("check", root=root, timeout=120)
    if check.returncode == NOT_SUPPORTED:
        pytest.skip(f"no emulated Pi on this machine: {check.stderr.strip()}")
    _ok(check, "check")
    started = time.monotonic()
    built = _ok(run_script("build", root=root, timeout=BUILD_TIMEOUT_S), "build")
    build_s = round(time.monotonic() - started, 1)
    current = json.loads(run_script("status", "--json", root=root).stdout)
    port = current.get("port") or port or int(os.environ.get("EDGE_BENCH_PI_PORT") or _free_port())
    pi = EmulatedPi(root=root, port=port, qemu_cpu=current.get("qemu_cpu") or CPU,
                    key=Path(current["key"]), known_hosts=Path(current["known_hosts"]),
                    build=json.loads(built.stdout), timings={"build_or_reuse_s": build_s})
    try:
        pi.start()
    except BaseException:
        pi.stop()
        raise
    return pi


@pytest.fixture(scope="session")
def emulated_pi():
    """The running emulated Pi, shared by the session; stopped at its end whatever happened."""
    pi = provide_emulated_pi()
    try:
        yield pi
    finally:
        proc = pi.stop()
        if proc.returncode != 0:
            print(f"tools/emulated-pi stop failed: {proc.stderr}", file=sys.stderr)


@pytest.fixture
def emulated_pi_profiles(emulated_pi):
    """The device's two profiles (cortex-a76 and qemu's default CPU) in the current config dir."""
    from edge_bench import paths

    return emulated_pi.write_profiles(paths.config_dir())
