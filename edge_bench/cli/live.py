"""A live view of a run in the terminal, fed by the runner's events.

In a terminal: a progress bar with the current job's stage, and one line per
finished job. Piped or redirected: the same lines, plain, one per job, with no
spinner or redraws. Quiet: nothing per job (the caller prints the tables).
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from edge_bench.runner.events import Event, JobFinished, JobStage, JobStarted, RunFinished, RunStarted

COLOURS = {"ok": "green", "failed": "red"}


def job_line(event: JobFinished) -> str:
    """'ok edgeclip-s-scratch tflite fp32 image_ms=0.98 ...' or 'failed LABEL: reason', as rich markup."""
    colour = COLOURS.get(event.status, "yellow")
    extra = "".join(f" {k}={v:.2f}" for k, v in (event.summary or {}).items())
    reason = f": {' '.join(str(event.reason).split())}" if event.reason else ""
    return f"  [{colour}]{event.status}[/] {escape(event.job.label)}{extra}{escape(reason)}"


class ProgressView:
    """A context manager holding rich progress bars in a terminal (none when piped or quiet).

    `log` (an edge_bench.cli.logs.OutputLog) is moved into the run's folder
    once the run has an id.
    """

    def __init__(self, console: Console, quiet: bool = False, log=None) -> None:
        self.console, self.quiet, self.log = console, quiet, log
        self.progress = None
        if console.is_terminal and not quiet:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            # redirect_*=False: what libraries print goes to the run's log, not above the bar
            self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), console=console, transient=True,
                                     redirect_stdout=False, redirect_stderr=False)

    def __enter__(self):
        if self.progress is not None:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)


class LiveRun(ProgressView):
    """Progress over the run's jobs (terminal only), one line per finished job (unless quiet)."""

    def __init__(self, console: Console, quiet: bool = False, log=None) -> None:
        super().__init__(console, quiet, log)
        self.task = None

    def _describe(self, text: str) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, description=escape(text))

    def on_event(self, event: Event) -> None:
        """Update the display (called by the runner, in its thread)."""
        if isinstance(event, RunStarted):
            if self.log is not None:
                from edge_bench.cli.logs import run_log_path

                self.log.move_to(run_log_path(event.run_id))
            todo = len(event.jobs) - len(event.already_done)
            if not self.quiet:
                note = f" (resuming: {len(event.already_done)} done before)" if event.resumed else ""
                self.console.print(f"run {event.run_id} on {escape(event.device)}: {todo} job(s){note}")
            if self.progress is not None:
                self.task = self.progress.add_task("starting", total=max(todo, 1))
        elif isinstance(event, JobStarted):
            self._describe(event.job.label)
        elif isinstance(event, JobStage):
            self._describe(f"{event.job.label}: {event.stage} {event.detail}".strip())
        elif isinstance(event, JobFinished):
            if self.progress is not None and self.task is not None:
                self.progress.advance(self.task)
            if not self.quiet:
                self.console.print(job_line(event))
        elif isinstance(event, RunFinished):
            self._describe(f"run {event.status}")
