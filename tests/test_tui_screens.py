"""The TUI's screens with Pilot, without runs: devices probed for real, the plan form, results, compare, help."""

from __future__ import annotations

import subprocess
import sys

from edge_bench import paths
from edge_bench.tui.app import EdgeBenchApp
from edge_bench.tui.settings import TuiSettings
from test_tui_app import PLAN, drive, wait_for
from test_tui_fixtures import seed_store


def seeded(tmp_path, **over) -> TuiSettings:
    values = dict(store_path=seed_store(tmp_path / "results.sqlite"), plan=PLAN, auto_probe=False,
                  export_dir=tmp_path / "report")
    values.update(over)
    return TuiSettings(**values)


def test_devices_are_probed_fingerprinted_and_chosen(isolated_home, sshd_server, tmp_path):
    sshd_server.write_profile(paths.config_dir(), "loop", backends=["tflite"])
    closed = paths.config_dir() / "devices" / "closed-port.toml"
    closed.write_text('name = "closed-port"\ntransport = "ssh"\nbackends = ["tflite"]\n[ssh]\nhost = "127.0.0.1"\n'
                      'port = 9\nconnect_timeout = 3\nconfig_file = "none"\n')
    (paths.config_dir() / "devices" / "broken.toml").write_text('name = "broken"\ntransport = "local"\nbackend = []\n')

    async def steps(app, pilot):
        screen = app.get_screen("devices")
        table = screen.query_one("DataTable")
        probed = lambda name: str(table.get_cell(name, "reachable")) not in ("probing…", "")  # noqa: E731  (a one-line local helper reads better as a lambda)
        await wait_for(pilot, lambda: "loop" in screen.profiles and all(
            probed(n) for n in ("local", "loop", "closed-port")), 60, "the probes")
        assert str(table.get_cell("local", "reachable")) == "yes"
        assert str(table.get_cell("loop", "reachable")) == "yes"
        assert str(table.get_cell("loop", "detail")).startswith("python 3.")
        assert str(table.get_cell("closed-port", "reachable")) == "no"
        assert "refused" in str(table.get_cell("closed-port", "detail"))
        # a misspelt key in one profile is shown, the others still work
        assert "backend" in str(screen.query_one("#profile-errors").content)

        table.move_cursor(row=table.get_row_index("loop"))
        await pilot.press("f")
        pane = screen.query_one("#fingerprint")
        await wait_for(pilot, lambda: "reading" not in str(pane.content), 60, "the fingerprint")
        assert type(pane.content).__name__ == "Table", pane.content
        await pilot.press("u")
        plan = app.get_screen("plan")
        assert plan.form.device == "loop"
        await pilot.press("2")
        await wait_for(pilot, lambda: plan.query_one("#device").value == "loop", 30, "the plan's device")

    drive(EdgeBenchApp(TuiSettings(start_screen="devices", probe_timeout=3.0, plan=PLAN)), steps)


def test_plan_form_previews_jobs_and_refuses_bad_numbers(isolated_home, tmp_path):
    async def steps(app, pilot):
        plan = app.get_screen("plan")
        jobs = plan.query_one("#jobs")
        models = plan.query_one("#models")
        await wait_for(pilot, lambda: models.option_count > 5, 120, "the zoo")
        assert models.ticked == ("edgeclip-s-scratch",) and jobs.row_count == 1
        precisions = plan.query_one("#precisions")
        precisions.focus()
        precisions.highlighted = 2  # int8
        await pilot.press("space")
        assert precisions.ticked == ("fp32", "int8") and jobs.row_count == 2
        assert [str(jobs.get_row_at(i)[3]) for i in range(2)] == ["to convert", "to convert"]  # an empty cache

        plan.query_one("#min_runs").value = "many"
        await pilot.press("ctrl+r")
        assert "min_runs must be a whole number" in str(plan.query_one("#plan-error").content)
        assert app.screen is plan and not app.get_screen("run").running

        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        assert app.screen is plan

    drive(EdgeBenchApp(seeded(tmp_path, start_screen="plan")), steps)


def test_results_filter_sort_mark_and_compare(isolated_home, tmp_path):
    async def steps(app, pilot):
        results = app.get_screen("results")
        table = results.query_one("DataTable")
        await wait_for(pilot, lambda: table.row_count == 8, 30, "the stored jobs")

        await pilot.press("slash", *"backend:tflite", "enter")
        assert table.row_count == 5 and table.has_focus
        table.cursor_coordinate = table.cursor_coordinate._replace(column=6)  # img ms
        await pilot.press("s")
        column = [str(table.get_row_at(i)[6]) for i in range(table.row_count)]
        assert column == ["2.00", "3.00", "3.10", "15.00", "-"]
        await pilot.press("s")
        column = [str(table.get_row_at(i)[6]) for i in range(table.row_count)]
        assert column == ["15.00", "3.10", "3.00", "2.00", "-"]

        results.query_one("#filter").value = "device:local fp32 distilled"
        await pilot.pause()
        assert table.row_count == 3  # executorch, tflite and the skipped coreml job
        keys = [r.key for r in results.rows if r.job.device == "local" and r.job.precision == "fp32"
                and r.job.backend in ("executorch", "tflite") and r.job.model == "edgeclip-s-distilled"]
        for key in keys:
            table.move_cursor(row=table.get_row_index(key))
            await pilot.press("space")
        assert results.marked == keys and str(table.get_cell(keys[0], "mark")) == "●"
        assert app.get_screen("export").runs == ("r000000000a",)

        await pilot.press("c")
        compare = app.get_screen("compare")
        assert app.screen is compare
        pairs = compare.query_one("DataTable")
        await wait_for(pilot, lambda: pairs.row_count == 2, 30, "the comparison")
        assert compare.wanted == ("backend", "executorch", "tflite")
        labels = sorted(str(pairs.get_row_at(i)[0]) for i in range(2))
        assert labels == ["edgeclip-s-distilled fp32 synthetic local", "edgeclip-s-distilled fp32 synthetic rpi5"]
        await pilot.press("w")
        assert compare.wanted == ("backend", "tflite", "executorch")

    drive(EdgeBenchApp(seeded(tmp_path, start_screen="results")), steps)


def test_the_cli_command_loads_textual_only_when_run():
    code = ("import sys; from edge_bench.cli import _load_commands; _load_commands(); "
            "print('textual' in sys.modules, 'edge_bench.tui.app' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    bad = subprocess.run([sys.executable, "-m", "edge_bench.cli", "tui", "--screen", "nope"], capture_output=True,
                         text=True)
    assert bad.returncode == 1 and bad.stderr.startswith("edge-bench: error: unknown screen 'nope'")


def test_export_writes_the_report_of_the_marked_runs_and_a_comparison(isolated_home, tmp_path):
    async def steps(app, pilot):
        export = app.get_screen("export")
        device = export.query_one("#export-device")
        await wait_for(pilot, lambda: device.value == "rpi5", 30, "the store's devices")  # newest run first
        device.value = "local"
        export.runs = ("r000000000a",)
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: export.written or export.error, 120, "the report")
        assert export.error is None, export.error
        names = {p.name for p in export.written}
        assert {"report-local.html", "report-local.md", "report-local.json", "report-local.csv"} <= names
        assert all(p.parent == tmp_path / "report" and p.stat().st_size > 0 for p in export.written)
        assert "r000000000a" in (tmp_path / "report" / "report-local.json").read_text()

        export.query_one("#export-against").value = "rpi5"
        await pilot.press("a")  # every run of both devices
        assert export.runs == ()
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: export.written or export.error, 120, "the comparison")
        assert export.error is None, export.error
        assert any(p.name.startswith("compare-local-vs-rpi5") for p in export.written)

    drive(EdgeBenchApp(seeded(tmp_path, start_screen="export")), steps)
