"""Errors of the Android path a user can act on: a missing, unusable or crashing native runner.

"No device", "unauthorized" and "offline" come from the adb transport
(`edge_bench.devices`); these cover what happens once a phone answers.
"""

from __future__ import annotations

from edge_bench.errors import DeviceError, JobError


class RunnerMissing(DeviceError):
    """The native runner named in the profile is not on the host or not on the phone."""


class RunnerNotExecutable(DeviceError):
    """The runner exists on the phone but cannot be executed (permission or mount)."""


class AbiMismatch(DeviceError):
    """The runner binary is built for another CPU than the phone's (e.g. x86_64 vs arm64-v8a)."""


class RunnerCrashed(JobError):
    """The runner started and then failed: non-zero exit, a signal, or output that stops early.

    `phase` is where it stopped (load, init, warmup, timed, outputs), `partial`
    holds whatever figures were parsed before the failure.
    """

    def __init__(self, message: str, hint: str | None = None, phase: str = "", partial: dict | None = None) -> None:
        super().__init__(message, hint)
        self.phase = phase
        self.partial = partial or {}
