"""The ssh transport: the OpenSSH client binaries, driven through subprocess.

Every command runs as `ssh [options] -- HOST 'one quoted shell line'`, with
BatchMode (never a prompt), StrictHostKeyChecking=yes (an unknown or changed
host key is an error, never accepted), and by default one shared connection
(ControlMaster) whose socket lives in a private temporary folder. Files move
as a stream over the same connection: `cat` for a file, `tar` for a folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import weakref
from pathlib import Path

from edge_bench.devices.base import CommandResult, Transport, command_script, split_status
from edge_bench.devices.errors import CommandTimeout, ToolMissing
from edge_bench.devices.profile import DeviceProfile
from edge_bench.devices.registry import register_transport
from edge_bench.devices.ssh_errors import classify
from edge_bench.devices.ssh_files import pull_stream, push_stream
from edge_bench.errors import ConfigError

# Options a profile may not set: host keys are always checked, never prompted for.
_LOCKED_OPTIONS = frozenset(
    o.lower() for o in ("BatchMode", "StrictHostKeyChecking", "UserKnownHostsFile", "GlobalKnownHostsFile",
                        "KnownHostsCommand", "UpdateHostKeys", "ControlPath", "ControlMaster", "ControlPersist")
)
_DEFAULT_OPTIONS = {"ServerAliveInterval": "5", "ServerAliveCountMax": "3", "LogLevel": "ERROR"}
CONTROL_PERSIST_S = 60
"""Seconds an idle shared connection stays open after the last command."""


@register_transport
class SshTransport(Transport):
    """A device reached with OpenSSH (a Raspberry Pi, a Mac, any POSIX host)."""

    name = "ssh"
    binary = "ssh"

    def __init__(self, profile: DeviceProfile) -> None:
        super().__init__(profile)
        self._ssh = shutil.which("ssh")
        if self._ssh is None:
            raise ToolMissing("the OpenSSH client (ssh) is not installed here", hint="install openssh-client")
        identity = os.path.expanduser(profile.ssh.identity_file)
        if identity and not os.access(identity, os.R_OK):
            raise ConfigError(f"[ssh] identity_file {profile.ssh.identity_file} of device {profile.name!r} is not readable here",
                              hint="point it at your private key, or set it to '' to use ssh's default keys and agent")
        self._control_dir = _private_dir() if profile.ssh.control_master else None
        if self._control_dir:  # removed even if close() is never called
            weakref.finalize(self, shutil.rmtree, self._control_dir, ignore_errors=True)

    @classmethod
    def address(cls, profile: DeviceProfile) -> str:
        """user@host:port as configured."""
        ssh = profile.ssh
        user = f"{ssh.user}@" if ssh.user else ""
        return f"{user}{ssh.host}:{ssh.port}"

    @classmethod
    def validate(cls, profile: DeviceProfile, source: str) -> None:
        """[ssh] host is required; options may not weaken host key checking."""
        ssh = profile.ssh
        if not ssh.host:
            raise ConfigError(f"transport 'ssh' needs [ssh] host in {source}")
        if ssh.host.startswith("-") or any(c.isspace() for c in ssh.host):
            raise ConfigError(f"[ssh] host {ssh.host!r} is not a host name, in {source}")
        if not 0 < ssh.port < 65536 or ssh.connect_timeout <= 0:
            raise ConfigError(f"[ssh] port must be 1-65535 and connect_timeout > 0 in {source}")
        for key in ssh.options:
            if key.lower() in _LOCKED_OPTIONS:
                raise ConfigError(f"[ssh] options may not set {key} (in {source})",
                                  hint="host keys are always checked; point [ssh] known_hosts at the file to use")

    # --- command lines ----------------------------------------------------------------

    @property
    def destination(self) -> str:
        """user@host for messages."""
        ssh = self.profile.ssh
        return f"{ssh.user}@{ssh.host}" if ssh.user else ssh.host

    def ssh_args(self, connect_timeout: float | None = None) -> list[str]:
        """The ssh command line up to and including the host (the remote line follows)."""
        ssh = self.profile.ssh
        args = [self._ssh or "ssh"]
        if ssh.config_file:
            args += ["-F", os.path.expanduser(ssh.config_file) if ssh.config_file != "none" else "none"]
        # ssh keeps the first value it sees for an option: the locked ones go first.
        args += ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UpdateHostKeys=no"]
        if ssh.known_hosts:
            args += ["-o", f"UserKnownHostsFile={os.path.expanduser(ssh.known_hosts)}", "-o", "GlobalKnownHostsFile=/dev/null"]
        args += self._control_args()
        for key, value in {**ssh.options, **{k: v for k, v in _DEFAULT_OPTIONS.items() if k not in ssh.options}}.items():
            args += ["-o", f"{key}={value}"]
        timeout = min(ssh.connect_timeout, connect_timeout) if connect_timeout else ssh.connect_timeout
        args += ["-o", f"ConnectTimeout={max(1, round(timeout))}", "-p", str(ssh.port)]
        if ssh.user:
            args += ["-l", ssh.user]
        if ssh.identity_file:
            args += ["-i", os.path.expanduser(ssh.identity_file), "-o", "IdentitiesOnly=yes"]
        return args + ["--", ssh.host]

    def _control_args(self) -> list[str]:
        if self._control_dir is None:
            return ["-o", "ControlMaster=no", "-o", "ControlPath=none"]
        return ["-o", "ControlMaster=auto", "-o", f"ControlPath={self._control_dir}/%C",
                "-o", f"ControlPersist={CONTROL_PERSIST_S}"]

    # --- the interface ----------------------------------------------------------------

    def _run(self, argv: list[str], timeout: float | None, input: bytes | None, env: dict[str, str]) -> CommandResult:
        """Run `argv` on the device; see Transport.run."""
        return self._run_script(command_script(argv, self.workdir, env, not self._workdir_ready), timeout, input)

    def _run_script(self, script: str, timeout: float | None = None, input: bytes | None = None,
                    connect_timeout: float | None = None) -> CommandResult:
        """One remote shell line built by `command_script` / `wrap_script`."""
        started = time.perf_counter()
        try:
            proc = subprocess.run(self.ssh_args(connect_timeout) + [script], input=input, capture_output=True,
                                  timeout=timeout, stdin=None if input is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise CommandTimeout(f"command on {self.destination} did not finish within {timeout:g} s and was stopped") from None
        status, out, err = split_status(proc.stdout, proc.stderr)
        if status is None:
            raise classify(proc.stderr, self.destination, self.profile.ssh.known_hosts or "~/.ssh/known_hosts")
        self._workdir_ready = True
        return CommandResult(status, out, err, time.perf_counter() - started)

    def push(self, local: Path, remote: str) -> None:
        """Stream a file (cat) or folder (tar) to `remote` over the connection."""
        push_stream(self, Path(local), self.resolve(remote))

    def pull(self, remote: str, local: Path) -> None:
        """Stream a device file or folder to `local` over the connection."""
        pull_stream(self, self.resolve(remote), Path(local))

    def check(self, timeout: float | None = None) -> None:
        """Connect, authenticate and create the workdir; raises ConnectionFailed when not."""
        script = command_script(["true"], self.workdir, {}, make_workdir=True)
        self._run_script(script, timeout=None if timeout is None else timeout + 5, connect_timeout=timeout).check(
            f"creating the working directory {self.workdir} on {self.destination}")

    def close(self) -> None:
        """Stop the shared connection and remove its private folder."""
        if self._control_dir is None:
            return
        args = self.ssh_args()
        args[-2:-2] = ["-O", "exit"]
        control, self._control_dir = self._control_dir, None
        try:
            subprocess.run(args, capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            pass
        shutil.rmtree(control, ignore_errors=True)


def _private_dir() -> str:
    """A 0700 folder with a short path (unix socket paths are limited to ~104 bytes)."""
    base = "/tmp" if os.path.isdir("/tmp") else None
    return tempfile.mkdtemp(prefix="eb-ssh-", dir=base)
