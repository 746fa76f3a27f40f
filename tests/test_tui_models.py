"""The TUI's data logic without Textual: results table rows, filter and sort; comparisons; the plan form; zones."""

from __future__ import annotations

import math

import pytest

from edge_bench.agent.spec import Protocol
from edge_bench.runner.plan import RunPlan
from edge_bench.records.compare import compare_latency
from edge_bench.errors import ConfigError
from edge_bench.store import Store
from edge_bench.tui import compare_model as C
from edge_bench.tui import results_model as M
from edge_bench.tui.plan_form import PlanForm
from edge_bench.devices import read_profile
from edge_bench.tui.thermal import parse_zones, read_temperatures
from test_tui_fixtures import OK_JOBS, seed_store


@pytest.fixture
def stored(tmp_path):
    store = Store(seed_store(tmp_path / "results.sqlite"))
    jobs, runs = store.jobs(), {r.id: r for r in store.runs()}
    store.close()
    return jobs, runs


def col(key: str) -> int:
    return M.COLUMN_KEYS.index(key)


def test_rows_show_the_records_figures(stored):
    jobs, runs = stored
    rows = {(r.job.run_id, r.job.backend, r.job.precision, r.job.model): r for r in M.build_rows(jobs, runs)}
    row = rows[("r000000000a", "tflite", "fp32", "edgeclip-s-distilled")]
    # the fixture's samples are symmetric around 3.0 ms, so the median is exactly 3.0 ms
    assert row.cells[col("img_ms")] == "3.00" and row.cells[col("img_s")] == "380"
    assert row.cells[col("t2i")] == "42.0" and row.cells[col("mib")] == "64.5"
    assert row.cells[col("created")] == "2026-11-20 10:00"
    untrained = rows[("r000000000a", "tflite", "fp32", "edgeclip-s-scratch")]
    assert untrained.cells[col("t2i")] == "5.0*"  # untrained weights are starred
    failed = rows[("r000000000b", "tflite", "int8", "edgeclip-s-distilled")]
    assert failed.cells[col("img_ms")] == "-" and "connection to rpi5 lost" in failed.cells[col("reason")]
    assert any("failed in connection" in line for line in M.detail_lines(failed.job))


def test_filter_words_and_columns(stored):
    rows = M.build_rows(*stored)
    assert len(M.view(rows, "", None, False)) == len(rows) == 8
    assert {r.job.backend for r in M.view(rows, "backend:tflite", None, False)} == {"tflite"}
    assert len(M.view(rows, "backend:tflite device:rpi5", None, False)) == 2
    assert [r.job.status for r in M.view(rows, "status:failed", None, False)] == ["failed"]
    assert len(M.view(rows, "SCRATCH", None, False)) == 1  # words match any column, case-insensitively
    assert M.view(rows, "device:pixel", None, False) == []
    # an unknown column prefix is an ordinary word
    assert M.view(rows, "nosuch:thing", None, False) == []


def test_sort_numbers_with_missing_values_last(stored):
    rows = M.build_rows(*stored)
    up = [r.sort_values[col("img_ms")] for r in M.sort_rows(rows, col("img_ms"))]
    down = [r.sort_values[col("img_ms")] for r in M.sort_rows(rows, col("img_ms"), reverse=True)]
    measured = sorted(f[4] for f in OK_JOBS)
    assert [round(v, 6) for v in up[:6]] == measured and up[6:] == [None, None]
    assert [round(v, 6) for v in down[:6]] == measured[::-1] and down[6:] == [None, None]
    by_model = [r.job.model for r in M.sort_rows(rows, col("model"))]
    assert by_model == sorted(by_model)


def test_pairs_along_backends_and_runs(stored):
    jobs, _ = stored
    assert C.axis_values(jobs, "backend") == ["executorch", "tflite"]  # coreml was skipped: no ok job
    by_backend = C.pairs(jobs, "backend", "executorch", "tflite")
    # the key is the selection identity (model, backend, precision, dataset, device) without the axis
    assert sorted(p.key for p in by_backend) == [("edgeclip-s-distilled", "fp32", "synthetic", "local"),
                                                ("edgeclip-s-distilled", "fp32", "synthetic", "rpi5")]
    by_run = C.pairs(jobs, "run", "r000000000a", "r000000000b")
    # the runs share distilled executorch/tflite fp32; the int8 job failed on rpi5, scratch ran on local only
    assert sorted(p.label for p in by_run) == ["edgeclip-s-distilled executorch fp32 synthetic",
                                              "edgeclip-s-distilled tflite fp32 synthetic"]


def test_pair_cells_carry_the_ratio_its_interval_and_verdict(stored):
    jobs, _ = stored
    pair = next(p for p in C.pairs(jobs, "run", "r000000000a", "r000000000b") if p.a.backend == "tflite")
    cells = dict(zip(C.COMPARE_COLUMNS, C.pair_cells(pair)))
    image = compare_latency(pair.a.record.tower("image"), pair.b.record.tower("image"))
    # no repeats: a bootstrap of each side's samples; 15 ms against 3 ms with 2% spread is clearly slower
    assert image.method == "bootstrap" and math.isclose(image.ratio, 5.0) and image.low > 1
    assert cells["img B/A"] == f"{image.ratio:.2f} [{image.low:.2f}, {image.high:.2f}] slower" == image.cell()
    assert cells["img ms A"] == "3.00" and cells["img ms B"] == "15.00"
    assert cells["img/s B/A"] == f"{75 / 380:.2f}"


def test_scatter_points_mark_untrained(stored):
    jobs, _ = stored
    points = C.scatter_points(jobs, "device", "local", "rpi5")
    assert len(points) == 6
    scratch = [p for p in points if "scratch" in p.label]
    assert len(scratch) == 1 and scratch[0].untrained and scratch[0].side == "A"
    assert math.isclose(scratch[0].recall_pct, 5.0) and scratch[0].images_per_s == 410.0
    assert all(not p.untrained for p in points if "distilled" in p.label)
    assert C.scatter_points(jobs, "device", "local", None) == [p for p in points if p.side == "A"]


def test_choose_axis(stored):
    jobs, _ = stored
    by = {(j.run_id, j.backend, j.precision, j.model): j for j in jobs}
    ex, tf = by[("r000000000a", "executorch", "fp32", "edgeclip-s-distilled")], by[("r000000000a", "tflite", "fp32",
                                                                                     "edgeclip-s-distilled")]
    assert C.choose_axis(ex, tf) == ("backend", "executorch", "tflite")
    remote = by[("r000000000b", "tflite", "fp32", "edgeclip-s-distilled")]
    assert C.choose_axis(tf, remote) == ("device", "local", "rpi5")
    scratch = by[("r000000000a", "tflite", "fp32", "edgeclip-s-scratch")]
    assert C.choose_axis(tf, scratch) == ("model", "edgeclip-s-distilled", "edgeclip-s-scratch")
    assert C.choose_axis(ex, remote) == ("run", "r000000000a", "r000000000b")  # two fields differ


def test_plan_form_round_trip_and_errors():
    plan = RunPlan(device="rpi5", models=("edgeclip-s-scratch",), backends=("tflite",), precisions=("fp32", "int8"),
                   n_images=40, gallery_batch=4, threads=2,
                   protocol=Protocol(warmup_min_runs=0, warmup_min_seconds=0.0, min_runs=8, min_seconds=0.5,
                                     max_runs=200, max_seconds=5.0))
    form = PlanForm.from_plan(plan)
    assert form.n_images == "40" and form.protocol["min_seconds"] == "0.5"
    assert form.to_plan() == plan
    form.protocol["min_runs"] = "many"
    with pytest.raises(ConfigError, match="min_runs must be a whole number"):
        form.to_plan()
    form.protocol["min_runs"] = "500"
    with pytest.raises(ConfigError, match="exceed the caps"):
        form.to_plan()
    form.protocol["min_runs"] = "8"
    for field, text, message in (("gallery_batch", "0", "gallery_batch must be more than zero"),
                                 ("n_images", "-3", "n_images must be more than zero"),
                                 ("threads", "2.5", "threads must be a whole number")):
        bad = PlanForm.from_plan(plan)
        setattr(bad, field, text)
        with pytest.raises(ConfigError, match=message):
            bad.to_plan()
    with pytest.raises(ConfigError, match="needs a data folder"):
        PlanForm(models=("m",), precisions=("fp32",), dataset="flickr30k").to_plan()
    with pytest.raises(ConfigError, match="no model"):
        PlanForm(precisions=("fp32",)).to_plan()


def test_parse_zones():
    zones = ["/sys/class/thermal/thermal_zone0/temp", "/sys/class/thermal/thermal_zone1/temp", "/x/temp"]
    assert parse_zones(zones, "45123\n-\n61.5\n") == {zones[0]: 45.123, zones[2]: 61.5}


def test_read_temperatures_through_the_local_transport(tmp_path):
    zones = [tmp_path / "zone0" / "temp", tmp_path / "zone1" / "temp", tmp_path / "missing" / "temp"]
    for path, value in zip(zones, ("45500", "61.5")):
        path.parent.mkdir()
        path.write_text(value + "\n")
    toml = tmp_path / "hot.toml"
    toml.write_text('transport = "local"\nthermal_zones = [' + ", ".join(f'"{z}"' for z in zones) + "]\n")
    assert read_temperatures(read_profile(toml)) == {str(zones[0]): 45.5, str(zones[1]): 61.5}
    toml.write_text('transport = "local"\n')
    assert read_temperatures(read_profile(toml)) == {}
