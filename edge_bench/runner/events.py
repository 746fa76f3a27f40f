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


@dataclass(frozen=True)
class LabStarted(Event):
    """A lab run began: several devices at once, each in its own run (`run_id` is the lab id)."""

    devices: tuple[str, ...] = ()
    shared_hardware: dict = field(default_factory=dict)
    """device -> the other devices of the lab on the same hardware (only with --allow-shared-hardware)."""
    resumed: bool = False


@dataclass(frozen=True)
class DeviceFailed(Event):
    """A device of a lab run could not be reached or was lost outside a job: its own jobs fail, the others go on."""

    device: str
    reason: str


@dataclass(frozen=True)
class LabFinished(Event):
    status: str
    counts: dict = field(default_factory=dict)
    runs: dict = field(default_factory=dict)
    """device -> its run id."""
