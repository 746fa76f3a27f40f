"""Reachability of many devices at once: connect, make the workdir, ask Python its version."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from edge_bench.devices.device_python import python_argv
from edge_bench.devices.profile import DeviceProfile
from edge_bench.devices.registry import open_transport
from edge_bench.errors import EdgeBenchError

PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Probe:
    """What probing one device found."""

    name: str
    """The profile's name."""
    reachable: bool
    """The device answered and its workdir is usable."""
    detail: str
    """The Python version found, or why the device is not reachable."""
    reason: str
    """A short slug for failures (see ConnectionFailed.reason), '' when reachable."""
    hint: str
    """What to do about a failure, '' when none."""
    seconds: float
    """How long the probe took."""

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)


_VERSION_CODE = "import sys; sys.path[:] = [p for p in sys.path if p]; import platform; print(platform.python_version())"
"""The device Python's version, with the working directory off sys.path (a planted platform.py is never run)."""


def probe(profile: DeviceProfile, timeout: float = PROBE_TIMEOUT_S) -> Probe:
    """Connect to one device within about `timeout` seconds and report, never raise."""
    started = time.perf_counter()
    try:
        with open_transport(profile) as transport:
            transport.check(timeout)
            detail = "reachable"
            if transport.python:
                result = transport.run([*python_argv(transport.python), "-c", _VERSION_CODE],
                                       timeout=timeout + 5)
                detail = f"python {result.text().strip()}" if result.ok else f"{transport.python} not runnable"
    except EdgeBenchError as exc:
        return Probe(profile.name, False, " ".join(exc.message.split()), getattr(exc, "reason", "error"), exc.hint or "",
                     time.perf_counter() - started)
    return Probe(profile.name, True, detail, "", "", time.perf_counter() - started)


def probe_all(profiles: list[DeviceProfile], timeout: float = PROBE_TIMEOUT_S) -> list[Probe]:
    """Probe every profile in parallel; results in the profiles' order."""
    if not profiles:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(profiles))) as pool:
        return list(pool.map(lambda p: probe(p, timeout), profiles))
