"""The TUI's profile view of a job (#14): p on a profiled job shows its roll-up by block and a stacked bar, with Pilot."""

from __future__ import annotations

import json
from dataclasses import replace

from edge_bench.profile.blocks import roll_up
from edge_bench.profile.model import OpRow, TowerProfile
from edge_bench.store import Store
from edge_bench.tui.app import EdgeBenchApp
from edge_bench.tui.profile_model import stacked_bar
from test_tui_app import drive, wait_for
from test_tui_screens import seeded

ROWS = (OpRow("Fully Connected", "delegate", "attention", median_ms=0.30), OpRow("Fully Connected", "delegate", "mlp", median_ms=0.45),
        OpRow("native_layer_norm", "portable", "norms", median_ms=0.15))
PROFILE = TowerProfile(source="etdump", runs=20, ops=ROWS, blocks=roll_up(list(ROWS), 1.0, runtime_overhead_ms=0.1),
                       op_total_ms=0.9, execute_ms=1.0, timed_median_ms=1.0, outside_delegate_ms=0.25)


def _profile_one_job(path) -> str:
    """Give the first executorch job of the seeded store an image-tower profile; its job id."""
    store = Store(path)
    job = next(j for j in store.jobs() if j.backend == "executorch" and j.status == "ok")
    record = job.record
    towers = {**record.towers, "image": replace(record.towers["image"], profile=PROFILE)}
    with store.db:
        store.db.execute("UPDATE jobs SET record_json = ? WHERE id = ?", (json.dumps(replace(record, towers=towers).to_json()), job.id))
    store.close()
    return job.id


def test_stacked_bar_is_proportional():
    bar = stacked_bar(PROFILE, width=20)
    assert len(bar) == 20 and bar == "A" * 6 + "M" * 9 + "N" * 3 + "O" * 2


def test_p_opens_the_profile_view_of_a_profiled_job(isolated_home, tmp_path):
    settings = seeded(tmp_path, start_screen="results")
    job_id = _profile_one_job(settings.store_path)

    async def steps(app, pilot):
        results = app.get_screen("results")
        table = results.query_one("DataTable")
        await wait_for(pilot, lambda: table.row_count == 8, 30, "the stored jobs")
        other = next(r.key for r in results.rows if r.job.id != job_id)
        table.move_cursor(row=table.get_row_index(other))
        await pilot.press("p")
        assert app.screen is results  # no profile stored: a warning, no view
        key = next(r.key for r in results.rows if r.job.id == job_id)
        table.move_cursor(row=table.get_row_index(key))
        await pilot.press("p")
        from edge_bench.tui.screens.profile import ProfileScreen

        assert isinstance(app.screen, ProfileScreen)
        blocks = app.screen.query_one("#profile-blocks")
        assert [str(blocks.get_row_at(i)[0]) for i in range(blocks.row_count)] == ["attention", "mlp", "norms", "runtime overhead"]
        assert [str(c) for c in blocks.get_row_at(1)] == ["mlp", "0.450", "45.0%"]
        assert "coverage 90%" in str(app.screen.query_one("#profile-summary").content)
        assert "AAAA" in str(app.screen.query_one("#profile-bars").content)
        await pilot.press("escape")
        assert app.screen is results

    drive(EdgeBenchApp(settings), steps)
