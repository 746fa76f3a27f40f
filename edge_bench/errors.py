"""The one error type users see, with a title and a hint they can act on.

Library code raises these; the CLI turns them into one line on stderr and a
non-zero exit, never a traceback.
"""

from __future__ import annotations


class EdgeBenchError(Exception):
    """An error the user can act on: what went wrong, and what to do next."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message and hint folded into one line for the terminal."""
        text = " ".join(self.message.split())
        if self.hint:
            text += f" (hint: {' '.join(self.hint.split())})"
        return text


class ConfigError(EdgeBenchError):
    """Bad settings: a profile, a plan, an option."""


class ModelError(EdgeBenchError):
    """An unknown model, or weights that do not load."""


class DataError(EdgeBenchError):
    """A dataset that is missing, malformed or empty."""


class ConversionError(EdgeBenchError):
    """An export or conversion that failed, or an artifact that fails parity."""


class BackendUnavailable(EdgeBenchError):
    """A backend whose runtime or converter is not installed here."""


class DeviceError(EdgeBenchError):
    """A device that cannot be reached or used."""


class JobError(EdgeBenchError):
    """A benchmark job that failed on the device."""


class StoreError(EdgeBenchError):
    """The results store cannot be read or written."""
