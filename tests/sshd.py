"""A real OpenSSH server on 127.0.0.1 for tests: throwaway keys, a known_hosts, a profile.

Fixtures (registered by `tests/conftest.py`):

- `sshd_server` (session): one server shared by every test that only talks to it.
- `fresh_sshd` (function): a server of its own, for tests that stop it mid-run.

Both yield an `SshServer` with host, port, user (root), identity_file,
known_hosts, `stop()` (abrupt: the listener and every session, like a pulled
cable) and `write_profile(config_dir, name, **settings)`. `start_sshd(folder)`
is the same without pytest (bench scripts). sshd is always stopped in teardown.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"


@dataclass
class SshServer:
    """A running test sshd and the files a client needs to reach it."""

    host: str
    port: int
    user: str
    identity_file: Path
    known_hosts: Path
    host_key: Path
    folder: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        """True while the listener is alive."""
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Kill the listener and every session and command under it at once (SIGKILL)."""
        if self.process is None:
            return
        import psutil

        try:
            parent = psutil.Process(self.process.pid)
            tree = [parent, *parent.children(recursive=True)]  # before the parent dies and they are reparented
        except psutil.NoSuchProcess:
            tree = []
        for proc in tree:
            try:
                proc.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
        self.process.wait(timeout=10)
        self.process = None

    def profile_toml(self, name: str = "loopback", **settings: object) -> str:
        """A device profile for this server; `settings` override top-level keys. The
        device's Python is this test's Python (same packages, no PATH needed)."""
        top = {"name": name, "description": "test sshd on loopback", "transport": "ssh", "python": sys.executable,
               "workdir": str(self.folder / "work"), "threads": 1, "backends": ["executorch"], **settings}
        lines = [f"{key} = {_toml(value)}" for key, value in top.items()]
        lines += ["", "[ssh]", f"host = {_toml(self.host)}", f"port = {self.port}", f"user = {_toml(self.user)}",
                  f"identity_file = {_toml(str(self.identity_file))}", f"known_hosts = {_toml(str(self.known_hosts))}",
                  'config_file = "none"', "connect_timeout = 5"]
        return "\n".join(lines) + "\n"

    def write_profile(self, config_dir: Path, name: str = "loopback", **settings: object) -> Path:
        """Write `<config_dir>/devices/<name>.toml` for this server and return its path."""
        path = Path(config_dir) / "devices" / f"{name}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.profile_toml(name, **settings))
        return path


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {value!r}")


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "edge-bench-test", "-f", str(path)],
                   check=True, stdin=subprocess.DEVNULL)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(server: SshServer, log: Path, deadline_s: float = 10.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if not server.running:
            raise RuntimeError(f"sshd exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection((server.host, server.port), timeout=0.5) as sock:
                if sock.recv(4).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"sshd did not listen on {server.port}: {log.read_text(errors='replace')[-2000:]}")


def start_sshd(folder: Path, attempts: int = 3, lean_shell: bool = True, extra_config: tuple[str, ...] = ()) -> SshServer:
    """Start sshd on a free loopback port with fresh ed25519 keys kept in `folder`.

    `lean_shell` sets SHLVL=1 in sessions, so bash skips the ~/.bashrc it would
    source when started by sshd (here it runs `pyenv init`, ~0.5 s a command);
    `extra_config` lines are appended to sshd_config.
    """
    extra_config = (("SetEnv SHLVL=1",) if lean_shell else ()) + tuple(extra_config)
    if not os.path.exists(SSHD) or shutil.which("ssh") is None:
        raise RuntimeError(f"{SSHD} and ssh are needed (Debian: apt install openssh-server openssh-client)")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation directory
    except OSError as exc:
        raise RuntimeError(f"cannot create /run/sshd (run the tests as root): {exc}") from None
    host_key, identity = folder / "host_ed25519", folder / "id_ed25519"
    _keygen(host_key)
    _keygen(identity)
    authorized = folder / "authorized_keys"
    shutil.copy(identity.with_suffix(".pub"), authorized)
    user = "root" if os.geteuid() == 0 else (os.environ.get("USER") or "root")
    error = None
    for _ in range(attempts):  # a free port can be taken between the probe and sshd's bind
        port = _free_port()
        known_hosts = folder / "known_hosts"
        known_hosts.write_text(f"[127.0.0.1]:{port} {' '.join(host_key.with_suffix('.pub').read_text().split()[:2])}\n")
        config = folder / "sshd_config"
        config.write_text(_sshd_config(folder, port, host_key, authorized) + "".join(f"{x}\n" for x in extra_config))
        log = folder / "sshd.log"
        with open(log, "ab") as log_file:
            process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=log_file, start_new_session=True)
        server = SshServer("127.0.0.1", port, user, identity, known_hosts, host_key, folder, process)
        try:
            _wait_listening(server, log)
            return server
        except RuntimeError as exc:
            error = exc
    raise RuntimeError(f"sshd did not start after {attempts} attempts: {error}")


def _sshd_config(folder: Path, port: int, host_key: Path, authorized: Path) -> str:
    return "\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {host_key}", f"PidFile {folder / 'sshd.pid'}",
        f"AuthorizedKeysFile {authorized}", "StrictModes no", "UsePAM no", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password", "Subsystem sftp internal-sftp",
        "MaxStartups 100:30:200", "MaxSessions 50", "LogLevel VERBOSE", "",
    ])


def _start_or_skip(folder: Path) -> SshServer:
    try:
        return start_sshd(folder)
    except RuntimeError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot start a test sshd here: {exc}")


@pytest.fixture(scope="session")
def sshd_server(tmp_path_factory) -> SshServer:
    """One real sshd on loopback for the whole session."""
    server = _start_or_skip(tmp_path_factory.mktemp("sshd"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_sshd(tmp_path) -> SshServer:
    """A real sshd of this test's own, safe to stop mid-run."""
    server = _start_or_skip(tmp_path / "sshd")
    try:
        yield server
    finally:
        server.stop()
