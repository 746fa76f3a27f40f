"""The TUI driven with Pilot: real runs on the local device and on a real sshd that vanishes, results, compare, export.

Runs use the built-in untrained student, LiteRT at fp32, 40 synthetic images
and a short protocol; the converter cache is the session's (shared with the
runner's tests), the store and profiles are this test's own.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from edge_bench import paths
from edge_bench.agent.spec import Protocol
from edge_bench.runner.plan import RunPlan
from edge_bench.store import Store
from edge_bench.tui.app import EdgeBenchApp
from edge_bench.tui.settings import TuiSettings
from edge_bench.tui.widgets.job_item import STAGES, JobItem

FAST = Protocol(warmup_min_runs=2, warmup_min_seconds=0.0, min_runs=8, min_seconds=0.0, max_runs=200, max_seconds=5.0)
PLAN = RunPlan(device="local", models=("edgeclip-s-scratch",), backends=("tflite",), precisions=("fp32",),
               n_images=40, gallery_batch=4, protocol=FAST)
SIZE = (120, 36)


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
    return str(item.query_one(".job-status").content)


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
        seen += [(i.status, status_text(i), i.query_one("ProgressBar").progress) for i in run.items.values()]
        await pilot.pause(0.05)
    (item,) = run.items.values()
    return seen, item


def test_run_on_local_then_results_compare_and_export(tui_home, tmp_path):
    async def steps(app, pilot):
        seen, item = await run_plan(pilot, app)
        run = app.get_screen("run")
        # progress was shown while the job ran: its stages, with a partly filled bar
        stages = {text.split()[0] for status, text, _ in seen if status == "running"}
        assert stages & set(STAGES), seen[:20]
        assert any(0 < progress < len(STAGES) for status, _, progress in seen if status == "running")
        assert item.status == "ok", item.reason
        figures = str(item.query_one(".job-figures").content)
        assert "img " in figures and " ms" in figures and "img/s" in figures and "R@1" in figures
        assert item.query_one("ProgressBar").progress == len(STAGES)
        assert "complete" in str(run.query_one("#run-summary").content)
        first_run = run.run_id
        store = Store()
        (row,) = store.jobs(run_id=first_run)
        assert row.status == "ok" and row.backend == "tflite"

        # the screens stay usable while a second run goes on
        await pilot.press("2", "ctrl+r")
        assert run.running
        await pilot.press("4")
        assert app.screen is app.get_screen("results")
        await pilot.press("3")
        await wait_for(pilot, lambda: not run.running, 400, "the second run")
        assert run.run_id != first_run and list(run.items.values())[0].status == "ok"

        await pilot.press("4")
        results = app.get_screen("results")
        await wait_for(pilot, lambda: len(results.rows) == 2, 30, "the results table")
        table = results.query_one("DataTable")
        assert table.row_count == 2
        assert {r.job.run_id for r in results.rows} == {first_run, run.run_id}
        assert all(r.cells[4] == "ok" for r in results.rows)

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

        # what the runs converted is listed on the Plan screen
        await pilot.press("2")
        converted = app.get_screen("plan").query_one("#converted")
        await wait_for(pilot, lambda: converted.row_count > 0, 30, "the converted artifacts")

    drive(EdgeBenchApp(settings(tmp_path)), steps)


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

    drive(EdgeBenchApp(settings(tmp_path, plan=plan, thermal_interval=0.5)), steps)


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
    slow = Protocol(warmup_min_runs=2, warmup_min_seconds=0.0, min_runs=8, min_seconds=60.0, max_runs=10**7, max_seconds=120.0)
    # fp16 is never converted: cancelled first; the slow protocol keeps the first job on the device when x is pressed
    plan = RunPlan(**{**PLAN.__dict__, "precisions": ("fp32", "fp16"), "protocol": slow})

    async def steps(app, pilot):
        await pilot.press("ctrl+r")
        run = app.get_screen("run")
        await wait_for(pilot, lambda: len(run.items) == 2 and next(iter(run.items.values())).status == "running",
                       120, "the first job")
        await pilot.press("q")  # quitting during a run asks first
        assert type(app.screen).__name__ == "ConfirmScreen"
        await pilot.press("n")
        assert app.screen is run and run.running
        await pilot.press("x")
        assert "cancelling" in str(run.query_one("#run-summary").content)
        await wait_for(pilot, lambda: not run.running, 400, "the run to stop")
        first, second = run.items.values()
        assert first.status == "cancelled" and second.status == "cancelled"  # the agent is stopped mid-job
        assert Store().run(run.run_id).status == "cancelled"
        assert [(j.precision, j.status) for j in Store().jobs(run_id=run.run_id)] == [("fp32", "cancelled")]

    drive(EdgeBenchApp(settings(tmp_path, plan=plan)), steps)
