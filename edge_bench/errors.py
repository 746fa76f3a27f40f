"""The one error type users see, with a title and a hint they can act on.

Library code raises these; the CLI turns them into one line on stderr and a
non-zero exit, never a traceback. `edge-bench run` exits with the codes below.
"""

from __future__ import annotations

EXIT_OK = 0
"""Every job ran and none failed."""
EXIT_FAILED = 1
"""A job failed, the device could not be reached or used, or nothing could run."""
EXIT_BAD_INPUT = 2
"""Bad input, found before anything ran: an unknown name, a missing dataset, a bad option."""
EXIT_INTERRUPTED = 130
"""Interrupted (Ctrl-C), as a shell reports SIGINT."""


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

    def lines(self) -> list[str]:
        """What the terminal shows: the one line (PlanError lists its problems on lines of their own)."""
        return [self.one_line()]


class ConfigError(EdgeBenchError):
    """Bad settings: a profile, a plan, an option."""


class PlanError(ConfigError):
    """Every problem of a plan found before it starts, each on its own line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = [" ".join(p.split()) for p in problems]
        super().__init__("; ".join(self.problems))

    def lines(self) -> list[str]:
        if len(self.problems) == 1:
            return list(self.problems)
        return [f"{len(self.problems)} problems, nothing was run:"] + [f"  {p}" for p in self.problems]


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
