"""A lab run's progress per device, folded from the runner's events (no Textual: the Run screen draws it)."""

from __future__ import annotations

from dataclasses import dataclass

from edge_bench.runner.events import DeviceFailed, Event, JobFinished, JobStage, JobStarted, RunFinished, RunStarted


@dataclass
class DeviceProgress:
    """One device of a lab run: its jobs done of its total, the job on it now, its failures."""

    device: str
    run_id: str | None = None
    total: int = 0
    """Jobs this run does on the device (a resumed run's done ones left out)."""
    done: int = 0
    failed: int = 0
    current: str = ""
    """The job on the device now and its stage ('' between jobs)."""
    status: str = "waiting"
    """waiting, running, or the device's run status when it ended (complete, partial, failed, cancelled)."""
    reason: str = ""
    """Why the device failed as a whole (unreachable, lost outside a job), else ''."""

    def line(self) -> str:
        """The device's state in a few words: '2/5 jobs, 1 failed: <job>: <stage>', or why the device failed."""
        text = f"{self.done}/{self.total} jobs" + (f", {self.failed} failed" if self.failed else "")
        if self.current:
            return f"{text}: {self.current}"
        if self.reason:  # the row names the device: its reason without the 'device NAME failed: ' prefix
            return f"{text}: {self.status}: {self.reason.removeprefix(f'device {self.device} failed: ')}"
        return f"{text}: {self.status}" if self.status != "running" else text


class LabProgress:
    """Every device of a lab run; `apply(event)` names the device an event changed (None: not a device's)."""

    def __init__(self, devices: tuple[str, ...]) -> None:
        self.devices = {d: DeviceProgress(d) for d in devices}
        self._by_run: dict[str, str] = {}

    def device_of(self, run_id: str) -> str | None:
        """The device whose run this is (known from its RunStarted or DeviceFailed)."""
        return self._by_run.get(run_id)

    def apply(self, event: Event) -> str | None:
        if isinstance(event, RunStarted):
            self._by_run[event.run_id] = event.device
            progress = self.devices.setdefault(event.device, DeviceProgress(event.device))
            progress.run_id, progress.status = event.run_id, "running"
            progress.total = len([j for j in event.jobs if j.key not in set(event.already_done)])
            return event.device
        if isinstance(event, DeviceFailed):
            self._by_run.setdefault(event.run_id, event.device)
            progress = self.devices.setdefault(event.device, DeviceProgress(event.device))
            progress.reason, progress.status = event.reason, "failed"
            return event.device
        device = self._by_run.get(event.run_id)
        if device is None:
            return None
        progress = self.devices[device]
        if isinstance(event, JobStarted):
            progress.current = event.job.label
        elif isinstance(event, JobStage):
            progress.current = f"{event.job.label}: {event.stage}"
        elif isinstance(event, JobFinished):
            progress.done += 1
            progress.total = max(progress.total, progress.done)  # a device never reached has no RunStarted
            progress.failed += event.status == "failed"
            progress.current = ""
        elif isinstance(event, RunFinished):
            progress.status, progress.current = event.status, ""
        else:
            return None
        return device
