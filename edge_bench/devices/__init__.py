"""Devices: transports (local, ssh, adb) behind one interface, and device profiles.

    from edge_bench.devices import load_profile, open_transport

    with open_transport(load_profile("rpi5")) as device:
        device.push(Path("artifacts/set"), "artifacts/set")
        result = device.run(["python3", "-m", "edge_bench_agent", "job.json"], timeout=600)
        device.pull("runs/job-1", Path("results/job-1"))

A command that ran comes back as a `CommandResult` whatever its exit status;
`ConnectionFailed` (and its subclass `ConnectionLost`, for a connection cut
mid-command) and `CommandTimeout` mean there is no exit status.
"""

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
