"""The ssh transport end to end against a real OpenSSH server on 127.0.0.1 (tests/sshd.py)."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from edge_bench.devices import (
    CommandTimeout,
    ConnectionFailed,
    ConnectionLost,
    RemoteCommandFailed,
    open_transport,
    read_profile,
)

NASTY = ["$(touch {canary})", "`touch {canary}`", "; touch {canary}", "&& touch {canary} ||", "| tee {canary}",
         "'quoted' \"double\"", "back\\slash", "*", "~", "", "two  spaces", "new\nline", "-n", "$HOME", "\x1b[31m"]


@pytest.fixture
def profile_for(sshd_server, tmp_path):
    """Make a profile for the session sshd, with overrides."""

    def make(name: str = "loopback", **settings):
        settings.setdefault("workdir", str(tmp_path / "remote"))
        return read_profile(sshd_server.write_profile(tmp_path / "config", name, **settings))

    return make


@pytest.fixture
def device(profile_for):
    with open_transport(profile_for()) as transport:
        yield transport


def test_run_returns_status_and_both_streams(device):
    result = device.run(["sh", "-c", "echo out; echo err >&2; exit 7"])
    assert (result.returncode, result.stdout, result.stderr) == (7, b"out\n", b"err\n")
    assert device.run(["true"]).ok


def test_every_argument_arrives_verbatim_and_runs_nothing(device, tmp_path):
    canary = tmp_path / "pwned"
    args = [arg.format(canary=canary) for arg in NASTY]
    result = device.run(["printf", "%s\\0", *args])
    assert result.ok, result.stderr
    assert result.stdout.decode().split("\0")[:-1] == args
    assert not canary.exists()


def test_shell_builtins_in_argv_still_report_their_status(device):
    assert device.run(["exit", "3"]).returncode == 3  # not mistaken for a lost connection
    assert device.run(["definitely-not-a-program-xyz"]).returncode == 127


def test_stdin_binary_env_and_workdir(profile_for, tmp_path):
    profile = profile_for(env={"QEMU_CPU": "cortex-a76"})
    with open_transport(profile) as device:
        payload = bytes(range(256)) * 100
        assert device.run(["cat"], input=payload).stdout == payload
        result = device.run(["sh", "-c", 'printf "%s|%s|%s" "$QEMU_CPU" "$EXTRA" "$(pwd)"'], env={"EXTRA": "a 'b' $c"})
        assert result.stdout.decode() == f"cortex-a76|a 'b' $c|{tmp_path / 'remote'}"
    assert (tmp_path / "remote").is_dir()  # created on first use


def test_push_and_pull_files_and_folders_exactly(device, tmp_path):
    source = tmp_path / "set"
    (source / "sub dir").mkdir(parents=True)
    (source / "it's.bin").write_bytes(os.urandom(300_000))
    (source / "sub dir" / "b.txt").write_text("hello")
    (source / "empty").mkdir()
    device.push(source, "artifacts/set")
    device.push(source / "it's.bin", "single/copy.bin")
    remote = tmp_path / "remote"
    assert _tree(remote / "artifacts" / "set") == _tree(source)
    assert (remote / "single" / "copy.bin").read_bytes() == (source / "it's.bin").read_bytes()

    device.pull("artifacts/set", tmp_path / "back")
    device.pull(str(remote / "single" / "copy.bin"), tmp_path / "back-file" / "copy.bin")
    assert _tree(tmp_path / "back") == _tree(source)
    assert (tmp_path / "back-file" / "copy.bin").read_bytes() == (source / "it's.bin").read_bytes()
    assert not list((tmp_path / "back-file").glob("*partial*"))


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


def test_pull_of_a_missing_path_is_a_clear_error_and_writes_nothing(device, tmp_path):
    with pytest.raises(RemoteCommandFailed, match="no such file or folder on the device"):
        device.pull("does/not/exist", tmp_path / "out.bin")
    assert not (tmp_path / "out.bin").exists()
    with pytest.raises(RemoteCommandFailed, match="no such file or folder here"):
        device.push(tmp_path / "nope", "x")


def test_fingerprint_through_ssh(device):
    info = device.info()
    assert info["collected_with"] == sys.executable and info["transport"] == "ssh"
    assert info["cpu"]["cores"] == os.cpu_count()
    assert info["python"]["version"].count(".") == 2
    import numpy

    assert info["runtimes"]["numpy"] == numpy.__version__


def test_fingerprint_without_python_uses_the_shell(profile_for, device):
    with open_transport(profile_for("nopython", python="")) as bare:
        shell = bare.info()
    assert shell["collected_with"] == "sh" and shell["python"] is None
    full = device.info()
    for key in ("machine", "kernel", "os", "system"):
        assert shell[key] == full[key]
    assert shell["cpu"]["model"] == full["cpu"]["model"] and shell["memory"]["total_bytes"] == full["memory"]["total_bytes"]


def test_with_and_without_a_shared_connection(profile_for):
    profile = profile_for()
    profile.ssh.control_master = False
    with open_transport(profile) as direct:
        assert direct.run(["echo", "direct"]).stdout == b"direct\n"
    shared = open_transport(profile_for())
    assert shared.run(["echo", "shared"]).stdout == b"shared\n"
    control = Path(shared._control_dir)
    assert control.stat().st_mode & 0o777 == 0o700 and list(control.iterdir())  # private, holds the master's socket
    shared.close()
    assert not control.exists()
    shared.close()  # twice is fine


def test_check_passes_and_creates_the_workdir(profile_for, tmp_path):
    with open_transport(profile_for(workdir=str(tmp_path / "made" / "by" / "check"))) as device:
        device.check(timeout=5)
    assert (tmp_path / "made" / "by" / "check").is_dir()


def test_unknown_host_key_is_refused_and_never_recorded(sshd_server, profile_for, tmp_path):
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    profile = profile_for()
    profile.ssh.known_hosts = str(empty)
    with open_transport(profile) as device, pytest.raises(ConnectionFailed) as caught:
        device.run(["true"])
    assert caught.value.reason == "host-key-unknown" and "not in" in caught.value.message
    assert empty.read_text() == ""


def test_changed_host_key_is_refused(sshd_server, profile_for, tmp_path):
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    wrong = tmp_path / "wrong_known_hosts"
    key = " ".join((tmp_path / "other.pub").read_text().split()[:2])
    wrong.write_text(f"[127.0.0.1]:{sshd_server.port} {key}\n")
    profile = profile_for()
    profile.ssh.known_hosts = str(wrong)
    with open_transport(profile) as device, pytest.raises(ConnectionFailed) as caught:
        device.run(["true"])
    assert caught.value.reason == "host-key-changed" and "CHANGED" in caught.value.message


def test_wrong_key_is_an_auth_failure(profile_for, tmp_path):
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "stranger")], check=True)
    profile = profile_for()
    profile.ssh.identity_file = str(tmp_path / "stranger")
    with open_transport(profile) as device, pytest.raises(ConnectionFailed) as caught:
        device.check(timeout=5)
    assert caught.value.reason == "auth" and not isinstance(caught.value, ConnectionLost)


def test_closed_port_is_connection_refused(profile_for):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        profile = profile_for()
        profile.ssh.port = port
        started = time.monotonic()
        with open_transport(profile) as device, pytest.raises(ConnectionFailed) as caught:
            device.check(timeout=3)
    assert caught.value.reason == "refused" and time.monotonic() - started < 10


@pytest.mark.parametrize("shared", [True, False], ids=["controlmaster", "direct"])
def test_server_killed_mid_command_is_connection_lost(fresh_sshd, tmp_path, shared):
    profile = read_profile(fresh_sshd.write_profile(tmp_path / "config", workdir=str(tmp_path / "w")))
    profile.ssh.control_master = shared
    with open_transport(profile) as device:
        device.run(["true"])  # connected (and the shared connection is up)
        killer = threading.Timer(1.0, fresh_sshd.stop)
        killer.start()
        started = time.monotonic()
        with pytest.raises(ConnectionLost) as caught:
            device.run(["sh", "-c", "echo started; sleep 30; echo finished"])
        killer.join()
    assert caught.value.reason == "cut"
    assert time.monotonic() - started < 15  # not the 30 s of the command


def test_timeout_stops_the_command(device):
    started = time.monotonic()
    with pytest.raises(CommandTimeout):
        device.run(["sleep", "20"], timeout=1.5)
    assert time.monotonic() - started < 10
    assert device.run(["echo", "still usable"]).stdout == b"still usable\n"


def _leftovers(seconds: str) -> list:
    import psutil

    return [p for p in psutil.process_iter(["cmdline"]) if (p.info["cmdline"] or [])[:2] == ["sleep", seconds]]


def test_timeout_kills_what_the_command_started_on_the_device(device):
    # The sshd is on this machine, so the device's processes are visible here.
    with pytest.raises(CommandTimeout):
        device.run(["sh", "-c", "sleep 42.5 & sleep 42.5; wait"], timeout=1.5)
    deadline = time.monotonic() + 5
    while _leftovers("42.5") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _leftovers("42.5") == []


def test_a_missing_identity_file_is_named(profile_for, tmp_path):
    from edge_bench.errors import ConfigError

    profile = profile_for()
    profile.ssh.identity_file = str(tmp_path / "no-such-key")
    with pytest.raises(ConfigError, match="identity_file .*no-such-key.* is not readable"):
        open_transport(profile)
