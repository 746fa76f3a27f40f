"""Temperatures, CPU governor, frequencies and throttling, read before and after a job.

Every reading is optional: a file the device does not have is recorded in
`absent`, never an error. Temperatures are millidegrees C in sysfs and
degrees C in the result.
"""

from __future__ import annotations

import glob
import re
import shutil
import subprocess

_PI_THROTTLED = "/sys/devices/platform/soc/soc:firmware/get_throttled"
_X86_THROTTLE = "/sys/devices/system/cpu/cpu*/thermal_throttle/core_throttle_count"
_GOVERNOR = "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"
_CUR_FREQ = "/sys/devices/system/cpu/cpu*/cpufreq/scaling_cur_freq"


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def zone_name(path: str) -> str:
    """'zone0' for /sys/class/thermal/thermal_zone0/temp; any other path stays as it is."""
    match = re.search(r"thermal_zone(\d+)/temp$", path)
    return f"zone{match.group(1)}" if match else path


def temperatures(zones: tuple[str, ...] | list[str], absent: list[str]) -> dict[str, float | None]:
    """Degrees C per zone; an unreadable zone is None and its path goes to `absent`."""
    out: dict[str, float | None] = {}
    for path in zones:
        text = _read(path)
        try:
            out[zone_name(path)] = round(int(text) / 1000.0, 3)
        except (TypeError, ValueError):
            out[zone_name(path)] = None
            if path not in absent:
                absent.append(path)
    return out


def _cpu_id(path: str) -> str:
    match = re.search(r"/(cpu\d+)/", path)
    return match.group(1) if match else path


def frequencies_khz() -> dict[str, int]:
    """Current frequency per CPU (kHz) where cpufreq is exposed."""
    out = {}
    for path in sorted(glob.glob(_CUR_FREQ)):
        text = _read(path)
        if text and text.isdigit():
            out[_cpu_id(path)] = int(text)
    return out


def governor() -> str | None:
    """cpu0's cpufreq governor (e.g. 'schedutil'), or None."""
    return _read(_GOVERNOR)


def throttling() -> dict | None:
    """A throttling indicator: the Pi firmware's get_throttled flags, or x86 throttle counts; None if neither."""
    text = _read(_PI_THROTTLED)
    if text is not None:
        return {"source": "get_throttled", "value": text}
    if shutil.which("vcgencmd"):
        try:
            out = subprocess.run(["vcgencmd", "get_throttled"], capture_output=True, text=True, timeout=5).stdout
            return {"source": "vcgencmd get_throttled", "value": out.strip().split("=")[-1]}
        except (OSError, subprocess.SubprocessError):
            pass
    counts = [_read(p) for p in glob.glob(_X86_THROTTLE)]
    values = [int(c) for c in counts if c and c.isdigit()]
    if values:
        return {"source": "core_throttle_count (sum)", "value": sum(values)}
    return None


def snapshot(zones: tuple[str, ...] | list[str], absent: list[str]) -> dict:
    """One reading of everything: temperatures, frequencies, throttling."""
    return {"temps_c": temperatures(zones, absent), "freq_khz": frequencies_khz(), "throttled": throttling()}
