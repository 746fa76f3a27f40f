"""Devices: transports (local, ssh, adb) behind one interface, and device profiles.

    from edge_bench.devices import load_profile, open_transport

    with open_transport(load_profile("rpi5")) as device:
        device.push(Path("artifacts/set"), "artifacts/set")
        result = device.run(["python3", "-m", "edge_bench_agent", "job.json"], timeout=600)
        device.pull("runs/job-1", Path("results/job-1"))

A command that ran comes back as a `CommandResult` whatever its exit status;
`ConnectionFailed` (and its subclass `ConnectionLost`, for a connection cut
mid-command) and `CommandTimeout` mean there is no exit status.

The names load on first use and this module imports none of its submodules: an
__init__ that imported them would deadlock a thread importing, say,
`edge_bench.devices.loader` by its full name (holding its lock, then importing this
package) against one importing this package (holding its lock, then waiting for
`loader`'s; Python raises _DeadlockError). tests/test_import_threads.py imports the
two from two threads at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge_bench.devices.base import CommandResult, Transport
    from edge_bench.devices.errors import (
        CommandTimeout,
        ConnectionFailed,
        ConnectionLost,
        RemoteCommandFailed,
        ToolMissing,
        UnknownDevice,
    )
    from edge_bench.devices.loader import list_profiles, load_profile, read_profile, scan_profiles, user_profiles_dir
    from edge_bench.devices.profile import AdbSettings, DeviceProfile, SshSettings
    from edge_bench.devices.registry import open_transport, register_transport, transport_class, transport_names

__all__ = [
    "AdbSettings", "CommandResult", "CommandTimeout", "ConnectionFailed", "ConnectionLost", "DeviceProfile",
    "RemoteCommandFailed", "SshSettings", "ToolMissing", "Transport", "UnknownDevice", "list_profiles",
    "load_profile", "open_transport", "read_profile", "register_transport", "scan_profiles", "transport_class",
    "transport_names", "user_profiles_dir",
]
_LAZY = {
    **dict.fromkeys(("CommandResult", "Transport"), "base"),
    **dict.fromkeys(("CommandTimeout", "ConnectionFailed", "ConnectionLost", "RemoteCommandFailed", "ToolMissing",
                     "UnknownDevice"), "errors"),
    **dict.fromkeys(("list_profiles", "load_profile", "read_profile", "scan_profiles", "user_profiles_dir"), "loader"),
    **dict.fromkeys(("AdbSettings", "DeviceProfile", "SshSettings"), "profile"),
    **dict.fromkeys(("open_transport", "register_transport", "transport_class", "transport_names"), "registry"),
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (the package is fully imported by then: no lock is held)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
