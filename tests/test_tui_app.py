"""The TUI driven with Pilot: runs on the local device, a real sshd that vanishes, results, compare, export.

Runs use a built-in student (edgeclip-s-scratch), LiteRT at fp32, 40 synthetic images
and a short protocol. The runs about the app (progress, results, compare,
export, cancel, quit) go through the scripted executor (`scripted_app`): no
conversion, no agent, figures from the script. Only the run about a real
transport (the device that vanishes) converts and starts the agent; the
converter cache is the session's (shared with the runner's tests), the store
and profiles are this test's own.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from edge_bench import paths
from edge_bench.agent.spec import Protocol
from edge_bench.executors.base import TowerFailed
from edge_bench.executors.scripted import Script, ScriptedExecutor
from edge_bench.runner.plan import RunPlan
from edge_bench.store import Store
from edge_bench.tui.app import EdgeBenchApp
from edge_bench.tui.settings import TuiSettings
from edge_bench.tui.widgets.job_item import STAGES, JobItem

FAST = Protocol(warmup_min_runs=2, warmup_min_seconds=0.0, min_runs=8, min_seconds=0.0, max_runs=200, max_seconds=5.0)
PLAN = RunPlan(device="local", models=("edgeclip-s-scratch",), backends=("tflite",), precisions=("fp32",),
               n_images=40, gallery_batch=4, protocol=FAST)
SIZE = (120, 36)
IMAGE, TEXT = (("edgeclip-s-scratch", "tflite", "fp32", tower) for tower in ("image", "text"))
"""PLAN's one job's towers, as the scripted executor keys them."""


@pytest.fixture
def tui_home(isolated_home: Path, session_home: Path) -> Path:
    """A fresh home (store, profiles) that shares the session's converter and input caches."""
    isolated_home.mkdir(parents=True, exist_ok=True)
    (session_home / "cache").mkdir(parents=True, exist_ok=True)
    os.symlink(session_home / "cache", isolated_home / "cache")
    return isolated_home


def settings(tmp_path: Path, **over) -> TuiSettings:
    values = dict(plan=PLAN, start_screen="plan", auto_probe=False, export_dir=tmp_path / "report")
    values.update(over)
    return TuiSettings(**values)


class SlowToStop(ScriptedExecutor):
    """A scripted device that takes a moment to stop a cancelled tower, as a real agent does."""

    def run_tower(self, request, cancel):
        try:
            return super().run_tower(request, cancel)
        except TowerFailed as exc:
            if exc.status == "cancelled":
                time.sleep(1.0)
            raise


def scripted_app(settings: TuiSettings, script: Script, executor=ScriptedExecutor) -> EdgeBenchApp:
    """The app with every run's jobs answered by a scripted executor (the device is still reached)."""
    return EdgeBenchApp(settings, executor_factory=lambda profile, transport, local_root: executor(script))


def drive(app: EdgeBenchApp, steps) -> None:
    """Run the app headless at SIZE and await `steps(app, pilot)` in it."""
    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await steps(app, pilot)
    asyncio.run(main())


async def wait_for(pilot, predicate, timeout: float, what: str) -> None:
    """Let the app run until `predicate()` holds."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await pilot.pause(0.1)


def status_text(item: JobItem) -> str:
    """The job's status line ('' while the item is mounted: the run has begun, its widgets not yet)."""
    status = item.query(".job-status")
    return str(status.first().content) if status else ""


async def run_plan(pilot, app, timeout: float = 400) -> tuple[list, JobItem]:
    """Press ctrl+r on the Plan screen; follow the run to its end; returns the statuses seen and the job item."""
    await pilot.press("2")
    await pilot.press("ctrl+r")
    run = app.get_screen("run")
    assert app.screen is run and run.running
    seen = []
    end = time.monotonic() + timeout
    while run.running:
        assert time.monotonic() < end, "the run did not end"
        seen += [(i.status, status_text(i), i.query_one("ProgressBar").progress) for i in run.items.values()
                 if i.query(".job-status")]
        await pilot.pause(0.05)
    (item,) = run.items.values()
    return seen, item


def test_run_on_local_then_results_compare_and_export(tui_home, tmp_path):
    # the scripted samples are spread symmetrically about these medians, so the figures shown are exactly these
    script = Script(latency_ms={IMAGE: 2.5, TEXT: 0.8}, delay_s=0.3)

    async def steps(app, pilot):
        seen, item = await run_plan(pilot, app)
        run = app.get_screen("run")
        # progress was shown while the job ran: its stages, with a partly filled bar
        stages = {text.split()[0] for status, text, _ in seen if status == "running"}
        assert stages & set(STAGES), seen[:20]
        assert any(0 < progress < len(STAGES) for status, _, progress in seen if status == "running")
        assert item.status == "ok", item.reason
        figures = str(item.query_one(".job-figures").content)
        assert script.calls == [IMAGE, TEXT]
        assert item.query_one("ProgressBar").progress == len(STAGES)
        assert "complete" in str(run.query_one("#run-summary").content)
        first_run = run.run_id
        store = Store()
        (row,) = store.jobs(run_id=first_run)
        assert row.status == "ok" and row.backend == "tflite"
        assert row.record.median_ms("image") == 2.5 and row.record.items_per_s("image") == 500.0
        assert row.record.tower("image").executor == "scripted" and not row.record.untrained
        # recall from the scripted device's embeddings (fp32: the reference's); trained weights, so no '*'
        assert figures == f"img 2.50 ms  txt 0.80 ms  500 img/s  R@1 {100 * row.record.recall('image'):.1f}%"

        # the screens stay usable while a second run goes on
        await pilot.press("2", "ctrl+r")
        assert run.running
        await pilot.press("4")
        assert app.screen is app.get_screen("results")
        await pilot.press("3")
        await wait_for(pilot, lambda: not run.running, 400, "the second run")
        assert run.run_id != first_run and list(run.items.values())[0].status == "ok"
        assert script.calls == [IMAGE, TEXT] * 2

        await pilot.press("4")
        results = app.get_screen("results")
        await wait_for(pilot, lambda: len(results.rows) == 2, 30, "the results table")
        table = results.query_one("DataTable")
        assert table.row_count == 2
        assert {r.job.run_id for r in results.rows} == {first_run, run.run_id}
        assert all(r.cells[4] == "ok" for r in results.rows)
        assert [str(table.get_row_at(i)[6]) for i in range(2)] == ["2.50", "2.50"]  # img ms

        await pilot.press("5")
        compare = app.get_screen("compare")
        await wait_for(pilot, lambda: compare.query_one("DataTable").row_count == 1, 30, "the comparison")
        assert compare.wanted == ("run", first_run, run.run_id)  # one backend only: the runs are compared
        scatter = compare.query_one("AccuracyScatter")
        assert "accuracy vs throughput" in scatter.plt.build()

        await pilot.press("6")
        export = app.get_screen("export")
        await wait_for(pilot, lambda: export.query_one("#export-device").value == "local", 30, "the devices")
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: export.written or export.error, 120, "the report")
        assert export.error is None, export.error
        assert all(Path(p).is_file() for p in export.written)
        assert all(Path(p).is_relative_to(tmp_path / "report") for p in export.written)

    drive(scripted_app(settings(tmp_path), script), steps)


def test_a_device_that_vanishes_fails_its_job_and_the_app_goes_on(tui_home, fresh_sshd, tmp_path):
    zone = tmp_path / "thermal_zone0" / "temp"  # the "device" is this host: a zone file it can read
    zone.parent.mkdir()
    zone.write_text("47250\n")
    fresh_sshd.write_profile(paths.config_dir(), "vanishing", backends=["tflite"], thermal_zones=[str(zone)])
    slow = Protocol(warmup_min_runs=2, warmup_min_seconds=0.0, min_runs=8, min_seconds=20.0, max_runs=100000,
                    max_seconds=30.0)
    plan = RunPlan(**{**PLAN.__dict__, "device": "vanishing", "protocol": slow})

    async def steps(app, pilot):
        await pilot.press("ctrl+r")
        run = app.get_screen("run")
        await wait_for(pilot, lambda: run.items and status_text(next(iter(run.items.values()))).startswith("image"),
                       400, "the image tower on the device")
        temperature = run.query_one("#device-temp")
        await wait_for(pilot, lambda: "thermal_zone0 47.2 °C" in str(temperature.content), 30, "a temperature")
        fresh_sshd.stop()  # the device disappears mid-job
        await wait_for(pilot, lambda: not run.running, 120, "the run to end")
        (item,) = run.items.values()
        assert item.status == "failed"
        assert "connection to vanishing lost" in item.reason
        assert "partial" in str(run.query_one("#run-summary").content)
        await wait_for(pilot, lambda: "unavailable" in str(temperature.content), 30, "the temperature to fail")
        await pilot.press("4")  # still usable: the failure is in the store with its reason
        results = app.get_screen("results")
        await wait_for(pilot, lambda: len(results.rows) == 1, 30, "the results table")
        assert results.rows[0].job.status == "failed" and "lost" in results.rows[0].job.error

        # what the run converted is listed on the Plan screen
        await pilot.press("2")
        converted = app.get_screen("plan").query_one("#converted")
        await wait_for(pilot, lambda: converted.row_count > 0, 30, "the converted artifacts")

    # a read is an ssh command; a newer read cancels an older one (one thermal worker at a time), so the
    # interval leaves each read time to end on a loaded machine
    drive(EdgeBenchApp(settings(tmp_path, plan=plan, thermal_interval=2.0)), steps)


def test_an_unreachable_device_is_reported_and_nothing_runs(tui_home, tmp_path):
    profile = paths.config_dir() / "devices" / "closed-port.toml"
    profile.parent.mkdir(parents=True, exist_ok=True)
    profile.write_text('name = "closed-port"\ntransport = "ssh"\nbackends = ["tflite"]\n[ssh]\nhost = "127.0.0.1"\n'
                       'port = 9\nconnect_timeout = 3\nconfig_file = "none"\n')

    async def steps(app, pilot):
        await pilot.press("ctrl+r")
        run = app.get_screen("run")
        await wait_for(pilot, lambda: not run.running, 60, "the run to give up")
        summary = str(run.query_one("#run-summary").content)
        assert "did not start" in summary and "closed-port" in summary
        assert run.items == {}
        await pilot.press("2")  # the app goes on
        assert app.screen is app.get_screen("plan")

    drive(EdgeBenchApp(settings(tmp_path, plan=RunPlan(**{**PLAN.__dict__, "device": "closed-port"}))), steps)
    assert Store().runs() == []


def test_cancel_stops_the_run_and_the_current_job(tui_home, tmp_path):
    # each tower takes a minute on the scripted device: the first job is in its image tower when x is pressed,
    # and stopping it takes a second (the run is still cancelling when the summary is read)
    script = Script(delay_s=60.0)
    plan = RunPlan(**{**PLAN.__dict__, "precisions": ("fp32", "fp16")})

    async def steps(app, pilot):
        await pilot.press("ctrl+r")
        run = app.get_screen("run")
        await wait_for(pilot, lambda: len(run.items) == 2 and status_text(next(iter(run.items.values()))).startswith(
            "image"), 120, "the first job's image tower")
        await pilot.press("q")  # quitting during a run asks first
        assert type(app.screen).__name__ == "ConfirmScreen"
        await pilot.press("n")
        assert app.screen is run and run.running
        await pilot.press("x")
        assert "cancelling" in str(run.query_one("#run-summary").content)
        await wait_for(pilot, lambda: not run.running, 30, "the run to stop")
        first, second = run.items.values()
        assert first.status == "cancelled" and second.status == "cancelled"  # the tower is stopped mid-job
        assert first.reason == "cancelled during the image tower"
        assert script.calls == [IMAGE]
        assert Store().run(run.run_id).status == "cancelled"
        assert [(j.precision, j.status) for j in Store().jobs(run_id=run.run_id)] == [("fp32", "cancelled")]

    drive(scripted_app(settings(tmp_path, plan=plan), script, SlowToStop), steps)
