"""Is this phone ready for edge-bench? The device answers, its fingerprint, and every configured runner."""

from __future__ import annotations

from typing import Any, Callable

from edge_bench.android.device import AndroidDevice
from edge_bench.android.settings import AndroidSettings
from edge_bench.errors import EdgeBenchError


def check_phone(transport: Any, settings: AndroidSettings,
                on_event: Callable[[str, dict], None] | None = None) -> dict:
    """Check the phone behind `transport`: reachable (else the transport raises), its fingerprint,
    and for each runner in the profile whether it is on the phone, executable and of the phone's ABI
    (host runners are pushed). Returns {"device", "runners", "taskset"}; runner problems are reported,
    not raised, so one broken runner does not hide the others."""
    emit = on_event or (lambda stage, details: None)
    emit("connect", {})
    transport.check()
    device = AndroidDevice(transport, settings)
    emit("fingerprint", {})
    fingerprint = device.fingerprint()
    runners: dict[str, dict] = {}
    for backend, location in sorted(settings.runners.items()):
        emit("install-runner", {"backend": backend})
        try:
            path = device.install_runner(backend, location, fingerprint["abilist"])
            runners[backend] = {"ok": True, "path": path, "version": location.version or None}
        except EdgeBenchError as exc:
            runners[backend] = {"ok": False, "error": exc.one_line()}
    return {"device": fingerprint, "runners": runners, "taskset": device.taskset}
