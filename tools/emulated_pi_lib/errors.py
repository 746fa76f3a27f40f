"""The emulator's errors: edge-bench's DeviceError (message + hint), with exit codes of their own."""

from __future__ import annotations

from edge_bench.errors import DeviceError


class PiError(DeviceError):
    """Something went wrong with the emulated device: what, and what to do next."""


class NotSupported(PiError):
    """This machine cannot emulate an aarch64 device (no root, no binfmt_misc, missing tools)."""

    exit_code = 75  # EX_TEMPFAIL: the test fixture turns this into a skip


class Busy(PiError):
    """Another emulated-pi command holds the root's lock."""

    exit_code = 73
