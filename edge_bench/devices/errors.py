"""Device errors that callers tell apart: cannot connect, connection cut, timeout.

A command that ran and exited non-zero is not an error here: it comes back in
`CommandResult`. These are for the cases where no exit status exists.
"""

from __future__ import annotations

from edge_bench.errors import ConfigError, DeviceError


class ConnectionFailed(DeviceError):
    """The device could not be reached or used: no exit status exists.

    `reason` is a short, stable slug the runner can record as a job's failure
    reason: "unreachable", "refused", "timeout", "dns", "auth", "host-key-unknown",
    "host-key-changed", "cut", "no-device", "unauthorized", "offline",
    "no-permissions", "ambiguous".
    """

    def __init__(self, message: str, hint: str | None = None, reason: str = "unreachable") -> None:
        super().__init__(message, hint)
        self.reason = reason


class ConnectionLost(ConnectionFailed):
    """The connection dropped while a command ran (the device went away mid-run)."""

    def __init__(self, message: str, hint: str | None = None, reason: str = "cut") -> None:
        super().__init__(message, hint, reason)


class CommandTimeout(DeviceError):
    """A command ran longer than its timeout and was stopped on this side."""


class ToolMissing(DeviceError):
    """A client program the transport needs (ssh, adb) is not installed here."""


class RemoteCommandFailed(DeviceError):
    """A helper command of the transport (mkdir, tar, cat) failed on the device."""


class UnknownDevice(ConfigError):
    """No device profile of that name."""


class UnsafeWorkdir(DeviceError):
    """The device's working directory is not private (another user's, group/world-writable, a symlink)."""


class DeviceBusy(DeviceError):
    """Another edge-bench process holds this device's lock."""
