"""A live view of a lab run: one progress line per device in a terminal, one plain line per finished job.

Fed by the same runner events as `LiveRun` (from every device's thread, one at a time), plus the lab's own
(LabStarted, DeviceFailed). Each job line is prefixed by its device; piped output stays one plain line per job.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from edge_bench.cli.live import ProgressView, job_line
from edge_bench.runner.events import (
    DeviceFailed,
    Event,
    JobFinished,
    JobStage,
    JobStarted,
    LabFinished,
    LabStarted,
    RunFinished,
    RunStarted,
)


class LabLive(ProgressView):
    """Progress per device (terminal only) and one line per finished job, prefixed by its device (unless quiet)."""

    def __init__(self, console: Console, quiet: bool = False, log=None) -> None:
        super().__init__(console, quiet, log)
        self.devices: dict[str, str] = {}
        """run id -> device."""
        self.tasks: dict[str, object] = {}
        """device -> its progress task."""

    def _print(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text)

    def _describe(self, device: str, text: str) -> None:
        if self.progress is not None and device in self.tasks:
            self.progress.update(self.tasks[device], description=escape(f"{device}: {text}"))

    def _task(self, device: str, total: int) -> None:
        if self.progress is not None and device not in self.tasks:
            self.tasks[device] = self.progress.add_task(escape(f"{device}: starting"), total=max(total, 1))

    def on_event(self, event: Event) -> None:
        """Update the display (called from the device threads, one event at a time)."""
        if isinstance(event, LabStarted):
            if self.log is not None:
                from edge_bench.cli.logs import run_log_path

                self.log.move_to(run_log_path(event.run_id))
            note = " (resuming)" if event.resumed else ""
            self._print(f"lab run {event.run_id} on {escape(', '.join(event.devices))}: every device at once{note}")
            for device, others in sorted(event.shared_hardware.items()):
                self._print(f"  [yellow]{escape(device)}: one machine with {escape(', '.join(others))}: "
                            "its results are marked as taken concurrently[/]")
        elif isinstance(event, RunStarted):
            self.devices[event.run_id] = event.device
            todo = len(event.jobs) - len(event.already_done)
            note = f" (resuming: {len(event.already_done)} done before)" if event.resumed else ""
            self._print(f"{escape(event.device)}: run {event.run_id}, {todo} job(s){note}")
            self._task(event.device, todo)
        elif isinstance(event, DeviceFailed):
            self.devices.setdefault(event.run_id, event.device)
            self._print(f"[red]{escape(event.device)}: {escape(event.reason)}[/]")
        elif isinstance(event, (JobStarted, JobStage)):
            device = self.devices.get(event.run_id, "?")
            stage = f": {event.stage} {event.detail}".rstrip() if isinstance(event, JobStage) else ""
            self._describe(device, f"{event.job.label}{stage}")
        elif isinstance(event, JobFinished):
            device = self.devices.get(event.run_id, "?")
            if self.progress is not None and device in self.tasks:
                self.progress.advance(self.tasks[device])
            self._print(f"  {escape(device)}:{job_line(event)[1:]}")
        elif isinstance(event, RunFinished):
            self._describe(self.devices.get(event.run_id, "?"), f"run {event.status}")
        elif isinstance(event, LabFinished) and self.progress is not None:
            for device, task in self.tasks.items():
                self.progress.update(task, description=escape(f"{device}: done"))
