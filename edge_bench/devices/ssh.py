"""The ssh transport: the OpenSSH client binaries, driven through subprocess.

Every command runs as `ssh [options] -- HOST 'one quoted shell line'`, with
BatchMode (never a prompt), StrictHostKeyChecking=yes (an unknown or changed
host key is an error, never accepted), and by default one shared connection
(ControlMaster) whose socket lives in a private temporary folder. Files move
as a stream over the same connection: `cat` for a file, `tar` for a folder.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path

from edge_bench.devices.base import (
    UNSAFE_STATUS,
    CommandResult,
    Transport,
    command_script,
    split_status,
    strip_start,
    unsafe_workdir,
)
from edge_bench.devices.errors import CommandTimeout, ToolMissing
from edge_bench.devices.profile import DeviceProfile
from edge_bench.devices.registry import register_transport
from edge_bench.devices.ssh_errors import Where, classify
from edge_bench.devices.ssh_files import pull_stream, push_stream
from edge_bench.errors import ConfigError

# Options a profile may not set: host keys are always checked, never prompted for, and no option
# runs a command or loads code here (a config file may set connection options; these still win).
_LOCKED_OPTIONS = frozenset(
    o.lower() for o in ("BatchMode", "StrictHostKeyChecking", "UserKnownHostsFile", "GlobalKnownHostsFile",
                        "KnownHostsCommand", "UpdateHostKeys", "HostKeyAlias", "CheckHostIP", "VerifyHostKeyDNS",
                        "HostKeyAlgorithms", "ControlPath", "ControlMaster", "ControlPersist", "ProxyCommand",
                        "LocalCommand", "PermitLocalCommand", "RemoteCommand", "ProxyUseFdpass", "PKCS11Provider",
                        "SecurityKeyProvider", "SessionType", "StdinNull", "ForkAfterAuthentication", "RequestTTY",
                        "Include", "Match", "Host", "Tunnel", "TunnelDevice")
)
_OPTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")
_HOST = re.compile(r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?|\[?[0-9A-Fa-f:.]+(?:%[A-Za-z0-9]+)?\]?)\Z")
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")
_DEFAULT_OPTIONS = {"ServerAliveInterval": "5", "ServerAliveCountMax": "3", "LogLevel": "ERROR"}
CONTROL_PERSIST_S = 60
"""Seconds an idle shared connection stays open after the last command."""


@register_transport
class SshTransport(Transport):
    """A device reached with OpenSSH (a Raspberry Pi, a Mac, any POSIX host)."""

    name = "ssh"
    binary = "ssh"
    stops_with_host = True  # the watched remote line ends the command when the host goes

    def __init__(self, profile: DeviceProfile) -> None:
        super().__init__(profile)
        self._ssh = shutil.which("ssh")
        if self._ssh is None:
            raise ToolMissing("the OpenSSH client (ssh) is not installed here", hint="install openssh-client")
        identity = os.path.expanduser(profile.ssh.identity_file)
        if identity and not os.access(identity, os.R_OK):
            raise ConfigError(f"ssh.identity_file {profile.ssh.identity_file} of device {profile.name!r} is not readable here",
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
        """[ssh] host is required and must be a host name or address, user a login name; options may not run
        commands, load code or weaken host key checking."""
        ssh = profile.ssh
        if not ssh.host:
            raise ConfigError(f"transport 'ssh' needs [ssh] host in {source}")
        if not _HOST.match(ssh.host):
            raise ConfigError(f"ssh.host {ssh.host!r} is not a host name or IP address, in {source}")
        if ssh.user and not _USER.match(ssh.user):
            raise ConfigError(f"ssh.user {ssh.user!r} is not a login name (letters, digits, '_', '.', '-'), in {source}")
        if not 0 < ssh.port < 65536:
            raise ConfigError(f"ssh.port must be 1-65535, not {ssh.port}, in {source}")
        if ssh.connect_timeout <= 0:
            raise ConfigError(f"ssh.connect_timeout must be > 0 seconds, not {ssh.connect_timeout!r}, in {source}")
        for key, value in ssh.options.items():
            if not _OPTION_NAME.match(key):
                raise ConfigError(f"ssh.options key {key!r} is not an ssh option name, in {source}")
            if key.lower() in _LOCKED_OPTIONS:
                raise ConfigError(f"ssh.options may not set {key}, in {source}: edge-bench sets host key checking, the "
                                  "shared connection and the remote command itself, and runs no local commands",
                                  hint="use ProxyJump for a gateway; point ssh.known_hosts at the host keys to trust")
            if any(c in value for c in "\n\r\0"):
                raise ConfigError(f"ssh.options.{key} holds a line break or NUL, in {source}")

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
        # ssh keeps the first value it sees for an option and reads the command line before any config
        # file: these locked ones win over the profile's options and over what config_file says.
        args += ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UpdateHostKeys=no",
                 "-o", "CheckHostIP=no", "-o", "PermitLocalCommand=no"]
        if _client_version() >= (8, 5):  # older clients know no KnownHostsCommand (and so run none)
            args += ["-o", "KnownHostsCommand=none"]
        if ssh.known_hosts:
            args += ["-o", f"UserKnownHostsFile={_ssh_path(ssh.known_hosts)}", "-o", "GlobalKnownHostsFile=/dev/null"]
        else:
            args += ["-o", "UserKnownHostsFile=~/.ssh/known_hosts ~/.ssh/known_hosts2",
                     "-o", "GlobalKnownHostsFile=/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2"]
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
        """Run `argv` on the device; see Transport.run. Without `input`, the remote side watches a pipe this
        process holds open: if this process dies, is interrupted or loses the connection, the command stops."""
        watch = self.profile.timeouts.host if input is None else 0.0
        script = command_script(argv, self.workdir, env, not self._workdir_ready, watch=watch)
        return self._run_script(script, timeout, input, step=f"running {argv[0]}", watch=watch)

    def where(self, step: str) -> Where:
        """The facts an error about `step` names."""
        ssh = self.profile.ssh
        return Where(self.destination, ssh.host, ssh.port, ssh.user or "your login name", ssh.identity_file or "ssh's default keys",
                     ssh.known_hosts or "~/.ssh/known_hosts", ssh.connect_timeout, step)

    def _run_script(self, script: str, timeout: float | None = None, input: bytes | None = None,
                    connect_timeout: float | None = None, step: str = "running a command", watch: float = 0.0) -> CommandResult:
        """One remote shell line built by `command_script` / `wrap_script`; with `watch`, fed a heartbeat."""
        started = time.perf_counter()
        held = os.pipe() if watch else None  # the write end stays here: closed (or this process gone) = stop
        stdin = held[0] if held else (subprocess.PIPE if input is not None else subprocess.DEVNULL)
        try:
            proc = subprocess.Popen(self.ssh_args(connect_timeout) + [script], stdin=stdin,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except BaseException:
            if held:
                os.close(held[1])
            raise
        finally:
            if held:
                os.close(held[0])
        beat = _Heartbeat(held[1], watch / 6) if held else None  # three or more beats per checked half-window
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            _end(proc)
            raise CommandTimeout(f"{step} on {self.destination} port {self.profile.ssh.port} did not finish within "
                                 f"{timeout:g} s and was stopped") from None
        except BaseException:  # Ctrl-C, SIGTERM turned into an exception: the device side sees its stdin end
            _end(proc)
            raise
        finally:
            if beat:
                beat.stop()  # before the close: the descriptor is never written after it could be reused
            if held:
                os.close(held[1])
        return self.result(out, err, step, started)

    def result(self, out: bytes, err: bytes, step: str, started: float) -> CommandResult:
        """The CommandResult of a finished ssh run, or the error when it has no exit status."""
        status, out, err = split_status(out, err)
        began, err = strip_start(err)
        if status is None:
            raise classify(err, self.where(step), began)
        if status == UNSAFE_STATUS and not began:
            unsafe = unsafe_workdir(err, self.workdir, f"{self.destination} port {self.profile.ssh.port}")
            if unsafe:
                raise unsafe
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
        timeout = timeout or self.profile.timeouts.check
        script = command_script(["true"], self.workdir, {}, make_workdir=True)
        self._run_script(script, timeout=timeout + 5, connect_timeout=timeout, step="checking the device").check(
            f"creating the working directory {self.workdir} on {self.destination}")

    def close(self) -> None:
        """Stop the shared connection and remove its private folder."""
        super().close()
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


class _Heartbeat:
    """A thread writing a line to the watched pipe every `interval` seconds until `stop()`."""

    def __init__(self, fd: int, interval: float) -> None:
        self._fd, self._interval = fd, max(0.5, interval)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="edge-bench-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._done.wait(self._interval):
            try:
                os.write(self._fd, b"\n")
            except OSError:  # the remote side is gone
                return

    def stop(self) -> None:
        """Stop beating and wait for the thread."""
        self._done.set()
        self._thread.join()


def _end(proc: subprocess.Popen) -> None:
    """Kill an ssh client and reap it."""
    proc.kill()
    try:
        proc.communicate(timeout=10)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        pass


def _ssh_path(path: str) -> str:
    """A local path as one ssh_config token: '~' expanded, '%' escaped, quoted when it has spaces."""
    path = os.path.expanduser(path).replace("%", "%%")
    return f'"{path}"' if any(c.isspace() for c in path) else path


@functools.cache
def _client_version() -> tuple[int, int]:
    """The OpenSSH client's (major, minor) version; (0, 0) when `ssh -V` says none."""
    try:
        said = subprocess.run([shutil.which("ssh") or "ssh", "-V"], capture_output=True, timeout=10, stdin=subprocess.DEVNULL).stderr
    except (OSError, subprocess.TimeoutExpired):
        return (0, 0)
    match = re.search(rb"OpenSSH_(\d+)\.(\d+)", said)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def _private_dir() -> str:
    """A 0700 folder with a short path (unix socket paths are limited to ~104 bytes)."""
    base = "/tmp" if os.path.isdir("/tmp") else None
    return tempfile.mkdtemp(prefix="eb-ssh-", dir=base)
