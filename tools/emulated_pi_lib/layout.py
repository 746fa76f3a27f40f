"""Where the emulated device keeps its files, and what it is made of.

    <root>/rootfs/   the Debian arm64 root filesystem (the device's disk)
    <root>/state/    the host's side: ssh key, known_hosts, cpuinfo, pid and
                     mount records, build stamps, logs, the written profile
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROOT = Path("/var/cache/edge-bench/emulated-pi")
DEFAULT_PORT = 2222
DEFAULT_CPU = "cortex-a76"  # the Raspberry Pi 5's core
QEMU_DEFAULT = "default"  # --qemu-cpu value meaning: leave QEMU_CPU unset

SUITE = "trixie"  # Python 3.13, like current Raspberry Pi OS
DEBIAN_PACKAGES = ("python3", "python3-venv", "python3-pip", "openssh-server", "ca-certificates")
VENV = "/opt/edge-bench/venv"
WHEELS = (
    "numpy==2.3.5",
    "psutil==7.2.2",
    "executorch-numpy-runtime==1.4.0",  # torch-free; runs ExecuTorch 1.5.1 .pte files
    "ai-edge-litert==2.3.0",
)
IMPORT_CHECK = (
    "import json, sys, numpy, psutil, executorch_numpy_runtime as en, ai_edge_litert, "
    "ai_edge_litert.interpreter; from importlib.metadata import version as v; "
    "print(json.dumps({'python': sys.version.split()[0], 'numpy': numpy.__version__, "
    "'psutil': psutil.__version__, 'executorch_numpy_runtime': v('executorch-numpy-runtime'), "
    "'executorch': en.runtime_info()['executorch_version'], 'ai_edge_litert': v('ai-edge-litert')}))"
)
CA_IN_ROOTFS = "/etc/edge-bench/host-ca.pem"
PATH_INSIDE = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SSHD_PIDFILE_INSIDE = "/run/edge-bench-sshd.pid"
USER = "pi"  # the unprivileged login, like Raspberry Pi OS's first user; root cannot log in over ssh
USER_ID = 1000  # its uid and gid
USER_HOME = f"/home/{USER}"


def default_root() -> Path:
    """`$EDGE_BENCH_PI_ROOT`, else /var/cache/edge-bench/emulated-pi."""
    value = os.environ.get("EDGE_BENCH_PI_ROOT")
    return Path(value).expanduser() if value else DEFAULT_ROOT


@dataclass(frozen=True)
class Layout:
    """The paths of one emulated device, all under `root`."""

    root: Path

    @classmethod
    def at(cls, root: Path) -> "Layout":
        """The layout under an absolute, symlink-free root."""
        return cls(Path(os.path.realpath(root)))

    @property
    def rootfs(self) -> Path:
        return self.root / "rootfs"

    @property
    def state(self) -> Path:
        return self.root / "state"

    def inside(self, path: str) -> Path:
        """The host path of a path inside the device."""
        return self.rootfs / path.lstrip("/")

    @property
    def lock(self) -> Path:
        return self.state / "lock"

    @property
    def stamp(self) -> Path:
        """Written last by a complete build: JSON with versions and stage times."""
        return self.state / "build.json"

    def stage_stamp(self, stage: str) -> Path:
        """Written when one build stage has finished."""
        return self.state / f"{stage}.done"

    @property
    def build_log(self) -> Path:
        return self.state / "build.log"

    @property
    def key(self) -> Path:
        """The throwaway client key whose public half is the device user's authorized key."""
        return self.state / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.state / "known_hosts"

    @property
    def cpuinfo(self) -> Path:
        """The Raspberry Pi 5 cpuinfo bind-mounted over the device's /proc/cpuinfo."""
        return self.state / "cpuinfo"

    @property
    def mounts(self) -> Path:
        """Mount points made by `start`/`build`, one a line, in mount order."""
        return self.state / "mounts"

    @property
    def pidfile(self) -> Path:
        """The pid of the device's sshd, as started by `start`."""
        return self.state / "sshd.pid"

    @property
    def running(self) -> Path:
        """JSON: port, qemu CPU and pid of the running device."""
        return self.state / "running.json"

    @property
    def sshd_log(self) -> Path:
        return self.state / "sshd.log"

    @property
    def profile(self) -> Path:
        """The device profile `start` writes for this device."""
        return self.state / "emulated-pi.toml"
