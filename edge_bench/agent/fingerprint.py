#!/usr/bin/env python3
"""Device fingerprint: what the device is, as JSON. Standard library only.

Run on a device as `python3 fingerprint.py` (or `python3 - < fingerprint.py`):
it prints CPU model, architecture, cores, frequencies and governor, RAM, OS and
kernel, temperatures, load, Python, and the ML runtimes installed with their
versions (read from package metadata: nothing heavy is imported).

The facts come from a *snapshot*, a dict of file path (or "cmd:COMMAND") to
text. `snapshot()` takes it with Python; `SHELL_SNAPSHOT` takes the same one
with a POSIX shell on devices without Python (Android), and `build()` turns
either into the fingerprint. Works on Python 3.8+.
"""

from __future__ import annotations

import glob
import json
import os
import platform
import re
import shutil
import subprocess
import sys

SCHEMA = 1

FILES = [
    "/proc/cpuinfo", "/proc/meminfo", "/proc/loadavg", "/etc/os-release", "/proc/device-tree/model",
    "/sys/devices/system/cpu/online",
    "/sys/devices/system/cpu/cpu*/cpufreq/cpuinfo_min_freq", "/sys/devices/system/cpu/cpu*/cpufreq/cpuinfo_max_freq",
    "/sys/devices/system/cpu/cpu*/cpufreq/scaling_cur_freq", "/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor",
    "/sys/class/thermal/thermal_zone*/type", "/sys/class/thermal/thermal_zone*/temp",
]
"""Files (shell globs) read into the snapshot when they exist."""

COMMANDS = [
    ("", "uname -s"), ("", "uname -r"), ("", "uname -m"), ("", "uname -n"),
    ("Darwin", "sysctl -n machdep.cpu.brand_string"), ("Darwin", "sysctl -n hw.ncpu"), ("Darwin", "sysctl -n hw.memsize"),
    ("Darwin", "sysctl -n hw.perflevel0.physicalcpu"), ("Darwin", "sysctl -n hw.perflevel1.physicalcpu"),
    ("Darwin", "sw_vers -productName"), ("Darwin", "sw_vers -productVersion"),
    ("Linux", "vcgencmd get_throttled"),
    ("Linux", "getprop ro.product.model"), ("Linux", "getprop ro.build.version.release"), ("Linux", "getprop ro.soc.model"),
]
"""(system it applies to, '' = all; command) run into the snapshot when the program exists."""

RUNTIMES = [
    ("executorch", "executorch"), ("executorch_numpy_runtime", "executorch-numpy-runtime"),
    ("ai_edge_litert", "ai-edge-litert"), ("tflite_runtime", "tflite-runtime"), ("coremltools", "coremltools"),
    ("numpy", "numpy"), ("psutil", "psutil"), ("torch", "torch"),
]
"""(import name, distribution name) of the runtimes looked for."""

ARM_PARTS = {
    "0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd05": "Cortex-A55", "0xd07": "Cortex-A57", "0xd08": "Cortex-A72",
    "0xd09": "Cortex-A73", "0xd0a": "Cortex-A75", "0xd0b": "Cortex-A76", "0xd0c": "Neoverse-N1", "0xd0d": "Cortex-A77",
    "0xd41": "Cortex-A78", "0xd44": "Cortex-X1", "0xd46": "Cortex-A510", "0xd47": "Cortex-A710", "0xd48": "Cortex-X2",
    "0xd4d": "Cortex-A715", "0xd4e": "Cortex-X3", "0xd80": "Cortex-A520", "0xd81": "Cortex-A720", "0xd82": "Cortex-X4",
}
"""Arm Ltd. (implementer 0x41) CPU part numbers in /proc/cpuinfo."""

RS = "\x1e"  # record separator between snapshot entries in the shell form


def _shell_commands() -> str:
    lines = []
    for system, command in COMMANDS:
        program = command.split()[0]
        guard = f'[ "$sys" = {system} ] && ' if system else ""
        lines.append(f"{guard}command -v {program} >/dev/null 2>&1 && printf '\\036cmd:{command}\\n' && {command} 2>/dev/null")
    return "\n".join(lines)


SHELL_SNAPSHOT = (
    "sys=$(uname -s)\n"
    f"for f in {' '.join(FILES)}; do [ -r \"$f\" ] && printf '\\036%s\\n' \"$f\" && cat \"$f\" 2>/dev/null; done\n"
    + _shell_commands() + "\ntrue\n"
)
"""A POSIX shell script printing the snapshot as RS-separated records (key line, text)."""


def parse_shell_snapshot(text: str) -> dict:
    """The snapshot printed by SHELL_SNAPSHOT."""
    snap = {}
    for record in text.split(RS)[1:]:
        key, _, value = record.partition("\n")
        if value.strip():
            snap[key] = value
    return snap


def snapshot() -> dict:
    """The snapshot of this machine, taken with Python."""
    snap = {}
    for pattern in FILES:
        for path in sorted(glob.glob(pattern)):
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    snap[path] = handle.read()
            except OSError:
                continue
    system = platform.system()
    for applies, command in COMMANDS:
        if (applies and applies != system) or shutil.which(command.split()[0]) is None:
            continue
        try:
            out = subprocess.run(command.split(), capture_output=True, timeout=5, text=True).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        if out.strip():
            snap["cmd:" + command] = out
    if os.environ.get("QEMU_CPU"):  # qemu-user reads it at every exec: the CPU model being emulated
        snap["env:QEMU_CPU"] = os.environ["QEMU_CPU"]
    return {key: value for key, value in snap.items() if value.strip()}


def build(snap: dict) -> dict:
    """The fingerprint described by a snapshot (Python or shell)."""
    cmd = lambda command: snap.get("cmd:" + command, "").strip()  # noqa: E731  (a one-line local helper reads better as a lambda)
    processors, extra = _cpuinfo(snap.get("/proc/cpuinfo", ""))
    cores = len(processors) or _int(cmd("sysctl -n hw.ncpu")) or _count_online(snap.get("/sys/devices/system/cpu/online", ""))
    return {
        "schema": SCHEMA,
        "hostname": cmd("uname -n"),
        "system": cmd("uname -s"),
        "kernel": cmd("uname -r"),
        "machine": cmd("uname -m"),
        "os": _os_name(snap, cmd),
        "board": snap.get("/proc/device-tree/model", "").strip("\x00\n ") or extra.get("Model") or cmd("getprop ro.product.model"),
        "cpu": {
            "model": _cpu_model(processors, extra, cmd),
            "cores": cores,
            "online": snap.get("/sys/devices/system/cpu/online", "").strip(),
            "performance_cores": _int(cmd("sysctl -n hw.perflevel0.physicalcpu")),
            "efficiency_cores": _int(cmd("sysctl -n hw.perflevel1.physicalcpu")),
            "reported_mhz": _reported_mhz(processors),
            **_frequencies(snap),
        },
        "memory": _memory(snap.get("/proc/meminfo", ""), cmd),
        "thermal": _thermal(snap),
        "throttled": cmd("vcgencmd get_throttled").partition("=")[2] or None,
        "load_average": [float(x) for x in snap.get("/proc/loadavg", "").split()[:3]] or None,
        "emulation": {"qemu_cpu": snap["env:QEMU_CPU"].strip()} if snap.get("env:QEMU_CPU") else None,
    }


def _int(text: str):
    return int(text) if text.strip().isdigit() else None


def _count_online(text: str) -> int:
    total = 0
    for part in text.strip().split(","):
        if "-" in part:
            low, high = part.split("-")
            total += int(high) - int(low) + 1
        elif part.strip().isdigit():
            total += 1
    return total


def _cpuinfo(text: str):
    """Per-processor dicts, and the keys outside processor blocks (Hardware, Model)."""
    processors, extra = [], {}
    for block in text.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
        if "processor" in fields and fields["processor"].isdigit():
            processors.append(fields)
        else:
            extra.update(fields)
    return processors, extra


def _cpu_model(processors: list, extra: dict, cmd) -> str:
    names = []
    for proc in processors:
        name = proc.get("model name") or proc.get("Processor") or proc.get("cpu model")
        if not name and proc.get("CPU implementer") == "0x41":
            name = ARM_PARTS.get(proc.get("CPU part", ""), "Arm part " + proc.get("CPU part", "?"))
        names.append(name or extra.get("Hardware") or "unknown")
    if not names:
        return cmd("sysctl -n machdep.cpu.brand_string") or cmd("getprop ro.soc.model") or "unknown"
    counts = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    if len(counts) == 1:
        return names[0]
    return " + ".join(f"{n}x {name}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def _reported_mhz(processors: list):
    """The clock /proc/cpuinfo reports (x86 'cpu MHz'): the only one VMs without cpufreq show."""
    values = [float(p["cpu MHz"]) for p in processors if re.match(r"[\d.]+$", p.get("cpu MHz", ""))]
    return round(sum(values) / len(values)) if values else None


def _frequencies(snap: dict) -> dict:
    per_cpu = {}
    for path, text in snap.items():
        match = re.match(r"/sys/devices/system/cpu/cpu(\d+)/cpufreq/(\w+)$", path)
        if match:
            per_cpu.setdefault(int(match.group(1)), {})[match.group(2)] = text.strip()
    mhz = lambda cpu, key: round(int(cpu[key]) / 1000) if cpu.get(key, "").isdigit() else None  # noqa: E731  (a one-line local helper reads better as a lambda)
    table = [{"cpu": n, "min_mhz": mhz(c, "cpuinfo_min_freq"), "max_mhz": mhz(c, "cpuinfo_max_freq"),
              "cur_mhz": mhz(c, "scaling_cur_freq"), "governor": c.get("scaling_governor")} for n, c in sorted(per_cpu.items())]
    governors = sorted({row["governor"] for row in table if row["governor"]})
    maxima = [row["max_mhz"] for row in table if row["max_mhz"]]
    minima = [row["min_mhz"] for row in table if row["min_mhz"]]
    return {"min_mhz": min(minima) if minima else None, "max_mhz": max(maxima) if maxima else None,
            "governor": ",".join(governors) or None, "per_cpu": table}


def _memory(meminfo: str, cmd) -> dict:
    values = {}
    for line in meminfo.splitlines():
        match = re.match(r"(\w+):\s+(\d+) kB", line)
        if match:
            values[match.group(1)] = int(match.group(2)) * 1024
    total = values.get("MemTotal") or _int(cmd("sysctl -n hw.memsize"))
    return {"total_bytes": total, "available_bytes": values.get("MemAvailable")}


def _thermal(snap: dict) -> list:
    zones = []
    for path, text in sorted(snap.items()):
        match = re.match(r"(/sys/class/thermal/(thermal_zone\d+))/temp$", path)
        if match and text.strip().lstrip("-").isdigit():
            zones.append({"zone": match.group(2), "type": snap.get(match.group(1) + "/type", "").strip(),
                          "path": path, "celsius": int(text.strip()) / 1000.0})
    return sorted(zones, key=lambda z: int(z["zone"][len("thermal_zone"):]))


def _os_name(snap: dict, cmd) -> str:
    fields = dict(re.findall(r'^(\w+)="?([^"\n]*)"?$', snap.get("/etc/os-release", ""), re.M))
    if fields.get("PRETTY_NAME"):
        return fields["PRETTY_NAME"]
    if cmd("sw_vers -productName"):
        return f"{cmd('sw_vers -productName')} {cmd('sw_vers -productVersion')}"
    if cmd("getprop ro.build.version.release"):
        return "Android " + cmd("getprop ro.build.version.release")
    return cmd("uname -s")


def runtimes() -> dict:
    """Import name -> installed version (None when absent), from package metadata only."""
    import importlib.util
    from importlib import metadata

    found = {}
    for module, dist in RUNTIMES:
        if importlib.util.find_spec(module) is None:
            found[module] = None
            continue
        try:
            found[module] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[module] = "unknown"
    return found


def python_info() -> dict:
    """This Python: version, implementation, executable, CPUs it may use."""
    usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"version": platform.python_version(), "implementation": platform.python_implementation(),
            "executable": sys.executable, "usable_cpus": usable}


def collect() -> dict:
    """The full fingerprint of this machine."""
    result = build(snapshot())
    result["python"] = python_info()
    result["runtimes"] = runtimes()
    return result


def main() -> int:
    """Print the fingerprint as JSON."""
    json.dump(collect(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
