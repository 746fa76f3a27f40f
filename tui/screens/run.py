"""Run: a plan running live on its device, or on several at once as one lab run (a thread worker drives the
runner, or the lab runner the CLI's `run --device A,B` uses; its events come back here)."""

from __future__ import annotations

import threading
import time

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, ProgressBar, Static
from textual.timer import Timer
from textual.worker import Worker, WorkerState

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
from edge_bench.runner.plan import RunPlan
from edge_bench.errors import EdgeBenchError
from edge_bench.tui import records as R
from edge_bench.tui.lab_progress import LabProgress
from edge_bench.tui.messages import StoreChanged
from edge_bench.tui.widgets.device_row import DeviceRow
from edge_bench.tui.widgets.job_item import JobItem, figures_text
from edge_bench.tui.widgets.nav import ScreenNav


class RunScreen(Screen):
    """The jobs of the current run with their progress, figures and failures; cancel."""

    CSS_PATH = "run.tcss"
    HELP = """\
## Run

The plan running on its device, one line per job: a bar over its stages
(convert, push, image tower, text tower, recall), its status, and when it
ends its median latency per tower, gallery throughput, Recall@1 (* =
untrained weights: chance level) and the device's temperature before and
after. A job that fails (a device that vanished, an agent error) shows why;
the run goes on with the next job.

A plan with several devices (Plan: "also on") is one lab run: every device
at once, one job at a time each. A row per device shows its jobs done of
its total, the job on it now and its failures; the job lines are prefixed
by their device. A device that cannot be reached fails only its own jobs.

- **x**: cancel the run. The agent on the device is stopped (what it
  measured so far is kept with the job, marked cancelled); the jobs after it
  are not run (on every device of a lab run). `edge-bench run --resume` runs
  what is missing.
"""
    BINDINGS = [Binding("x", "cancel", "Cancel run")]

    def __init__(self) -> None:
        super().__init__()
        self.running = False
        self.run_id: str | None = None
        self.plan: RunPlan | None = None
        self.devices: tuple[str, ...] = ()
        """The devices of a lab run; () for a run on the plan's device alone."""
        self.lab: LabProgress | None = None
        self.rows: dict[str, DeviceRow] = {}
        self.cancel_event = threading.Event()
        self.items: dict[tuple[str, str], JobItem] = {}
        """(device, job key) -> its line."""
        self.started_at = 0.0
        self.counts: dict[str, int] = {}
        self.total_jobs = 0
        self.message = "No run yet: plan one on the Plan screen (2) and press ctrl+r."
        self._thermal_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield ScreenNav("run")
        yield Static(self.message, id="run-summary")
        yield ProgressBar(id="overall", show_eta=False)
        yield Static("", id="device-temp", classes="hint")
        with VerticalScroll(id="device-list") as rows:
            rows.border_title = "Devices"
        with VerticalScroll(id="job-list") as jobs:
            jobs.border_title = "Jobs"
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        if self.running and self.plan is not None:  # start() came before the screen was composed
            self._begin(self.plan)

    def start(self, plan: RunPlan, devices: tuple[str, ...] = ()) -> None:
        """Run a plan, on several devices at once when `devices` names more than one (the app calls this as it
        brings the screen to the front)."""
        self.plan, self.running, self.run_id = plan, True, None
        self.devices = tuple(dict.fromkeys(devices)) if len(set(devices)) > 1 else ()
        if self.is_mounted:
            self._begin(plan)

    def _begin(self, plan: RunPlan) -> None:
        self.cancel_event = threading.Event()
        self.started_at, self.counts, self.items, self.total_jobs = time.monotonic(), {}, {}, 0
        self.message = f"connecting to {', '.join(self.devices) or plan.device}…"
        self.query_one("#job-list").remove_children()
        self.query_one("#overall", ProgressBar).update(total=None, progress=0)
        self.show_devices(self.devices)
        self._summary()
        if self.devices:
            self._run_lab(plan, self.devices, self.cancel_event)
            return  # each job's figures carry its device's temperatures; no periodic read of one device
        self._run(plan, self.cancel_event)
        if self.app.settings.thermal_interval > 0:
            self._probe(plan.device)
            self._thermal_timer = self.set_interval(self.app.settings.thermal_interval,
                                                    lambda: self._probe(plan.device))

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def _run(self, plan: RunPlan, cancel: threading.Event) -> None:
        from edge_bench.runner import Runner

        with self.app.store() as store:
            try:
                Runner(store, on_event=lambda event: self._forward(store, event), cancel=cancel,
                       executor_factory=self.app.executor_factory).run(plan)
            except EdgeBenchError as exc:
                self._call(self._not_run, exc.one_line())

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def _run_lab(self, plan: RunPlan, devices: tuple[str, ...], cancel: threading.Event) -> None:
        """The plan on every device at once, as `edge-bench run --device A,B` runs it (one thread per device)."""
        from edge_bench.runner.lab import LabRunner

        with self.app.store() as store:
            try:
                LabRunner(store, on_event=lambda event: self._forward(store, event), cancel=cancel,
                          executor_factory=self.app.executor_factory,
                          allow_shared_hardware=self.app.settings.allow_shared_hardware).run(plan, devices)
            except EdgeBenchError as exc:
                self._call(self._not_run, exc.one_line())

    def show_devices(self, devices: tuple[str, ...]) -> None:
        """A row per device of a lab run, before its events arrive (none, and no pane, for one device)."""
        self.devices = devices
        pane = self.query_one("#device-list")
        pane.remove_children()
        self.lab = LabProgress(self.devices) if self.devices else None
        self.rows = {d: DeviceRow(d, classes="device") for d in self.devices}
        pane.display = bool(self.devices)
        if self.rows:
            pane.mount_all(self.rows.values())

    def _forward(self, store, event: Event) -> None:
        """In the runner's thread: add what the store knows of a finished job, then hand the event to the UI."""
        extra: dict = {}
        if isinstance(event, JobFinished) and event.job_row_id:
            row = next((j for j in store.jobs(run_id=event.run_id) if j.id == event.job_row_id), None)
            if row is not None:
                extra = {"temps": R.temperatures(row.record), "untrained": R.untrained(row.record)}
        self._call(self.apply, event, extra)

    def _call(self, fn, *args) -> None:
        try:
            self.app.call_from_thread(fn, *args)
        except RuntimeError:  # the app has closed; the runner finishes on its own
            pass

    async def apply(self, event: Event, extra: dict | None = None) -> None:
        """Show one runner event (the job list is mounted before the next event is shown)."""
        extra = extra or {}
        if self.lab is not None and (device := self.lab.apply(event)) in self.rows:
            self.rows[device].show(self.lab.devices[device])
        if isinstance(event, LabStarted):
            self.run_id = event.run_id
            self.message = f"lab run {event.run_id} on {', '.join(event.devices)}"
            shared = ", ".join(sorted(event.shared_hardware))
            if shared:
                self.message += f" ({shared}: one machine, results marked as taken concurrently)"
        elif isinstance(event, DeviceFailed):
            self.notify(event.reason, title=event.device, severity="error", timeout=10)
        elif isinstance(event, LabFinished):
            self.message = f"lab run {event.run_id} on {len(event.runs)} devices: {event.status}"
        elif isinstance(event, RunStarted):
            await self._run_started(event)
        elif isinstance(event, JobStarted):
            (await self._item(event.job, event.run_id)).started()
        elif isinstance(event, JobStage):
            (await self._item(event.job, event.run_id)).stage(event.stage, event.detail)
        elif isinstance(event, JobFinished):
            self.counts[event.status] = self.counts.get(event.status, 0) + 1
            figures = figures_text(event.summary, extra.get("temps", (None, None)), extra.get("untrained", False))
            (await self._item(event.job, event.run_id)).finished(event.status, event.reason, figures)
            self.query_one("#overall", ProgressBar).advance(1)
        elif isinstance(event, RunFinished):
            device = self._device(event.run_id)
            for (of, _), item in self.items.items():
                if of == device and item.status in ("waiting", "running"):
                    item.cancelled()
            if self.lab is None:
                self.message = f"run {event.run_id} on {device}: {event.status}"
        self._summary()

    async def _run_started(self, event: RunStarted) -> None:
        done = set(event.already_done)
        jobs = [j for j in event.jobs if j.key not in done]
        bar = self.query_one("#overall", ProgressBar)
        if self.lab is None:
            self.run_id = event.run_id
            self.message = f"run {event.run_id} on {event.device}"
            bar.update(total=max(len(jobs), 1), progress=0)
        else:  # one device's run of the lab: its jobs join the list, the overall bar counts every device's
            self._add_to_total(len(jobs))
        items = {(event.device, job.key): JobItem(f"{event.device}: {job.label}" if self.lab else job.label, job.skip,
                                                  classes="job") for job in jobs}
        self.items.update(items)
        await self.query_one("#job-list").mount_all(items.values())

    def _add_to_total(self, jobs: int) -> None:
        """The overall bar of a lab run counts the jobs of every device known so far."""
        self.total_jobs += jobs
        self.query_one("#overall", ProgressBar).update(total=max(self.total_jobs, 1))

    def _device(self, run_id: str) -> str:
        """The device of one run (the plan's device when there is no lab)."""
        if self.lab is None:
            return self.plan.device if self.plan else "?"
        return self.lab.device_of(run_id) or "?"

    async def _item(self, job, run_id: str) -> JobItem:
        key = (self._device(run_id or ""), job.key)
        if key not in self.items:  # a device never reached fails its jobs without a RunStarted: a line for each
            self.items[key] = JobItem(f"{key[0]}: {job.label}", job.skip, classes="job")
            await self.query_one("#job-list").mount(self.items[key])
            self._add_to_total(1)
        return self.items[key]

    def _not_run(self, reason: str) -> None:
        where = ", ".join(self.devices) or (self.plan.device if self.plan else "?")
        self.message = f"the {'lab ' if self.devices else ''}run on {where} did not start: {reason}"
        self._summary()
        self.notify(reason, title="Run", severity="error", timeout=10)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "run" or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR,
                                                                WorkerState.CANCELLED):
            return
        self.running = False
        if self._thermal_timer is not None and not self.devices:
            self._thermal_timer.stop()
            self._thermal(self.plan.device)  # the temperature the run left the device at (or why it is unknown)
        if event.state == WorkerState.ERROR:
            self._not_run(f"{type(event.worker.error).__name__}: {event.worker.error}")
        if self.run_id:
            self.post_message(StoreChanged(self.run_id))
        self._summary()

    def action_cancel(self) -> None:
        """Stop the run after the job on the device now."""
        if not self.running:
            self.notify("No run is in progress.")
            return
        self.cancel_event.set()
        self.message = f"cancelling run {self.run_id or ''}: stopping the job on the device…"
        self._summary()

    def _tick(self) -> None:
        if self.running:
            self._summary()

    def _summary(self) -> None:
        counts = "  ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        elapsed = time.monotonic() - self.started_at if self.started_at else 0
        text = Text(self.message, style="bold")
        if self.started_at:
            text.append(f"   {int(elapsed) // 60:02d}:{int(elapsed) % 60:02d}", style="dim")
        if counts:
            text.append(f"   {counts}")
        self.query_one("#run-summary", Static).update(text)

    def _probe(self, device: str) -> None:
        """A periodic read, skipped while the previous one is still out (a slow link never starves the display)."""
        if getattr(self, "_reading", False):
            return
        self._reading = True
        self._thermal(device)

    @work(thread=True, group="thermal", exit_on_error=False)
    def _thermal(self, device: str) -> None:
        """Read the device's zones in a worker; not exclusive, so the next tick never cancels a read under way."""
        from edge_bench.devices import load_profile
        from edge_bench.tui.thermal import read_temperatures

        try:
            profile = load_profile(device)
            if not profile.thermal_zones:
                self.app.from_worker(self._show_temperature, f"{device}'s profile lists no thermal zones", False)
                return
            temps = read_temperatures(profile)
            text = "  ".join(f"{zone_name(zone)} {c:.1f} °C" for zone, c in temps.items()) or "no zone readable"
        except EdgeBenchError as exc:
            text = f"unavailable: {exc.one_line()}"
        finally:
            self._reading = False
        self.app.from_worker(self._show_temperature, text, True)

    def _show_temperature(self, text: str, again: bool) -> None:
        self.query_one("#device-temp", Static).update(f"device temperature: {text}")
        if not again and self._thermal_timer is not None:
            self._thermal_timer.stop()


def zone_name(path: str) -> str:
    """'thermal_zone0' for '/sys/class/thermal/thermal_zone0/temp'."""
    parts = [p for p in path.split("/") if p]
    return parts[-2] if len(parts) >= 2 and parts[-1] == "temp" else (parts[-1] if parts else path)
