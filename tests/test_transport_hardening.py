"""Device-side hardening (#16) against a real OpenSSH server on 127.0.0.1 (tests/sshd.py) and the local host:
private workdirs, an isolated agent, re-pushed stale agents, timeouts on pushes, nothing left running after
Ctrl-C or a dead host, one edge-bench process per device, refused ssh options and one-line reasons."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from edge_bench.devices import CommandTimeout, ConnectionFailed, ConnectionLost, open_transport, read_profile
from edge_bench.devices.base import kill_tagged_script
from edge_bench.devices.errors import DeviceBusy, UnsafeWorkdir
from edge_bench.errors import ConfigError
from edge_bench.executors.session import AGENT_HOME, DeviceSession

PLANTED = ("glob", "json", "platform", "numpy", "executorch")
"""Modules planted in the working directory: stdlib ones the fingerprint and agent import, and runtimes."""


def _plant(folder: Path, canary: Path) -> None:
    for name in PLANTED:
        (folder / f"{name}.py").write_text(f"open({str(canary)!r} + '-{name}', 'w').close()\n")


def _planted(canary: Path) -> list[str]:
    return sorted(p.name for p in canary.parent.glob(canary.name + "-*"))


def _profile(server, tmp_path: Path, name: str = "hardened", extra: str = "", **settings):
    text = server.profile_toml(name, **settings) + extra
    path = tmp_path / "config" / "devices" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return read_profile(path)


def _finishes(call, limit_s: float = 90.0):
    """Run `call` in a thread; (finished, exception). A hang guard, not a speed check."""
    box: dict = {}

    def target():
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001  (handed back to the test)
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(limit_s)
    return not thread.is_alive(), box.get("error")


# --- the working directory -------------------------------------------------------------------


def test_a_world_writable_workdir_with_a_planted_module_is_refused_in_one_line(sshd_server, tmp_path):
    workdir = tmp_path / "shared"
    workdir.mkdir()
    workdir.chmod(0o777)
    canary = tmp_path / "pwned"
    _plant(workdir, canary)
    profile = _profile(sshd_server, tmp_path, workdir=str(workdir))
    with open_transport(profile) as device:
        with pytest.raises(UnsafeWorkdir) as caught:
            device.check()
        with pytest.raises(UnsafeWorkdir):
            device.info()  # the fingerprint never runs there either
    line = caught.value.one_line()
    assert "\n" not in line and str(workdir) in line and "drwxrwxrwx" in line and "not private" in line
    assert _planted(canary) == []


def test_local_transport_refuses_a_world_writable_workdir(tmp_path):
    from edge_bench.devices import DeviceProfile

    workdir = tmp_path / "shared"
    workdir.mkdir()
    workdir.chmod(0o777)
    with open_transport(DeviceProfile(name="l", workdir=str(workdir))) as device, pytest.raises(UnsafeWorkdir) as caught:
        device.run(["true"])
    assert "writable by others (mode 777)" in caught.value.one_line()


def test_a_new_workdir_is_created_private(sshd_server, tmp_path):
    profile = _profile(sshd_server, tmp_path, workdir=str(tmp_path / "deep" / "work"))
    with open_transport(profile) as device:
        device.check()
    assert (tmp_path / "deep" / "work").stat().st_mode & 0o777 == 0o700


def test_the_agent_and_fingerprint_never_import_what_is_planted_in_the_workdir(sshd_server, tmp_path):
    workdir = tmp_path / "private"
    profile = _profile(sshd_server, tmp_path, workdir=str(workdir))
    canary = tmp_path / "pwned"
    with open_transport(profile) as device:
        device.check()
        _plant(workdir, canary)  # even in a private folder: nothing from it reaches sys.path
        info = device.info()
        assert info["python"]
        session = DeviceSession(device, tmp_path / "local")
        session.ensure_agent()
        result, _, stderr = session.run_agent({"output_dir": "runs/j1/image"}, tmp_path / "local" / "j1")
    assert "edge_bench_agent: failed in verify: job spec" in stderr  # the agent itself ran
    from edge_bench.devices.probe import probe

    assert probe(profile).detail.startswith("python 3.")  # `devices` probes the Python there too
    assert _planted(canary) == []


# --- the agent: pushed whole, stamped last, checked on every job -----------------------------


def _agent_file(workdir: Path, name: str = "main.py") -> Path:
    return workdir / AGENT_HOME / "edge_bench_agent" / name


SLOW = pytest.mark.slow


@pytest.mark.parametrize("damage", ["stale-stamp", *(pytest.param(d, marks=SLOW) for d in ("altered", "partial", "extra-file"))])
def test_a_stale_partial_or_altered_agent_is_pushed_again(sshd_server, tmp_path, damage):
    workdir = tmp_path / "w"
    profile = _profile(sshd_server, tmp_path, workdir=str(workdir))
    with open_transport(profile) as device:
        first = DeviceSession(device, tmp_path / "local")
        first.ensure_agent()
        version = first.agent[0]
        assert first.pushes == 1 and (workdir / AGENT_HOME / f"VERSION-{version}").is_file()
        again = DeviceSession(device, tmp_path / "local")
        again.ensure_agent()
        assert again.pushes == 0  # the same agent is not pushed twice
        stamp = workdir / AGENT_HOME / f"VERSION-{version}"
        if damage == "stale-stamp":  # an older agent's files under this version's stamp
            _agent_file(workdir).write_text(_agent_file(workdir).read_text() + "\n# an older agent\n")
        elif damage == "altered":
            _agent_file(workdir).write_text("raise SystemExit('tampered')\n")
        elif damage == "partial":  # a push was cut: some files and no stamp, and a temporary folder left
            _agent_file(workdir).unlink()
            stamp.unlink()
            (workdir / f"{AGENT_HOME}.partial-dead" / "edge_bench_agent").mkdir(parents=True)
        else:
            _agent_file(workdir, "glob.py").write_text("raise SystemExit('planted')\n")
        third = DeviceSession(device, tmp_path / "local")
        assert not third.agent_current()
        third.ensure_agent()
        assert third.pushes == 1 and third.agent_current()
    assert not list(workdir.glob(f"{AGENT_HOME}.partial-*")) and not list(workdir.glob(f"{AGENT_HOME}.old"))


def test_an_agent_altered_between_jobs_is_caught_by_the_job_and_pushed_again(sshd_server, tmp_path):
    workdir = tmp_path / "w"
    profile = _profile(sshd_server, tmp_path, workdir=str(workdir))
    with open_transport(profile) as device:
        session = DeviceSession(device, tmp_path / "local")
        session.ensure_agent()
        _agent_file(workdir).write_text("open('/dev/null'); raise SystemExit('tampered agent ran')\n")
        _, _, stderr = session.run_agent({"output_dir": "runs/j1/image"}, tmp_path / "local" / "j1")
    assert session.pushes == 2
    assert "tampered" not in stderr and "edge_bench_agent: failed in verify: job spec" in stderr  # the real agent read the job


# --- timeouts ---------------------------------------------------------------------------------


def test_a_device_that_stops_reading_during_a_push_fails_within_the_push_timeout(sshd_server, tmp_path):
    workdir = tmp_path / "w"
    profile = _profile(sshd_server, tmp_path, workdir=str(workdir), extra="\n[timeouts]\npush = 2\n")
    big = tmp_path / "artifact.pte"
    with open(big, "wb") as handle:
        handle.truncate(64 << 20)
    with open_transport(profile) as device:
        device.check()
        fifo = workdir / ("artifact.pte" + ".edge-bench-partial")
        os.mkfifo(fifo)  # the device's cat blocks: nothing reads what ssh sends
        try:
            finished, error = _finishes(lambda: device.push(big, "artifact.pte"))
        finally:
            fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # release the blocked cat on the "device"
            os.close(fd)
        assert finished, "the push hung past its timeout"
        assert isinstance(error, CommandTimeout)
        assert "within 2 s" in error.one_line() and "timeouts.push" in error.one_line()
        assert device.run(["echo", "usable"]).stdout == b"usable\n"


def test_non_finite_and_non_positive_timeouts_are_refused(sshd_server, tmp_path):
    for extra in ("\n[timeouts]\npush = nan\n", "\n[timeouts]\njob = inf\n", "\n[timeouts]\npull = 0\n"):
        with pytest.raises(ConfigError) as caught:
            _profile(sshd_server, tmp_path, extra=extra)
        assert "timeouts." in caught.value.one_line()


# --- Ctrl-C, SIGTERM and a dead host stop the command on the device ---------------------------

HOST = textwrap.dedent("""
    import faulthandler, signal, sys
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # a hang shows where (_exits)
    # As a terminal starts it: a shell's background job (`cmd &`, nohup) starts with SIGINT ignored, which a
    # child inherits, and then Ctrl-C raises nothing (seen: the slow suite run in the background, a hang here).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from pathlib import Path
    from edge_bench.devices import open_transport, read_profile
    with open_transport(read_profile(Path(sys.argv[1]))) as device:
        device.run(["true"])
        print("connected", flush=True)
        device.run([sys.executable, "-c", "import time, sys; time.sleep(300)", "remote:" + sys.argv[2]])
""")


def _exits(host: subprocess.Popen, limit_s: float = 30.0) -> None:
    """Wait for a stopped host; one that hangs fails the test with its threads' stacks (faulthandler, SIGUSR1)."""
    try:
        host.wait(timeout=limit_s)
    except subprocess.TimeoutExpired:
        host.send_signal(signal.SIGUSR1)
        time.sleep(1)
        host.kill()
        said = host.stderr.read().decode(errors="replace")[-6000:] if host.stderr else "(stderr not captured)"
        pytest.fail(f"the host did not exit within {limit_s:g} s of its signal; its stacks and stderr:\n{said}")


def _remote(marker: str) -> list:
    import psutil

    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if f"remote:{marker}" in (proc.info["cmdline"] or []):  # the command, not the host that started it
            found.append(proc)
    return found


def _gone(marker: str, limit_s: float = 20.0) -> bool:
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if not _remote(marker):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("how, shared", [("ctrl-c", True), *(pytest.param(h, c, marks=SLOW) for h, c in (
    ("sigterm", True), ("host-killed", True), ("ctrl-c", False), ("sigterm", False), ("host-killed", False)))])
def test_no_command_is_left_on_the_device_after_the_host_stops(sshd_server, tmp_path, how, shared):
    profile = _profile(sshd_server, tmp_path, workdir=str(tmp_path / "w"), extra=f"control_master = {str(shared).lower()}\n")
    marker = f"edge-bench-test-{os.getpid()}-{how}-{shared}"
    host = subprocess.Popen([sys.executable, "-c", HOST, profile.source, marker], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        assert host.stdout.readline() == b"connected\n"
        end = time.monotonic() + 30
        while not _remote(marker) and time.monotonic() < end:
            time.sleep(0.1)
        assert _remote(marker), "the command never started on the device"
        host.send_signal({"ctrl-c": signal.SIGINT, "sigterm": signal.SIGTERM, "host-killed": signal.SIGKILL}[how])
        _exits(host)
        assert _gone(marker), f"still running on the device: {[p.info['cmdline'] for p in _remote(marker)]}"
    finally:
        if host.poll() is None:
            host.kill()
        for proc in _remote(marker):
            proc.kill()


def test_a_frozen_host_whose_heartbeat_stops_leaves_nothing_running(sshd_server, tmp_path):
    """SIGSTOP: the host neither closes the pipe nor beats (as when it loses power or its network)."""
    profile = _profile(sshd_server, tmp_path, workdir=str(tmp_path / "w"), extra="\n[timeouts]\nhost = 4\n")
    marker = f"edge-bench-test-{os.getpid()}-frozen"
    host = subprocess.Popen([sys.executable, "-c", HOST, profile.source, marker], stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert host.stdout.readline() == b"connected\n"
        end = time.monotonic() + 30
        while not _remote(marker) and time.monotonic() < end:
            time.sleep(0.1)
        assert _remote(marker), "the command never started on the device"
        time.sleep(3)  # beats keep it alive past one window
        assert _remote(marker), "stopped while the host was still beating"
        os.killpg(host.pid, signal.SIGSTOP)  # the host and its ssh client freeze: no EOF, no heartbeat
        assert _gone(marker, limit_s=30), "still running on the device after the heartbeat stopped"
    finally:
        os.killpg(host.pid, signal.SIGKILL)
        host.wait()
        for proc in _remote(marker):
            proc.kill()


@pytest.mark.parametrize("how", ["host-killed", pytest.param("sigterm", marks=SLOW)])
def test_no_local_command_outlives_a_killed_host(tmp_path, how):
    profile = tmp_path / "here.toml"
    profile.write_text(f'transport = "local"\nworkdir = "{tmp_path / "w"}"\n')
    marker = f"edge-bench-test-{os.getpid()}-local-{how}"
    host = subprocess.Popen([sys.executable, "-c", HOST, str(profile), marker], stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert host.stdout.readline() == b"connected\n"
        end = time.monotonic() + 30
        while not _remote(marker) and time.monotonic() < end:
            time.sleep(0.1)
        assert _remote(marker), "the command never started"
        host.send_signal(signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
        _exits(host)
        assert _gone(marker), "the command outlived its host"
    finally:
        if host.poll() is None:
            host.kill()
        for proc in _remote(marker):
            proc.kill()


def test_kill_tagged_script_quotes_the_tag(tmp_path):
    canary = tmp_path / "pwned"
    for tag in (f'"; touch {canary}; "', f"$(touch {canary})", f"'; touch {canary}; '"):
        subprocess.run(["sh", "-c", kill_tagged_script(tag)], check=True, capture_output=True)
    assert not canary.exists()


# --- one edge-bench process per device --------------------------------------------------------

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from edge_bench.devices import open_transport, read_profile
    device = open_transport(read_profile(Path(sys.argv[1])))
    device.lock()
    print("locked", flush=True)
    time.sleep(120)
""")


def test_a_second_process_waits_then_says_who_holds_the_device(sshd_server, tmp_path):
    # a workdir of this test's own: the session's sshd workdir holds agents other tests pushed
    profile = _profile(sshd_server, tmp_path, extra="\n[timeouts]\nlock = 0.5\n", workdir=str(tmp_path / "device"))
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, profile.source], stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert holder.stdout.readline() == b"locked\n"
        with open_transport(profile) as device:
            session = DeviceSession(device, tmp_path / "local")
            with pytest.raises(DeviceBusy) as caught:
                session.ensure_agent()  # no agent is pushed or run while another process holds the device
        line = caught.value.one_line()
        assert f"pid {holder.pid}" in line and "hardened" in line and "waited 0.5 s" in line and "\n" not in line
        assert not (Path(profile.workdir) / AGENT_HOME).exists()
    finally:
        holder.kill()
        holder.wait()
    with open_transport(profile) as device:  # a dead holder's lock is free at once
        device.lock()
        with open_transport(profile) as same_process:
            same_process.lock()  # one process shares its lock (a lab runs one job at a time per device)


# --- ssh settings -----------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["ProxyCommand", "LocalCommand", "KnownHostsCommand", "PermitLocalCommand",
                                    "StrictHostKeyChecking", "UserKnownHostsFile", "GlobalKnownHostsFile", "RemoteCommand",
                                    "PKCS11Provider", "SecurityKeyProvider", "HostKeyAlias", "proxycommand", "ControlPath"])
def test_ssh_options_that_run_commands_or_touch_host_keys_are_refused(sshd_server, tmp_path, option):
    with pytest.raises(ConfigError) as caught:
        _profile(sshd_server, tmp_path, extra=f'options = {{ {option} = "sh -c \'touch /tmp/x\'" }}\n')
    assert f"may not set {option}" in caught.value.one_line()


@pytest.mark.parametrize("key, value", [("host", "-oProxyCommand=touch /tmp/x"), ("host", "a;b"), ("host", "a b"),
                                        ("user", "root -oProxyCommand=x"), ("user", "a@b"), ("user", "-l"),
                                        ("connect_timeout", "nan"), ("connect_timeout", "inf"), ("connect_timeout", "-inf")])
def test_bad_ssh_host_user_and_non_finite_numbers_are_one_line_errors(sshd_server, tmp_path, key, value):
    text = sshd_server.profile_toml("bad")
    line = f"{key} = {value}" if key == "connect_timeout" else f'{key} = "{value}"'
    text = "\n".join(line if row.startswith(f"{key} =") else row for row in text.splitlines()) + "\n"
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        read_profile(path)
    assert f"{key}" in caught.value.one_line() and "\n" not in caught.value.one_line()


def test_a_config_file_cannot_undo_host_key_checking_or_run_commands(sshd_server, tmp_path):
    canary = tmp_path / "pwned"
    key = " ".join(sshd_server.host_key.with_suffix(".pub").read_text().split()[:2])
    config = tmp_path / "ssh_config"
    config.write_text(f"Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  GlobalKnownHostsFile /dev/null\n"
                      f"  KnownHostsCommand /bin/sh -c 'touch {canary}; echo [127.0.0.1]:{sshd_server.port} {key}'\n")
    profile = _profile(sshd_server, tmp_path)
    profile.ssh.config_file = str(config)
    profile.ssh.known_hosts = str(tmp_path / "empty_known_hosts")
    Path(profile.ssh.known_hosts).write_text("")
    with open_transport(profile) as device, pytest.raises(ConnectionFailed) as caught:
        device.check(timeout=5)
    assert caught.value.reason == "host-key-unknown" and not canary.exists()


# --- reasons a user can act on ----------------------------------------------------------------


def test_a_cut_connection_names_host_port_and_step_never_the_devices_last_line(fresh_sshd, tmp_path):
    profile = _profile(fresh_sshd, tmp_path, workdir=str(tmp_path / "w"))
    with open_transport(profile) as device:
        device.run(["true"])
        killer = threading.Timer(1.5, fresh_sshd.stop)
        killer.start()
        with pytest.raises(ConnectionLost) as caught:
            device.run(["sh", "-c", "echo 'INFO: Created TensorFlow Lite XNNPACK delegate for CPU.' >&2; sleep 30"])
        killer.join()
    line = caught.value.one_line()
    assert "XNNPACK" not in line and "INFO" not in line
    assert f"{profile.ssh.user}@127.0.0.1 port {profile.ssh.port}" in line and "was lost while running sh" in line


def test_a_refused_connection_hint_carries_the_host_and_port(sshd_server, tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        profile = _profile(sshd_server, tmp_path)
        profile.ssh.port = port
        with open_transport(profile) as device, pytest.raises(ConnectionFailed) as caught:
            device.check(timeout=3)
    line = caught.value.one_line()
    assert caught.value.reason == "refused" and f"listens on port {port}" in line and "127.0.0.1" in line


def test_the_fingerprint_splits_the_devices_python_like_jobs(tmp_path):
    from edge_bench.devices import DeviceProfile

    with open_transport(DeviceProfile(name="l", python=f"{sys.executable} -X utf8")) as device:
        info = device.info()
    assert info["python"] and info["collected_with"] == f"{sys.executable} -X utf8"


@SLOW
def test_run_on_a_device_another_process_holds_exits_1_with_one_line(capsys, tmp_path):
    from edge_bench.cli import main

    profile = tmp_path / "busy.toml"
    profile.write_text('transport = "local"\npython = ""\nthreads = 1\nbackends = ["tflite"]\n\n[timeouts]\nlock = 0.2\n')
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(profile)], stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert holder.stdout.readline() == b"locked\n"
        code = main(["run", "-m", "edgeclip-s-scratch", "-D", str(profile), "-b", "tflite", "--n-images", "16"])
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    problems = [line for line in err.splitlines() if line.startswith("edge-bench: error:")]
    assert code == 1 and len(problems) == 1, err
    assert "in use by another edge-bench process" in problems[0] and f"pid {holder.pid}" in problems[0]


def test_an_adb_push_to_a_device_that_hangs_fails_within_the_push_timeout(tmp_path):
    """No phone here: an `adb` stand-in that lists one device and then never finishes a push (a hung USB link)."""
    from edge_bench.devices import AdbSettings, DeviceProfile, Transport

    adb = tmp_path / "adb"
    adb.write_text('#!/bin/sh\n[ "$1" = devices ] && { printf "List of devices attached\\nHUNG1\\tdevice\\n\\n"; exit 0; }\n'
                   'shift 2\n[ "$1" = shell ] && { sh -c "$2"; exit; }\nexec sleep 300\n')
    adb.chmod(0o755)
    profile = DeviceProfile(name="hung", transport="adb", workdir=str(tmp_path / "w"), adb=AdbSettings(binary=str(adb)))
    profile.timeouts.push = 1.5
    artifact = tmp_path / "model.pte"
    artifact.write_bytes(b"x" * 1000)
    device: Transport
    with open_transport(profile) as device:
        device.check()
        finished, error = _finishes(lambda: device.push(artifact, "model.pte"))
    assert finished and isinstance(error, CommandTimeout)
    assert "adb push on HUNG1 did not finish within 1.5 s" in error.one_line() and "timeouts.push" in error.one_line()


def test_a_python_setting_that_does_not_split_is_a_one_line_error(tmp_path):
    path = tmp_path / "odd.toml"
    path.write_text("transport = \"local\"\npython = \"'/opt/my venv/bin/python\"\n")
    with pytest.raises(ConfigError) as caught:
        read_profile(path)
    assert "does not split into words" in caught.value.one_line()


def test_the_local_python_is_one_word_even_with_spaces(tmp_path, monkeypatch):
    from edge_bench.devices import DeviceProfile
    from edge_bench.devices.device_python import python_argv

    monkeypatch.setattr(sys, "executable", "/opt/my venv/bin/python")
    with open_transport(DeviceProfile(name="l", python="")) as device:
        assert python_argv(device.python) == ["/opt/my venv/bin/python"]


@pytest.mark.parametrize("shell", ["dash", *(pytest.param(s, marks=SLOW) for s in ("bash", "mksh", "zsh"))])
def test_the_watched_line_stops_its_command_under_each_login_shell(shell, tmp_path):
    """The remote line runs under the login user's shell (dash on Debian, bash or zsh on macOS, mksh on Android)."""
    import shutil

    from edge_bench.devices.base import command_script

    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed here")
    marker = f"edge-bench-test-{os.getpid()}-{shell}"
    line = command_script([sys.executable, "-c", "import time; time.sleep(300)", f"remote:{marker}"], str(tmp_path), {}, True, watch=30)
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([shell, "-c", line], stdin=read_end, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(read_end)
    try:
        end = time.monotonic() + 30
        while not _remote(marker) and time.monotonic() < end:
            time.sleep(0.1)
        assert _remote(marker)
        os.close(write_end)  # the host went away
        _, err = proc.communicate(timeout=60)
        assert b"edge-bench-exit-status:" in err and _gone(marker)
    finally:
        if proc.poll() is None:
            proc.kill()
        for leftover in _remote(marker):
            leftover.kill()


@pytest.mark.parametrize("where", ["ssh", "local"])
def test_stop_tagged_needs_no_proc_environ(sshd_server, tmp_path, where):
    """The command scrubs its environment (as macOS hides it: no /proc): cancelling still stops it."""
    from edge_bench.devices import DeviceProfile

    profile = _profile(sshd_server, tmp_path, workdir=str(tmp_path / "w")) if where == "ssh" else \
        DeviceProfile(name="l", workdir=str(tmp_path / "w"))
    marker = f"edge-bench-test-{os.getpid()}-stop-{where}"
    with open_transport(profile) as device:
        device.check()
        box: dict = {}
        runner = threading.Thread(target=lambda: box.setdefault("result", device.run(
            ["env", "-i", sys.executable, "-c", "import time; time.sleep(300)", f"remote:{marker}"], tag="cancel-me")), daemon=True)
        runner.start()
        try:
            end = time.monotonic() + 30
            while not _remote(marker) and time.monotonic() < end:
                time.sleep(0.1)
            assert _remote(marker)
            device.stop_tagged("cancel-me", "TERM")
            runner.join(60)
            assert not runner.is_alive(), "stop_tagged did not stop the command"
            assert box["result"].returncode != 0 and _gone(marker)
        finally:
            for leftover in _remote(marker):
                leftover.kill()
