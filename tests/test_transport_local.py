"""The local transport: subprocess in a working folder; push and pull are copies."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from edge_bench.devices import CommandTimeout, DeviceProfile, RemoteCommandFailed, open_transport
from edge_bench.devices.local import LocalTransport


def local(**settings) -> LocalTransport:
    transport = open_transport(DeviceProfile(name="here", transport="local", **settings))
    assert isinstance(transport, LocalTransport)
    return transport


def test_runs_in_a_temporary_workdir_removed_on_close():
    with local(python="") as device:
        result = device.run([sys.executable, "-c", "import os; print(os.getcwd())"])
        workdir = Path(result.text().strip())
        assert result.ok and workdir.is_dir() and workdir.name.startswith("edge-bench-local-")
        assert device.python == sys.executable
    assert not workdir.exists()


def test_profile_workdir_env_stdin_and_status(tmp_path):
    with local(workdir=str(tmp_path / "wd"), env={"FROM_PROFILE": "p"}) as device:
        result = device.run(["sh", "-c", 'cat; printf "|%s|%s|%s" "$FROM_PROFILE" "$FROM_CALL" "$(pwd)"; exit 4'],
                            input=b"in", env={"FROM_CALL": "c"})
        assert (result.returncode, result.stdout) == (4, f"in|p|c|{tmp_path / 'wd'}".encode())
    assert (tmp_path / "wd").is_dir()  # a profile's own workdir is kept


def test_arguments_are_never_shell_parsed(tmp_path):
    canary = tmp_path / "pwned"
    with local() as device:
        arg = f"$(touch {canary}); ;&&|"
        assert device.run(["printf", "%s", arg]).stdout == arg.encode()
    assert not canary.exists()


def test_missing_program_exits_127_like_a_shell():
    with local() as device:
        result = device.run(["no-such-program-xyz"])
    assert result.returncode == 127 and b"no-such-program-xyz" in result.stderr


def test_timeout():
    with local() as device:
        started = time.monotonic()
        with pytest.raises(CommandTimeout):
            device.run(["sleep", "20"], timeout=0.5)
    assert time.monotonic() - started < 5


def test_push_and_pull_copy_files_and_folders(tmp_path):
    source = tmp_path / "src"
    (source / "deep").mkdir(parents=True)
    (source / "a.bin").write_bytes(os.urandom(1000))
    (source / "deep" / "b.txt").write_text("b")
    with local(workdir=str(tmp_path / "wd")) as device:
        device.push(source, "set")
        device.push(source / "a.bin", "one/a.bin")
        assert (tmp_path / "wd" / "set" / "deep" / "b.txt").read_text() == "b"
        assert (tmp_path / "wd" / "one" / "a.bin").read_bytes() == (source / "a.bin").read_bytes()
        device.pull("set", tmp_path / "back")
        assert (tmp_path / "back" / "a.bin").read_bytes() == (source / "a.bin").read_bytes()
        with pytest.raises(RemoteCommandFailed, match="no such file"):
            device.pull("missing", tmp_path / "x")


def test_local_fingerprint_matches_this_machine():
    import platform

    with local(python="") as device:
        device.check()
        info = device.info()
    assert info["collected_with"] == sys.executable
    assert info["cpu"]["cores"] == os.cpu_count() and info["machine"] == platform.machine()
    assert info["python"]["version"] == platform.python_version()
    assert info["memory"]["total_bytes"] > 0


def test_timeout_kills_the_whole_process_tree(tmp_path):
    import psutil

    with local() as device, pytest.raises(CommandTimeout):
        device.run(["sh", "-c", "sleep 41.5 & sleep 41.5; wait"], timeout=1.0)
    time.sleep(0.2)
    left = [p for p in psutil.process_iter(["cmdline"]) if (p.info["cmdline"] or [])[:2] == ["sleep", "41.5"]]
    assert left == []


def test_a_stop_asked_for_before_its_command_registered_is_delivered_when_it_does(tmp_path):
    """A cancel can come between the command's start and its tag being registered (seen under load: the
    stop was dropped and the command ran on): the signal waits for the tag and ends the command at once."""
    with LocalTransport(DeviceProfile(name="l", workdir=str(tmp_path / "w"))) as device:
        device.stop_tagged("early", "TERM")
        started = time.monotonic()
        result = device.run([sys.executable, "-c", "import time; time.sleep(60)"], timeout=120, tag="early")
        assert result.returncode == -15 and time.monotonic() - started < 30
        # delivered once: the next command with another tag runs to its end
        assert device.run(["true"], tag="later").returncode == 0
