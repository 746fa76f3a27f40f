"""Device profiles as typed data: one TOML file per device, one `DeviceProfile` each.

The TOML keys are exactly the field names below (see docs/ARCHITECTURE.md,
"Device profiles"); `edge_bench.devices.loader` reads and checks the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KNOWN_BACKENDS = ("executorch", "coreml", "tflite")
"""Backend names a profile may list (the converters' names)."""


@dataclass
class SshSettings:
    """The `[ssh]` table: how to reach the device with the OpenSSH client."""

    host: str = ""
    """Host name or address (required for the ssh transport)."""
    port: int = 22
    """TCP port of the device's sshd."""
    user: str = ""
    """Login name; '' = ssh's default (your ssh config, or your local user name)."""
    identity_file: str = ""
    """Private key file (`-i`, with IdentitiesOnly); '' = ssh's default keys and agent."""
    known_hosts: str = ""
    """known_hosts file to check the host key against; '' = your ~/.ssh/known_hosts.
    Host keys are always checked: an unknown or changed key is an error."""
    connect_timeout: float = 10.0
    """Seconds to wait for the TCP connection and the handshake."""
    options: dict[str, str] = field(default_factory=dict)
    """Extra `-o Key=Value` ssh options, e.g. { ProxyJump = "gateway" }. Options that
    would weaken host key checking are refused."""
    control_master: bool = True
    """Reuse one connection for every command (ControlMaster in a private temp dir)."""
    config_file: str = ""
    """ssh config file (`-F`); '' = ssh's default (~/.ssh/config), 'none' = no config. It may set how to
    connect (HostName, ProxyJump, ProxyCommand, IdentityFile, ciphers, keep-alives); it cannot change host key
    checking, batch mode or the shared connection: edge-bench passes StrictHostKeyChecking=yes, BatchMode=yes,
    UserKnownHostsFile, GlobalKnownHostsFile, KnownHostsCommand=none, UpdateHostKeys=no, CheckHostIP=no and its
    own ControlPath on the command line, which wins over any config file."""


@dataclass
class Timeouts:
    """The `[timeouts]` table: seconds each remote step may take before the job fails (a hung device
    never hangs a run)."""

    check: float = 30.0
    """Reaching the device and preparing its working directory."""
    command: float = 60.0
    """Each small helper command (mkdir, test, rm) and the fingerprint."""
    push: float = 900.0
    """One file or folder sent to the device (the agent, an artifact, inputs)."""
    pull: float = 300.0
    """One job's output folder brought back."""
    job: float = 3600.0
    """One agent run (one tower of one job)."""
    lock: float = 30.0
    """Waiting for another edge-bench process that is running on this device; 0 = fail at once."""
    host: float = 30.0
    """ssh: the device stops a command when edge-bench's heartbeat (every host / 6 s) has been silent this
    long: a host that froze, lost power or lost its network leaves nothing running."""


@dataclass
class AdbSettings:
    """The `[adb]` table: which Android device, through which adb client."""

    serial: str = ""
    """Device serial (`adb -s`); '' = the only attached device."""
    binary: str = "adb"
    """The adb client program: a name looked up on PATH, or a path."""


@dataclass
class DeviceProfile:
    """One device: how to reach it, how to run on it, what it can run."""

    name: str
    """Profile name (defaults to the file name without .toml)."""
    description: str = ""
    """One line for people: board, SoC, cores and clocks."""
    transport: str = "local"
    """How to reach the device: local, ssh or adb."""
    python: str = "python3"
    """The device's Python for the agent and the fingerprint. '' = none (Android: native
    runners). For the local transport, '' = the Python running edge-bench."""
    workdir: str = ""
    """Where artifacts, inputs and results go on the device; relative remote paths
    resolve under it and it is created on first use (mode 0700). '' = the transport's default
    (local: a temporary folder removed on close; ssh: ~/.cache/edge-bench, private to the login user;
    adb: /data/local/tmp/edge-bench). A leading '~/' means the remote home. An existing folder that is
    not owned by the login user, is group- or world-writable, or is a symlink is refused."""
    threads: int = 1
    """Threads the runtimes use."""
    affinity: list[int] = field(default_factory=list)
    """CPU ids to pin the runner to; [] = no pinning."""
    thermal_zones: list[str] = field(default_factory=list)
    """Temperature files read before and after each job (millidegrees Celsius)."""
    backends: list[str] = field(default_factory=list)
    """Backends this device runs: executorch, coreml, tflite."""
    peak_gflops: float = 0.0
    """Peak fp32 GFLOP/s of the CPU cores (0 = unknown), so results show their share."""
    peak_gflops_derivation: str = ""
    """How the peak was derived: cores x clock x FP32 FLOP per cycle."""
    describe_host: bool = False
    """Describe the machine edge-bench runs on (local profiles): description, peak and its derivation are
    read from this host's CPU (model, cores, SIMD features) when the profile loads, replacing the file's."""
    env: dict[str, str] = field(default_factory=dict)
    """Environment variables set for every command run on the device."""
    ssh: SshSettings = field(default_factory=SshSettings)
    """The `[ssh]` table (ssh transport)."""
    adb: AdbSettings = field(default_factory=AdbSettings)
    """The `[adb]` table (adb transport)."""
    timeouts: Timeouts = field(default_factory=Timeouts)
    """The `[timeouts]` table: limits on every remote step."""
    android: dict[str, Any] = field(default_factory=dict)
    """The `[android]` table, kept as read: settings for the Android native runners."""
    source: str = ""
    """The file this profile was read from (set by the loader, not a TOML key)."""

    @property
    def address(self) -> str:
        """Where the device is, as people write it (user@host:port, a serial, ...)."""
        from edge_bench.devices.registry import transport_class

        return transport_class(self.transport).address(self)


INTERNAL_FIELDS = frozenset({"source"})
"""DeviceProfile fields that are not TOML keys."""
