"""Errors the user can act on, each with a hint and an exit code."""

from __future__ import annotations


class PiError(Exception):
    """Something went wrong with the emulated device: what, and what to do next."""

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


class NotSupported(PiError):
    """This machine cannot emulate an aarch64 device (no root, no binfmt_misc, missing tools)."""

    exit_code = 75  # EX_TEMPFAIL: the test fixture turns this into a skip


class Busy(PiError):
    """Another emulated-pi command holds the root's lock."""

    exit_code = 73
