"""The device fingerprint script: standalone, standard library only, same facts from Python or shell."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

from edge_bench.agent import fingerprint

SCRIPT = fingerprint.__file__

RPI5 = {
    "/proc/cpuinfo": "".join(
        f"processor\t: {n}\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp "
        "cpuid asimdrdm lrcpc dcpop asimddp\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x4\n"
        "CPU part\t: 0xd0b\nCPU revision\t: 1\n\n" for n in range(4))
    + "Revision\t: d04170\nSerial\t\t: 56c4fa8e61b51d6e\nModel\t\t: Raspberry Pi 5 Model B Rev 1.0\n",
    "/proc/meminfo": "MemTotal:        8245072 kB\nMemFree:         7654320 kB\nMemAvailable:    7812344 kB\n",
    "/etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
    "/proc/device-tree/model": "Raspberry Pi 5 Model B Rev 1.0\x00",
    "/proc/loadavg": "0.08 0.03 0.01 1/187 1234\n",
    "/sys/devices/system/cpu/online": "0-3\n",
    **{f"/sys/devices/system/cpu/cpu{n}/cpufreq/{key}": value for n in range(4) for key, value in
       (("cpuinfo_min_freq", "1500000\n"), ("cpuinfo_max_freq", "2400000\n"), ("scaling_cur_freq", "1500000\n"),
        ("scaling_governor", "ondemand\n"))},
    "/sys/class/thermal/thermal_zone0/type": "cpu-thermal\n",
    "/sys/class/thermal/thermal_zone0/temp": "51350\n",
    "cmd:uname -s": "Linux\n", "cmd:uname -r": "6.6.31+rpt-rpi-2712\n", "cmd:uname -m": "aarch64\n",
    "cmd:uname -n": "raspberrypi\n", "cmd:vcgencmd get_throttled": "throttled=0x0\n",
}


def test_raspberry_pi_5_snapshot():
    info = fingerprint.build(RPI5)
    assert info["board"] == "Raspberry Pi 5 Model B Rev 1.0"
    assert info["cpu"]["model"] == "Cortex-A76" and info["cpu"]["cores"] == 4
    assert (info["cpu"]["min_mhz"], info["cpu"]["max_mhz"], info["cpu"]["governor"]) == (1500, 2400, "ondemand")
    assert [row["cur_mhz"] for row in info["cpu"]["per_cpu"]] == [1500] * 4
    assert info["memory"] == {"total_bytes": 8245072 * 1024, "available_bytes": 7812344 * 1024}
    assert info["thermal"] == [{"zone": "thermal_zone0", "type": "cpu-thermal",
                                "path": "/sys/class/thermal/thermal_zone0/temp", "celsius": 51.35}]
    assert (info["os"], info["kernel"], info["machine"], info["throttled"]) == (
        "Debian GNU/Linux 12 (bookworm)", "6.6.31+rpt-rpi-2712", "aarch64", "0x0")
    assert info["load_average"] == [0.08, 0.03, 0.01]


def test_big_little_android_snapshot_without_python():
    parts = ["0xd46"] * 4 + ["0xd4d"] * 4 + ["0xd4e"]
    snap = {
        "/proc/cpuinfo": "".join(f"processor\t: {n}\nCPU implementer\t: 0x41\nCPU part\t: {part}\n\n" for n, part in enumerate(parts)),
        "cmd:uname -s": "Linux\n", "cmd:uname -m": "aarch64\n", "cmd:getprop ro.product.model": "Pixel 8\n",
        "cmd:getprop ro.build.version.release": "14\n",
        "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor": "sched_pixel\n",
        "/sys/devices/system/cpu/cpu8/cpufreq/cpuinfo_max_freq": "2910000\n",
    }
    info = fingerprint.build(snap)
    assert info["cpu"]["model"] == "4x Cortex-A510 + 4x Cortex-A715 + 1x Cortex-X3"
    assert (info["cpu"]["cores"], info["cpu"]["max_mhz"], info["cpu"]["governor"]) == (9, 2910, "sched_pixel")
    assert (info["board"], info["os"]) == ("Pixel 8", "Android 14")


def test_macos_snapshot():
    snap = {"cmd:uname -s": "Darwin\n", "cmd:uname -m": "arm64\n", "cmd:sysctl -n machdep.cpu.brand_string": "Apple M2\n",
            "cmd:sysctl -n hw.ncpu": "8\n", "cmd:sysctl -n hw.memsize": "17179869184\n",
            "cmd:sysctl -n hw.perflevel0.physicalcpu": "4\n", "cmd:sysctl -n hw.perflevel1.physicalcpu": "4\n",
            "cmd:sw_vers -productName": "macOS\n", "cmd:sw_vers -productVersion": "14.5\n"}
    info = fingerprint.build(snap)
    assert (info["cpu"]["model"], info["cpu"]["cores"], info["cpu"]["performance_cores"]) == ("Apple M2", 8, 4)
    assert (info["memory"]["total_bytes"], info["os"], info["thermal"]) == (16 * 2**30, "macOS 14.5", [])


def test_runs_standalone_without_site_packages():
    # -I: no cwd, no PYTHONPATH, no user site; -S: no site-packages. The script needs none.
    out = subprocess.run([sys.executable, "-I", "-S", SCRIPT], capture_output=True, check=True, timeout=60)
    info = json.loads(out.stdout)
    assert info["cpu"]["cores"] == os.cpu_count() and info["machine"] == platform.machine()
    assert info["runtimes"]["numpy"] is None  # site-packages were off


def test_reports_runtime_versions_without_importing_them():
    code = ("import importlib.util, json, sys; spec = importlib.util.spec_from_file_location('fp', sys.argv[1]); "
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); r = m.runtimes(); "
            "print(json.dumps([r, sorted(k for k in ('numpy', 'torch', 'executorch', 'ai_edge_litert', 'coremltools') if k in sys.modules)]))")
    out = subprocess.run([sys.executable, "-c", code, SCRIPT], capture_output=True, check=True, timeout=60)
    found, imported = json.loads(out.stdout)
    import numpy

    assert found["numpy"] == numpy.__version__ and found["tflite_runtime"] is None
    assert imported == []


def test_shell_and_python_snapshots_agree_here():
    shell = subprocess.run(["sh", "-c", fingerprint.SHELL_SNAPSHOT], capture_output=True, text=True, check=True, timeout=30)
    from_shell, from_python = fingerprint.parse_shell_snapshot(shell.stdout), fingerprint.snapshot()
    assert sorted(from_shell) == sorted(from_python)
    a, b = fingerprint.build(from_shell), fingerprint.build(from_python)
    for info in (a, b):
        info.pop("load_average")  # these change from one moment to the next
        info["memory"].pop("available_bytes")
        info["cpu"].pop("reported_mhz")
        for row in info["cpu"]["per_cpu"]:
            row.pop("cur_mhz")
        for zone in info["thermal"]:
            zone.pop("celsius")
    assert a == b


def test_fingerprint_names_the_emulated_cpu(tmp_path):
    """Under qemu-user the profile's QEMU_CPU is the CPU really being emulated; the fingerprint says so."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    import edge_bench.agent.fingerprint as fp

    script = Path(fp.__file__)
    env = dict(os.environ, QEMU_CPU="cortex-a76")
    out = json.loads(subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, check=True).stdout)
    assert out["emulation"] == {"qemu_cpu": "cortex-a76"}
    env.pop("QEMU_CPU")
    out = json.loads(subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, check=True).stdout)
    assert out["emulation"] is None
