"""`edge-bench devices` and `edge-bench devices info`: real probes, one-line errors, non-zero exits."""

from __future__ import annotations

import json
import os
import socket

import pytest

from edge_bench.cli import main
from edge_bench.devices.host_cpu import describe_host
from edge_bench.devices.loader import shipped_profile_files

# `local` describes the machine the tests run on, so its peak is this host's, whatever CPU that is
# (test_host_cpu.py pins the derivation itself on fixed /proc/cpuinfo texts).
HOST_PEAK = describe_host().peak_gflops
EXPECTED = sorted([path.stem for path in shipped_profile_files()] + ["loopback"])


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def config(isolated_home, sshd_server, tmp_path):
    """A config dir holding a profile for the test sshd, next to the shipped ones."""
    sshd_server.write_profile(isolated_home / "config", "loopback", workdir=str(tmp_path / "remote"))
    return isolated_home / "config"


def test_devices_lists_and_probes_every_profile(config, capsys):
    code, out, err = run_cli(capsys, "devices", "--json", "--timeout", "3")
    assert code == 0 and err == ""
    rows = {row["name"]: row for row in json.loads(out)["devices"]}
    assert sorted(rows) == EXPECTED
    assert rows["loopback"]["probe"]["reachable"] and rows["loopback"]["probe"]["detail"].startswith("python 3.")
    assert rows["local"]["probe"]["reachable"] and rows["local"]["peak_gflops"] == HOST_PEAK > 0
    assert rows["loopback"]["address"].startswith("root@127.0.0.1:")
    pixel = rows["pixel-8"]["probe"]
    assert not pixel["reachable"] and pixel["reason"] in ("no-device", "error")  # no phone here (or no adb)


def test_devices_table(config, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run_cli(capsys, "devices", "--timeout", "3")
    assert code == 0
    line = next(line for line in out.splitlines() if "loopback" in line)
    assert "ssh" in line and "yes" in line and "executorch" in line


def test_devices_info_prints_the_fingerprint(config, capsys):
    code, out, err = run_cli(capsys, "devices", "info", "loopback", "--json")
    assert code == 0, err
    info = json.loads(out)["fingerprint"]
    assert info["cpu"]["cores"] == os.cpu_count() and info["transport"] == "ssh"
    code, out, _ = run_cli(capsys, "devices", "info", "local")
    assert code == 0 and "runtimes" in out and f"{HOST_PEAK} GFLOP/s" in out


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("edge-bench: error: ")
    return lines[0]


def test_unknown_device_is_one_line_and_non_zero(config, capsys):
    code, out, err = run_cli(capsys, "devices", "info", "rpi6")
    line = _one_error_line(err)
    assert code != 0 and out == ""
    assert "unknown device 'rpi6'" in line and "did you mean 'rpi5'?" in line and "loopback" in line


def test_unreachable_host_is_one_line_and_non_zero(config, capsys, sshd_server):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sshd_server.write_profile(config, "gone", workdir="/tmp/edge-bench-gone")
        path = config / "devices" / "gone.toml"
        path.write_text(path.read_text().replace(f"port = {sshd_server.port}", f"port = {sock.getsockname()[1]}"))
        code, _, err = run_cli(capsys, "devices", "info", "gone")
    assert code != 0 and "refused the connection" in _one_error_line(err)


def test_misspelt_key_is_one_line_non_zero_and_loses_nothing(config, capsys):
    broken = config / "devices" / "broken.toml"
    broken.write_text('transport = "local"\nthread = 2\n')
    code, out, err = run_cli(capsys, "devices", "--json", "--timeout", "3")
    line = _one_error_line(err)
    assert code != 0
    assert "unknown key 'thread'" in line and str(broken) in line and "did you mean 'threads'?" in line
    names = [row["name"] for row in json.loads(out)["devices"]]
    assert names == EXPECTED  # the others still listed
    assert broken.read_text() == 'transport = "local"\nthread = 2\n'  # the file is left as it was
    code, _, err = run_cli(capsys, "devices", "info", "broken")
    assert code != 0 and "unknown key 'thread'" in _one_error_line(err)
