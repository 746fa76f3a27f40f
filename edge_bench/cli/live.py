"""A live view of a run in the terminal, fed by the runner's events."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from edge_bench.runner.events import Event, JobFinished, JobStage, JobStarted, RunFinished, RunStarted


class LiveRun:
    """Progress over the run's jobs, with the current job's stage; one line per finished job."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=console, transient=True)
        self.task = None

    def __enter__(self) -> "LiveRun":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def on_event(self, event: Event) -> None:
        """Update the display (called by the runner, in its thread)."""
        if isinstance(event, RunStarted):
            todo = len(event.jobs) - len(event.already_done)
            note = f" (resuming: {len(event.already_done)} done before)" if event.resumed else ""
            self.console.print(f"run {event.run_id} on {event.device}: {todo} job(s){note}")
            self.task = self.progress.add_task("starting", total=max(todo, 1))
        elif isinstance(event, JobStarted):
            self.progress.update(self.task, description=f"{event.job.label}")
        elif isinstance(event, JobStage):
            self.progress.update(self.task, description=f"{event.job.label}: {event.stage} {event.detail}".strip())
        elif isinstance(event, JobFinished):
            self.progress.advance(self.task)
            colour = {"ok": "green", "failed": "red"}.get(event.status, "yellow")
            extra = ""
            if event.summary:
                parts = [f"{k}={v:.2f}" for k, v in event.summary.items()]
                extra = " " + " ".join(parts)
            reason = f": {event.reason}" if event.reason else ""
            self.console.print(f"  [{colour}]{event.status}[/] {event.job.label}{extra}{reason}")
        elif isinstance(event, RunFinished):
            self.progress.update(self.task, description=f"run {event.status}")
