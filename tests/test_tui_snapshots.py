"""Snapshots of the TUI's main screens (pytest-textual-snapshot), over fixed data in an isolated home.

Update after a deliberate change with `pytest tests/test_tui_snapshots.py --snapshot-update`,
then look at the SVGs in tests/__snapshots__/test_tui_snapshots/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.widgets import DataTable, Input

from edge_bench.runner.events import DeviceFailed, JobFinished, JobStage, JobStarted, LabStarted, RunFinished, RunStarted
from edge_bench.runner.plan import PlannedJob
from edge_bench.tui.app import EdgeBenchApp
from edge_bench.tui.settings import TuiSettings
from test_tui_app import PLAN, SIZE, wait_for
from test_tui_fixtures import seed_store


@pytest.fixture
def app_for(isolated_home, tmp_path):
    """An app on fixed data: the seeded store, shipped profiles only, no probing, a fixed export folder."""

    def make(screen: str) -> EdgeBenchApp:
        app = EdgeBenchApp(TuiSettings(store_path=seed_store(tmp_path / "results.sqlite"), plan=PLAN,
                                       start_screen=screen, auto_probe=False,
                                       export_dir=Path("reports/edge-bench"), thermal_interval=0))
        app.animation_level = "none"  # progress bars jump to their value: no frame of an animation in the picture
        return app
    return make


async def still(pilot) -> None:
    """No blinking cursor in the picture, and every table's columns as wide as their cells (set when idle)."""
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    tables = list(pilot.app.screen.query(DataTable))
    await wait_for(pilot, lambda: all(settled(t) for t in tables), 30, "the tables' column widths")


def settled(table: DataTable) -> bool:
    """Each column has been widened to its widest cell."""
    return all(column.content_width >= max((cell_len(str(c)) for c in table.get_column(key)), default=0)
               for key, column in table.columns.items())


READY = {
    "devices": lambda screen: screen.query_one("DataTable").row_count >= 6,
    "plan": lambda screen: screen.query_one("#models").option_count > 5,  # the zoo has loaded
    "results": lambda screen: screen.query_one("DataTable").row_count == 8,
    "export": lambda screen: isinstance(screen.query_one("#export-device").value, str),
}


def ready(screen: str, *press: str):
    """A run_before: wait for the screen's data, still the picture, then press keys."""
    async def run_before(pilot) -> None:
        await wait_for(pilot, lambda: READY[screen](pilot.app.screen), 120, f"the {screen} screen's data")
        await still(pilot)
        await pilot.press(*press)
    return run_before


@pytest.mark.parametrize("screen", list(READY))
def test_screen(screen, app_for, snap_compare):
    assert snap_compare(app_for(screen), terminal_size=SIZE, run_before=ready(screen))


def test_help_over_results(app_for, snap_compare):
    assert snap_compare(app_for("results"), terminal_size=SIZE, run_before=ready("results", "question_mark"))


def test_run_screen(app_for, snap_compare):
    jobs = (PlannedJob("edgeclip-s-distilled", "tflite", "fp32", "k1"),
            PlannedJob("edgeclip-s-distilled", "tflite", "int8", "k2"),
            PlannedJob("edgeclip-s-distilled", "coreml", "fp32", "k3", skip="Core ML runs only on macOS/iOS"),
            PlannedJob("edgeclip-s-scratch", "executorch", "fp32", "k4"))
    events = [
        RunStarted("r00000000ff", "local", jobs),
        JobStarted("r00000000ff", jobs[0], 0, 4), JobStage("r00000000ff", jobs[0], "convert", "tflite fp32"),
        JobStage("r00000000ff", jobs[0], "image", "on the device"),
        JobFinished("r00000000ff", jobs[0], "ok", summary={"image_ms": 3.04, "text_ms": 0.81, "image_per_s": 381.0,
                                                          "t2i_r1": 0.42, "i2t_r1": 0.45}),
        JobStarted("r00000000ff", jobs[1], 1, 4), JobStage("r00000000ff", jobs[1], "push", "agent, artifacts, inputs"),
        JobFinished("r00000000ff", jobs[1], "failed", reason="connection to local lost: the connection dropped"),
        JobFinished("r00000000ff", jobs[2], "skipped", reason=jobs[2].skip),
        JobStarted("r00000000ff", jobs[3], 3, 4), JobStage("r00000000ff", jobs[3], "text", "on the device"),
    ]

    async def feed(pilot):
        screen = pilot.app.screen
        screen.plan = PLAN
        for event in events:
            ok = isinstance(event, JobFinished) and event.status == "ok"
            await screen.apply(event, {"temps": (41.0, 43.5)} if ok else None)
            await pilot.pause()  # laid out before the next event, as in a real run (bars round to their width)
        await still(pilot)
    assert snap_compare(app_for("run"), terminal_size=SIZE, run_before=feed)


def test_compare_screen(app_for, snap_compare):
    async def compared(pilot):
        screen = pilot.app.screen
        screen.request("backend", "executorch", "tflite")
        await wait_for(pilot, lambda: screen.query_one("DataTable").row_count == 2, 30, "the pairs")
        await still(pilot)
    assert snap_compare(app_for("compare"), terminal_size=SIZE, run_before=compared)


class TestLab:
    """A lab run on the Run screen (a row per device) and a lab's nodes on the Devices screen."""

    def test_lab_run_screen(self, app_for, snap_compare):
        a = (PlannedJob("edgeclip-s-distilled", "tflite", "fp32", "a1"), PlannedJob("edgeclip-s-scratch", "tflite", "fp32", "a2"))
        b = (PlannedJob("edgeclip-s-distilled", "tflite", "fp32", "b1"), PlannedJob("edgeclip-s-scratch", "tflite", "fp32", "b2"))
        ok = {"image_ms": 3.04, "text_ms": 0.81, "image_per_s": 381.0, "t2i_r1": 0.42, "i2t_r1": 0.45}
        events = [
            LabStarted("L00000000ab", ("local", "rpi5", "pixel-8")),
            RunStarted("r0000000001", "local", a), RunStarted("r0000000002", "rpi5", b),
            JobStarted("r0000000001", a[0], 0, 2), JobStarted("r0000000002", b[0], 0, 2),
            JobStage("r0000000001", a[0], "image", "on the device"),
            JobFinished("r0000000002", b[0], "ok", summary=ok),
            JobStarted("r0000000002", b[1], 1, 2), JobStage("r0000000002", b[1], "push", "agent, artifacts, inputs"),
            DeviceFailed("r0000000003", "pixel-8", "device pixel-8 failed: adb: no device with serial 1A2B"),
            JobFinished("r0000000003", a[0], "failed", reason="device pixel-8 failed: adb: no device with serial 1A2B"),
            JobFinished("r0000000003", a[1], "failed", reason="device pixel-8 failed: adb: no device with serial 1A2B"),
            RunFinished("r0000000003", "failed", {"failed": 2}),
        ]

        async def feed(pilot):
            screen = pilot.app.screen
            screen.plan = PLAN
            screen.show_devices(("local", "rpi5", "pixel-8"))
            await pilot.pause()
            for event in events:
                ok = isinstance(event, JobFinished) and event.status == "ok"
                await screen.apply(event, {"temps": (41.0, 43.5)} if ok else None)
                await pilot.pause()
            pilot.app.clear_notifications()  # the device's failure toast times out: not in the picture
            await still(pilot)
        assert snap_compare(app_for("run"), terminal_size=SIZE, run_before=feed)

    def test_devices_screen_with_a_lab(self, app_for, snap_compare):
        from test_tui_lab import NODES

        app = app_for("devices")
        app.settings.lab_address = "127.0.0.1:9"

        async def fed(pilot):
            screen = pilot.app.screen
            lab = screen.query_one("#lab-nodes")
            await wait_for(pilot, lambda: "no Ray cluster" in str(lab.border_subtitle), 60, "the lab's read to fail")
            await wait_for(pilot, lambda: READY["devices"](screen), 60, "the profiles")
            screen.show_lab(NODES)
            await still(pilot)
        assert snap_compare(app, terminal_size=SIZE, run_before=fed)
