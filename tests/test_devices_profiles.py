"""Device profiles: the shipped ones, the user's own, and every way a file can be wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edge_bench.devices import (
    DeviceProfile,
    UnknownDevice,
    list_profiles,
    load_profile,
    read_profile,
    scan_profiles,
    transport_names,
)
from edge_bench.devices.loader import shipped_profile_files
from edge_bench.errors import ConfigError

SHIPPED = ["local", "mac-coreml", "pixel-8", "rpi4", "rpi5"]  # the five; others may ship more
ALL_SHIPPED = [path.stem for path in shipped_profile_files()]


def write(config: Path, name: str, text: str) -> Path:
    path = config / "devices" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_shipped_profiles_are_all_there(isolated_home):
    assert set(SHIPPED) <= set(ALL_SHIPPED)
    assert [p.name for p in list_profiles()] == sorted(ALL_SHIPPED)


@pytest.mark.parametrize("name", ALL_SHIPPED)
def test_shipped_profile_loads_with_a_consistent_peak(isolated_home, name):
    profile = load_profile(name)
    assert isinstance(profile, DeviceProfile)
    assert profile.transport in transport_names()
    assert profile.backends and profile.description and profile.peak_gflops_derivation
    if profile.peak_gflops == 0:
        return  # unknown peak (an emulated device): the derivation says why
    # The derivation must add up: sum of cores x GHz x FLOP/cycle terms.
    terms = re.findall(r"(\d+) x [^@+]*@ ([\d.]+) GHz x (\d+) FLOP/cycle", profile.peak_gflops_derivation)
    assert terms, profile.peak_gflops_derivation
    assert sum(int(n) * float(ghz) * int(k) for n, ghz, k in terms) == pytest.approx(profile.peak_gflops, rel=1e-6)


def test_local_profile_describes_this_vm(isolated_home):
    profile = load_profile("local")
    assert (profile.threads, profile.backends, profile.transport) == (2, ["executorch", "tflite"], "local")
    assert "VM" in profile.peak_gflops_derivation


def test_shipped_profiles_use_the_documented_keys(isolated_home):
    rpi5 = load_profile("rpi5")
    assert (rpi5.ssh.host, rpi5.ssh.port, rpi5.ssh.user) == ("raspberrypi.local", 22, "pi")
    assert rpi5.thermal_zones == ["/sys/class/thermal/thermal_zone0/temp"]
    pixel = load_profile("pixel-8")
    assert (pixel.transport, pixel.python, pixel.workdir) == ("adb", "", "/data/local/tmp/edge-bench")
    assert load_profile("mac-coreml").backends == ["coreml"]


def test_a_user_profile_overrides_the_shipped_one_of_the_same_name(isolated_home):
    write(isolated_home / "config", "rpi5", 'transport = "ssh"\nthreads = 3\n[ssh]\nhost = "10.0.0.5"\n')
    profile = load_profile("rpi5")
    assert (profile.threads, profile.ssh.host) == (3, "10.0.0.5")
    assert profile.source == str(isolated_home / "config" / "devices" / "rpi5.toml")
    assert [p.name for p in list_profiles()] == sorted(ALL_SHIPPED)  # still one rpi5


def test_user_profiles_are_listed_with_the_shipped_ones(isolated_home):
    write(isolated_home / "config", "bench-box", 'description = "a NUC"\nthreads = 4\n[env]\nOMP_NUM_THREADS = "4"\n')
    profile = load_profile("bench-box")
    assert (profile.name, profile.transport, profile.env) == ("bench-box", "local", {"OMP_NUM_THREADS": "4"})
    assert "bench-box" in [p.name for p in list_profiles()]


def test_every_documented_key_is_read(isolated_home):
    path = write(isolated_home / "config", "full", """
name = "full"
description = "emulated Pi"
transport = "ssh"
python = "/usr/bin/python3.12"
workdir = "~/edge-bench"
threads = 4
affinity = [0, 1, 2, 3]
thermal_zones = ["/sys/class/thermal/thermal_zone0/temp"]
backends = ["executorch", "tflite"]
peak_gflops = 153.6
peak_gflops_derivation = "4 x Cortex-A76 @ 2.4 GHz x 16 FLOP/cycle"
[env]
QEMU_CPU = "cortex-a76"
[ssh]
host = "127.0.0.1"
port = 2222
user = "pi"
identity_file = "~/.ssh/id"
known_hosts = "~/kh"
connect_timeout = 3
options = { ProxyJump = "gw" }
control_master = false
config_file = "none"
[adb]
serial = "X"
binary = "/opt/adb"
[android]
runner = "benchmark_model"
extra = { anything = [1, 2] }
""")
    p = read_profile(path)
    assert (p.python, p.workdir, p.affinity, p.env) == ("/usr/bin/python3.12", "~/edge-bench", [0, 1, 2, 3], {"QEMU_CPU": "cortex-a76"})
    assert (p.ssh.port, p.ssh.connect_timeout, p.ssh.options, p.ssh.control_master) == (2222, 3.0, {"ProxyJump": "gw"}, False)
    assert (p.adb.serial, p.adb.binary) == ("X", "/opt/adb")
    assert p.android == {"runner": "benchmark_model", "extra": {"anything": [1, 2]}}  # kept as read
    assert p.address == "pi@127.0.0.1:2222"


@pytest.mark.parametrize(
    ("text", "key", "guess"),
    [
        ("thread = 4\n", "'thread'", "'threads'"),
        ("backend = ['tflite']\n", "'backend'", "'backends'"),
        ('transport = "ssh"\n[ssh]\nhost = "h"\nknown_host = ""\n', "ssh.'known_host'", "'known_hosts'"),
        ("[adb]\nserail = 'x'\n", "adb.'serail'", "'serial'"),
        ("[sssh]\nhost = 'h'\n", "'sssh'", "'ssh'"),
    ],
)
def test_a_misspelt_key_names_the_key_the_file_and_the_closest_valid_key(isolated_home, text, key, guess):
    path = write(isolated_home / "config", "typo", text)
    with pytest.raises(ConfigError) as caught:
        load_profile("typo")
    line = caught.value.one_line()
    assert f"unknown key {key}" in line and str(path) in line and f"did you mean {guess}?" in line
    assert "\n" not in line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('threads = "4"\n', "threads must be an integer"),
        ("threads = true\n", "threads must be an integer"),
        ("threads = 0\n", "threads must be at least 1"),
        ("affinity = [0, -1]\n", "affinity lists CPU ids"),
        ("affinity = 3\n", "affinity must be a list"),
        ("backends = ['tflit']\n", "did you mean 'tflite'"),
        ('transport = "shh"\n', "unknown transport 'shh'"),
        ('transport = "ssh"\n', "needs [ssh] host"),
        ('transport = "ssh"\n[ssh]\nhost = "h"\noptions = { StrictHostKeyChecking = "no" }\n', "may not set StrictHostKeyChecking"),
        ('transport = "ssh"\n[ssh]\nhost = "-oProxyCommand=x"\n', "is not a host name"),
        ("[env]\n'BAD NAME' = '1'\n", "not a valid environment variable name"),
        ('workdir = "relative/dir"\n', "workdir must be an absolute path"),
        ('name = "other"\n', "differs from the file name"),
        ("threads = [\n", "not valid TOML"),
        ("[ssh]\nport = 'x'\n", "ssh.port must be an integer"),
    ],
)
def test_bad_values_are_config_errors_naming_the_file(isolated_home, text, expected):
    path = write(isolated_home / "config", "bad", text)
    with pytest.raises(ConfigError) as caught:
        read_profile(path)
    assert expected in caught.value.one_line() and str(path) in caught.value.one_line()


def test_an_unknown_device_lists_the_known_ones(isolated_home):
    with pytest.raises(UnknownDevice) as caught:
        load_profile("rpi6")
    line = caught.value.one_line()
    assert "unknown device 'rpi6'" in line and "did you mean 'rpi5'?" in line
    for name in ALL_SHIPPED:
        assert name in line


def test_one_broken_file_does_not_hide_the_others(isolated_home):
    write(isolated_home / "config", "broken", "thread = 2\n")
    profiles, errors = scan_profiles()
    assert [p.name for p in profiles] == sorted(ALL_SHIPPED)
    assert len(errors) == 1 and "broken.toml" in errors[0].one_line()
    with pytest.raises(ConfigError):
        list_profiles()
    assert load_profile("rpi5").name == "rpi5"  # loading another profile is unaffected


def test_a_profile_can_be_loaded_from_a_file_path(isolated_home, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text("threads = 2\n")
    assert load_profile(str(path)).threads == 2
    with pytest.raises(ConfigError, match="not found"):
        load_profile(str(tmp_path / "missing.toml"))
