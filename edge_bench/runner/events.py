"""Progress events the runner emits; the CLI, the TUI and tests consume the same ones."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Event:
    """Base of every runner event."""

    run_id: str


@dataclass(frozen=True)
class RunStarted(Event):
    device: str
    jobs: tuple = ()
    """The PlannedJobs of the run, skipped ones included."""
    resumed: bool = False
    already_done: tuple[str, ...] = ()
    """Keys of jobs a resumed run already has."""


@dataclass(frozen=True)
class JobStarted(Event):
    job: object
    index: int
    total: int


@dataclass(frozen=True)
class JobStage(Event):
    """A step inside a job: convert, push, image, text, recall."""

    job: object
    stage: str
    detail: str = ""


@dataclass(frozen=True)
class JobFinished(Event):
    """A job ended: ok, failed (with its reason) or skipped."""

    job: object
    status: str
    reason: str | None = None
    summary: dict = field(default_factory=dict)
    job_row_id: str | None = None


@dataclass(frozen=True)
class RunFinished(Event):
    status: str
    counts: dict = field(default_factory=dict)
