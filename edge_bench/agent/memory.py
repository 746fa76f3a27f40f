"""Memory of the agent's own process, always reported in bytes.

Linux and Android: /proc/self/status (VmRSS now, VmHWM = peak; the kernel
prints kB = 1024 bytes) and /proc/self/smaps_rollup (PSS). macOS: peak from
getrusage's ru_maxrss (bytes there; kilobytes on Linux), current RSS from
`ps -o rss=` (kilobytes). A figure the platform does not give is None.
"""

from __future__ import annotations

import os
import subprocess
import sys


def _proc_kb(path: str, key: str) -> int | None:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _ru_maxrss_bytes() -> int | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def rss_bytes() -> int | None:
    """Resident set size of this process now."""
    value = _proc_kb("/proc/self/status", "VmRSS")
    if value is not None:
        return value
    try:
        out = subprocess.run(["ps", "-o", "rss=", "-p", str(os.getpid())], capture_output=True, text=True, timeout=10)
        return int(out.stdout.strip()) * 1024
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def peak_rss() -> tuple[int | None, str]:
    """(peak resident set size in bytes, where it came from: 'VmHWM' or 'ru_maxrss')."""
    value = _proc_kb("/proc/self/status", "VmHWM")
    if value is not None:
        return value, "VmHWM"
    return _ru_maxrss_bytes(), "ru_maxrss"


def pss_bytes() -> int | None:
    """Proportional set size now (Linux/Android smaps_rollup), else None."""
    return _proc_kb("/proc/self/smaps_rollup", "Pss")
