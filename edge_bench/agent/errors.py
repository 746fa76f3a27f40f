"""The agent's one error type: a phase and a one-line message for result.json."""

from __future__ import annotations

PHASES = ("verify", "load", "first_inference", "warmup", "timed", "encode", "write")
"""Where a job can fail, in the order the agent runs them ("done" when it did not)."""


class AgentError(Exception):
    """A job failure the agent reports in result.json: which phase, and why (one line)."""

    def __init__(self, phase: str, message: str) -> None:
        super().__init__(message)
        self.phase = phase
        self.message = " ".join(str(message).split())


def one_line(exc: BaseException) -> str:
    """An exception as one line: its type and message, whitespace folded."""
    if isinstance(exc, AgentError):
        return exc.message
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
