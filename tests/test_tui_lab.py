"""The TUI's lab: several devices ticked on the Plan screen run as one lab run on the Run screen (a row per
device, cancel), and the Devices screen's view of a lab across hosts.

Devices are profiles with the local transport (reached for real); towers are answered by the scripted executor,
as in test_tui_app.py. They are one machine, so the app is told to allow shared hardware, as `--allow-shared-hardware`
does. The Devices screen's lab view is fed Ray's status data here; the slow test shows it against a real two-node
Ray cluster on 127.0.0.1 (each node started and ended by its pid, tests/ray_cluster.py).
"""

from __future__ import annotations

import time

import pytest

from edge_bench import paths
from edge_bench.executors.scripted import Script
from edge_bench.runner.lab_status import LabNode
from edge_bench.runner.plan import RunPlan
from edge_bench.store import Store
from edge_bench.tui.app import EdgeBenchApp
from edge_bench.tui.settings import TuiSettings
from test_tui_app import IMAGE, PLAN, TEXT, SlowToStop, drive, scripted_app, settings, status_text, wait_for
from test_tui_app import tui_home  # noqa: F401, F811  (a fixture: a fresh home sharing the session's caches)

DEVICES = ("bench-a", "bench-b")


def local_profile(name: str) -> None:
    path = paths.config_dir() / "devices" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'name = "{name}"\ntransport = "local"\nthreads = 1\nbackends = ["tflite"]\n')


@pytest.fixture
def benches(tui_home):  # noqa: F811  (the fixture imported above)
    for name in DEVICES:
        local_profile(name)
    return DEVICES


async def tick_devices(pilot, app, first: str, others: tuple[str, ...]) -> None:
    """On the Plan screen: `first` as the plan's device, `others` ticked under "also on", as a user would."""
    await pilot.press("2")
    plan = app.get_screen("plan")
    also = plan.query_one("#also-on")
    offered = lambda: {also.get_option_at_index(i).value for i in range(also.option_count)}  # noqa: E731  (a one-line local helper reads better as a lambda)
    await wait_for(pilot, lambda: {first, *others} <= offered(), 60, "the device profiles")
    plan.choose_device(first)
    also.focus()
    for name in others:
        also.highlighted = next(i for i in range(also.option_count) if also.get_option_at_index(i).value == name)
        await pilot.press("space")
    assert plan.read_form().devices == (first, *others)


def test_plan_ticks_devices_and_the_run_screen_runs_them_as_one_lab_run(benches, tmp_path):
    script = Script(latency_ms={IMAGE: 2.0, TEXT: 0.5}, delay_s=0.4)
    plan = RunPlan(**{**PLAN.__dict__, "precisions": ("fp32", "fp16")})  # tflite fp32 and fp16: two jobs per device

    async def steps(app, pilot):
        await tick_devices(pilot, app, "bench-a", ("bench-b",))
        jobs = app.get_screen("plan").query_one("#jobs")
        assert "a lab run on bench-a, bench-b" in str(jobs.border_subtitle)
        await pilot.press("ctrl+r")
        run = app.get_screen("run")
        assert app.screen is run and run.running and set(run.rows) == set(DEVICES)
        seen = set()
        end = time.monotonic() + 300
        while run.running:
            assert time.monotonic() < end, "the lab run did not end"
            for device, row in run.rows.items():
                if row.query(".device-state"):
                    seen.add((device, str(row.query_one(".device-state").content)))
            await pilot.pause(0.05)
        # live, per device: its jobs done of its total and the job on it now
        for device in DEVICES:
            assert any(d == device and text.startswith("0/2 jobs: edgeclip-s-scratch tflite fp32: ") for d, text in seen), seen
            assert any(d == device and text.startswith("1/2 jobs: edgeclip-s-scratch tflite fp16") for d, text in seen), seen
            row = run.rows[device]
            assert str(row.query_one(".device-state").content) == "2/2 jobs: complete"
            assert row.query_one("ProgressBar").progress == 2 and row.query_one("ProgressBar").total == 2
        assert sorted(item.label for item in run.items.values()) == sorted(
            f"{d}: edgeclip-s-scratch tflite {p}" for d in DEVICES for p in ("fp32", "fp16"))
        assert all(item.status == "ok" for item in run.items.values())
        assert run.query_one("#overall").progress == 4 and run.query_one("#overall").total == 4
        summary = str(run.query_one("#run-summary").content)
        assert summary.startswith(f"lab run {run.run_id} on 2 devices: complete"), summary
        runs = Store().lab_runs(run.run_id)  # one lab run in the store, as `run --device bench-a,bench-b` makes
        assert sorted(r.device for r in runs) == list(DEVICES) and all(r.status == "complete" for r in runs)
        assert all(row.record.lab.concurrent for r in runs for row in Store().jobs(run_id=r.id))

    drive(scripted_app(settings(tmp_path, plan=plan, allow_shared_hardware=True), script), steps)


def test_a_lab_of_one_machine_is_refused_without_the_setting(benches, tmp_path):
    async def steps(app, pilot):
        await tick_devices(pilot, app, "bench-a", ("bench-b",))
        await pilot.press("ctrl+r")
        run = app.get_screen("run")
        await wait_for(pilot, lambda: not run.running, 60, "the refusal")
        summary = str(run.query_one("#run-summary").content)
        assert "the lab run on bench-a, bench-b did not start" in summary and "one machine" in summary, summary

    drive(scripted_app(settings(tmp_path), Script()), steps)
    assert Store().runs() == []


def test_an_unreachable_device_fails_only_its_own_jobs(benches, tmp_path):
    closed = paths.config_dir() / "devices" / "closed-port.toml"
    closed.write_text('name = "closed-port"\ntransport = "ssh"\nbackends = ["tflite"]\n[ssh]\nhost = "127.0.0.1"\n'
                      'port = 9\nconnect_timeout = 3\nconfig_file = "none"\n')

    async def steps(app, pilot):
        await tick_devices(pilot, app, "bench-a", ("closed-port",))
        await pilot.press("ctrl+r")
        run = app.get_screen("run")
        await wait_for(pilot, lambda: not run.running, 120, "the lab run")
        lost = str(run.rows["closed-port"].query_one(".device-state").content)
        assert lost.startswith("1/1 jobs, 1 failed: failed: ") and "refused" in lost, lost  # why, on its row
        assert run.lab.devices["closed-port"].reason.startswith("device closed-port failed: ")
        assert run.rows["closed-port"].has_class("-failed") and not run.rows["bench-a"].has_class("-failed")
        assert str(run.rows["bench-a"].query_one(".device-state").content) == "1/1 jobs: complete"
        statuses = {key[0]: item.status for key, item in run.items.items()}
        assert statuses == {"bench-a": "ok", "closed-port": "failed"}
        assert "partial" in str(run.query_one("#run-summary").content)

    drive(scripted_app(settings(tmp_path), Script()), steps)


def test_cancel_stops_every_device_of_the_lab_run(benches, tmp_path):
    script = Script(delay_s=60.0)

    async def steps(app, pilot):
        await tick_devices(pilot, app, "bench-a", ("bench-b",))
        await pilot.press("ctrl+r")
        run = app.get_screen("run")
        await wait_for(pilot, lambda: len(run.items) == 2 and all(
            status_text(i).startswith("image") for i in run.items.values()), 120, "both devices' image towers")
        await pilot.press("x")
        await wait_for(pilot, lambda: not run.running, 60, "the lab run to stop")
        assert all(item.status == "cancelled" for item in run.items.values())
        assert {d: str(r.query_one(".device-state").content) for d, r in run.rows.items()} == {
            d: "1/1 jobs: cancelled" for d in DEVICES}
        runs = Store().lab_runs(run.run_id)
        assert sorted(r.status for r in runs) == ["cancelled", "cancelled"]
        assert sorted(script.calls) == [IMAGE, IMAGE]  # each device stopped in its first tower; no text tower ran

    drive(scripted_app(settings(tmp_path, allow_shared_hardware=True), script, SlowToStop), steps)


NODES = [LabNode("a1b2c3d4e5f60000", "10.0.0.5", "pi-host", True, ("rpi4", "rpi5"), ("rpi5",)),
         LabNode("0f1e2d3c4b5a0000", "10.0.0.2", "head", True, ("local",)),
         LabNode("99aa88bb77cc0000", "10.0.0.9", "phones", False, ("pixel-8",))]


def test_devices_screen_shows_the_labs_nodes_devices_and_busy(isolated_home, tmp_path):
    async def steps(app, pilot):
        screen = app.get_screen("devices")
        lab = screen.query_one("#lab-nodes")
        assert lab.display and lab.border_title == "Lab at 127.0.0.1:9"
        # nothing listens there: the lab's read fails in one line, the profiles are still shown
        await wait_for(pilot, lambda: "no Ray cluster answers at 127.0.0.1:9" in str(lab.border_subtitle), 60,
                       "the lab's read")
        # the profiles come from their own worker, which may finish after the lab's read
        await wait_for(pilot, lambda: screen.query_one("#profiles").row_count >= 6, 60, "the profiles")
        screen.show_lab(NODES)
        assert [[str(c) for c in lab.get_row_at(i)] for i in range(3)] == [
            ["a1b2c3d4e5f6", "10.0.0.5 (pi-host)", "yes", "rpi4, rpi5", "rpi5"],
            ["0f1e2d3c4b5a", "10.0.0.2 (head)", "yes", "local", "-"],
            ["99aa88bb77cc", "10.0.0.9 (phones)", "no (lost)", "pixel-8", "-"]]
        assert lab.border_subtitle == "2 node(s) alive, 3 device(s), 1 busy"

    drive(EdgeBenchApp(TuiSettings(start_screen="devices", auto_probe=False, plan=PLAN, lab_address="127.0.0.1:9")),
          steps)


def test_without_a_lab_address_there_is_no_lab_table(isolated_home):
    async def steps(app, pilot):
        await pilot.pause()
        assert not app.get_screen("devices").query_one("#lab-nodes").display

    drive(EdgeBenchApp(TuiSettings(start_screen="devices", auto_probe=False, plan=PLAN)), steps)


def test_the_tui_command_takes_a_lab_address(capsys):
    from edge_bench.cli import main

    assert main(["tui", "--lab", "nohost"]) == 1  # before Textual starts, as an unknown --screen
    assert "--lab takes HEAD:PORT, got 'nohost'" in capsys.readouterr().err


@pytest.mark.slow
def test_devices_screen_shows_a_real_two_node_lab(tmp_path, isolated_home):
    import ray
    from ray_cluster import free_port, start_node, wait_devices

    from edge_bench.runner.ray_lab import connect, resource_name

    class Holder:  # defined here, so Ray ships it by value (the workers cannot import this test module)
        """An actor that holds a device's resource, as a lab run's device actor does."""

        def ready(self) -> bool:
            return True

    address = f"127.0.0.1:{free_port()}"
    node_b_home = tmp_path / "node-b"
    (node_b_home / "config" / "devices").mkdir(parents=True)
    (node_b_home / "config" / "devices" / "bench-b.toml").write_text(
        'name = "bench-b"\ntransport = "local"\nthreads = 1\nbackends = ["tflite"]\n')
    nodes = [start_node(tmp_path / "head", address, ("local",), head=True)]
    try:
        nodes.append(start_node(node_b_home, address, ("bench-b",)))

        async def steps(app, pilot):
            screen = app.get_screen("devices")
            lab = screen.query_one("#lab-nodes")
            await wait_for(pilot, lambda: lab.row_count == 2, 120, "the lab's two nodes")
            rows = sorted([str(c) for c in lab.get_row_at(i)] for i in range(2))
            assert sorted(r[3] for r in rows) == ["bench-b", "local"] and all(r[2] == "yes" for r in rows), rows
            assert all(r[4] == "-" for r in rows) and lab.border_subtitle == "2 node(s) alive, 2 device(s), 0 busy"
            assert not ray.is_initialized()  # the screen joined the lab to read it, and left again

            # a run's actor holds bench-b: after a re-read, the screen shows it busy
            connect(address)
            wait_devices(ray, {"local", "bench-b"})
            holder = ray.remote(num_cpus=0, resources={resource_name("bench-b"): 1})(Holder).remote()
            ray.get(holder.ready.remote(), timeout=60)
            await pilot.press("r")
            await wait_for(pilot, lambda: "1 busy" in str(lab.border_subtitle), 60, "bench-b busy")
            busy = {str(lab.get_row_at(i)[3]): str(lab.get_row_at(i)[4]) for i in range(2)}
            assert busy == {"bench-b": "bench-b", "local": "-"}
            ray.kill(holder)

        drive(EdgeBenchApp(TuiSettings(start_screen="devices", auto_probe=False, plan=PLAN, lab_address=address)),
              steps)
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for node in reversed(nodes):
            node.stop()
