"""Report parts without a benchmark run: the Pareto front against a naive reference, the job selection rule,
Markdown tables, strict JSON, the exporter registry, and reports of an empty store."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest

from edge_bench.errors import ConfigError
from edge_bench.report import analysis, fmt
from edge_bench.report.build import choose_jobs
from edge_bench.report.document import Table
from edge_bench.report.exporters import exporter_names, get_exporter
from edge_bench.report.json_export import strict
from edge_bench.report.md_export import table_markdown
from edge_bench.report.model import NO_TOWER, JobEntry, TowerFigures
from edge_bench.store import JobRow


def tower(images_per_s: float | None, latency_samples_ms: tuple[float, ...] = ()) -> TowerFigures:
    return TowerFigures({**NO_TOWER.values, "throughput_items_per_s": images_per_s}, latency_samples_ms=latency_samples_ms)


def entry(name: str, images_per_s: float | None, r1: float | None, **kw) -> JobEntry:
    values = dict(job_id=name, run_id="r", finished=None, model=name, backend="tflite", precision="fp32", dataset="synthetic",
                  n_images=10, n_captions=50, threads=1, towers={"image": tower(images_per_s)},
                  recall={} if r1 is None else {"image_retrieval_recall@1": r1}, reference_recall={}, recall_label="trained",
                  recall_source="device embeddings", fidelity={}, verdict="not checked", verdict_message=None, provenance={})
    values.update(kw)
    return JobEntry(**values)


def naive_front(points: list[tuple[str, float, float]]) -> set[str]:
    """By definition: a point is on the front unless another is at least as good on both axes and better on one."""
    return {n for n, x, y in points
            if not any((x2 >= x and y2 >= y) and (x2, y2) != (x, y) for _, x2, y2 in points)}


@pytest.mark.parametrize("seed", range(20))
def test_pareto_front_matches_the_definition(seed):
    rng = random.Random(seed)
    points = [(f"m{i}", rng.choice([10.0, 20.0, 30.0, rng.uniform(1, 50)]), rng.choice([0.1, 0.5, rng.random()]))
              for i in range(rng.randint(1, 12))]
    entries = [entry(n, x, y) for n, x, y in points] + [entry("no-recall", 99.0, None), entry("no-speed", None, 0.99)]
    front = analysis.pareto_front(entries, "image_retrieval_recall@1")
    assert {e.model for e in front} == naive_front(points)
    assert [analysis.throughput(e) for e in front] == sorted(analysis.throughput(e) for e in front)


def test_hand_computed_front():
    entries = [entry("slow-good", 10, 0.9), entry("fast-bad", 100, 0.2), entry("dominated", 50, 0.1), entry("middle", 50, 0.5)]
    assert [e.model for e in analysis.pareto_front(entries, "image_retrieval_recall@1")] == ["slow-good", "middle", "fast-bad"]


def _row(i: int, model: str, status: str) -> JobRow:
    return JobRow(f"j{i}", "r1", "k", model, "tflite", "fp32", "local", "synthetic", status, None, None, None, {})


def test_newest_ok_job_wins_and_later_failures_are_listed():
    rows = [_row(1, "a", "ok"), _row(2, "a", "ok"), _row(3, "b", "failed"), _row(4, "b", "ok"), _row(5, "c", "ok"),
            _row(6, "c", "failed"), _row(7, "d", "skipped"), _row(8, "d", "failed")]
    ok, bad = choose_jobs(rows)
    assert [r.id for r in ok] == ["j2", "j4", "j5"]
    assert [r.id for r in bad] == ["j6", "j8"]


def test_teacher_is_found_by_name_or_option():
    entries = [entry("edgeclip-teacher", 1, 0.5), entry("my-teacher-v2", 1, 0.5), entry("student", 4, 0.4)]
    assert analysis.find_teacher(entries, None)[0] == "edgeclip-teacher"
    assert analysis.find_teacher(entries[1:], None)[0] == "my-teacher-v2"
    assert analysis.find_teacher(entries[2:], None)[0] is None
    assert analysis.find_teacher(entries, "student")[0] == "student"
    with pytest.raises(ConfigError):
        analysis.find_teacher(entries, "ghost")


def test_markdown_table_is_aligned_and_escapes_pipes():
    table = Table(("job", "ms", "note"), (("a|b", "1.5", "x"), ("longer name", "12.25", "")), align="lrl", title="T", caption="c")
    text = table_markdown(table)
    lines = [line for line in text.splitlines() if line.startswith("|")]
    assert len({len(line) for line in lines}) == 1
    assert "a\\|b" in text and lines[1].split("|")[2].endswith(":")
    assert text.startswith("**T**") and text.endswith("c")


def test_numbers_are_short_and_missing_values_are_dashes():
    assert [fmt.num(v) for v in (0.6512, 4.861, 12.34, 1234.5, None, float("nan"))] == ["0.651", "4.86", "12.3", "1234", "-", "-"]
    assert (fmt.pct(0.0166), fmt.points(-0.031), fmt.times(2.5), fmt.mib(3 * 2**20)) == ("1.7", "-3.1", "2.50x", "3.0")


def test_json_is_strict():
    data = strict({"a": float("nan"), "b": [1.0, float("inf")], "c": (1, 2), 3: "x"})
    assert json.dumps(data, allow_nan=False) == '{"a": null, "b": [1.0, null], "c": [1, 2], "3": "x"}'


def test_registry_lists_every_format_and_rejects_others():
    assert exporter_names() == ["html", "md", "json", "csv", "png"]
    assert {get_exporter(n).suffix for n in exporter_names()} == {".html", ".md", ".json", ".csv", ".png"}
    with pytest.raises(ConfigError, match="unknown report format 'pdf'"):
        get_exporter("pdf")


def test_a_device_with_no_runs_gets_a_report_that_says_so(isolated_home, tmp_path):
    from edge_bench.report import write_report
    from edge_bench.store import Store

    paths = write_report(Store(), "local", exporter_names(), tmp_path)
    assert [p.name for p in paths] == ["report-local.html", "report-local.md", "report-local.json", "report-local.csv",
                                       "report-local-no-plots.png"]
    for path in paths[:4]:
        assert "no benchmark jobs for local" in path.read_text()
    assert paths[4].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(paths[2].read_text())["status"] == "empty"
    with pytest.raises(ConfigError, match="unknown device 'nowhere'"):
        write_report(Store(), "nowhere", ["html"], tmp_path)
    compared = json.loads(write_report(Store(), "local", ["json"], tmp_path, compare="rpi5")[0].read_text())
    assert compared["status"] == "nothing-shared" and "share no successful job" in compared["message"]


def test_out_must_be_a_folder(isolated_home, tmp_path):
    from edge_bench.report import write_report
    from edge_bench.store import Store

    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        write_report(Store(), "local", ["md"], tmp_path / "file")


def test_units_in_every_csv_and_tower_field_name():
    from edge_bench.report.schema import TOWER_COLUMNS

    unitless = {"latency_n", "outliers", "repeats", "repeat_median_spread", "gallery_batch", "flops", "peak_share",
                "ceiling_share", "ceiling_error", "runtime"}  # counts, shares and a flag
    for name in TOWER_COLUMNS:
        assert name in unitless or name.endswith(("_ms", "_bytes", "_per_s")), name


def _plot_report(spread: float):
    """Three entries whose throughputs and latency samples span `spread` (both towers timed)."""
    from edge_bench.report.model import DeviceReport

    step = spread ** 0.5
    entries = []
    for i in range(3):
        samples = tuple(0.5 * step ** i * (1 + k / 10) for k in range(9))
        both = tower(3.0 * step ** i, samples)
        entries.append(replace(entry(f"m{i}", 3.0 * step ** i, 0.2 + 0.2 * i), towers={"image": both, "text": both}))
    return DeviceReport("dev", "", None, "", {}, "", [], entries, [], pareto_front=[e.job_id for e in entries])


def _drawn_figures(monkeypatch) -> list:
    """Keep every matplotlib Figure the plot functions render (they expose only PNG bytes)."""
    from edge_bench.report import plots

    figures, render = [], plots._png
    monkeypatch.setattr(plots, "_png", lambda fig: figures.append(fig) or render(fig))
    return figures


def _x_axes(figure) -> dict[str, str]:
    return {ax.get_xlabel(): ax.get_xscale() for ax in figure.axes}


def test_plots_span_decades_on_a_log_axis(monkeypatch):
    from edge_bench.report.plots import latency_plot, pareto_plot

    figures = _drawn_figures(monkeypatch)
    report = _plot_report(100.0)  # throughput 3 .. 300 images/s; latency 0.5 .. 90 ms
    for plot in (pareto_plot(report), latency_plot(report)):
        assert plot.png[:8] == b"\x89PNG\r\n\x1a\n" and len(plot.png) > 5000
    pareto, latency = figures
    assert _x_axes(pareto) == {"gallery throughput (images/s, higher is better)": "log"}
    assert _x_axes(latency) == {"image tower, batch 1 (ms)": "log", "text tower, batch 1 (ms)": "log"}
    assert {ax.get_yscale() for fig in figures for ax in fig.axes} == {"linear"}
    # the log axis keeps plain tick labels (300, not 3x10^2)
    assert pareto.axes[0].xaxis.get_major_formatter()(300.0, 0) == "300"


def test_plots_within_a_decade_stay_linear(monkeypatch):
    from edge_bench.report.plots import latency_plot, pareto_plot

    figures = _drawn_figures(monkeypatch)
    report = _plot_report(4.0)  # throughput 3 .. 12 images/s; latency 0.5 .. 3.6 ms
    pareto_plot(report), latency_plot(report)
    assert [set(_x_axes(fig).values()) for fig in figures] == [{"linear"}, {"linear"}]


def _profiled_tower(blocks_ms: dict[str, float]) -> TowerFigures:
    figures = {f"profile_{b.replace(' ', '_')}_ms": ms for b, ms in blocks_ms.items()}
    return TowerFigures({**NO_TOWER.values, **figures})


def test_profile_plot_stacks_each_jobs_blocks(monkeypatch):
    """One stacked bar per profiled job and tower: each segment is a block's ms, the bar ends at their sum;
    a job without a profile gets no bar, and a report without profiles no plot."""
    from edge_bench.report.model import DeviceReport
    from edge_bench.report.plots import device_plots, profile_plot

    figures = _drawn_figures(monkeypatch)
    teacher = {"patch embedding": 0.2, "attention": 1.1, "mlp": 0.9, "norms": 0.3, "delegate overhead": 0.05}
    student = {"token embedding": 0.1, "attention": 0.4, "runtime overhead": 0.02}
    entries = [
        replace(entry("teacher", 10.0, 0.8), towers={"image": _profiled_tower(teacher), "text": _profiled_tower(student)}),
        replace(entry("plain", 20.0, 0.5), towers={"image": tower(20.0)}),
    ]
    report = DeviceReport("dev", "", None, "", {}, "", [], entries, [], pareto_front=[])
    plot = profile_plot(report)
    assert plot.name == "profile" and plot.png[:8] == b"\x89PNG\r\n\x1a\n"
    image_ax, text_ax = figures[0].axes[:2]
    for ax, blocks in ((image_ax, teacher), (text_ax, student)):
        bars = sorted(((p.get_x(), p.get_width(), p.get_y()) for p in ax.patches), key=lambda b: b[0])
        assert len(bars) == len(blocks), "only the profiled job has bars, one segment per block with time"
        assert [round(w, 6) for _, w, _ in bars] == [ms for b, ms in blocks.items()]  # in BLOCKS order
        assert bars[-1][0] + bars[-1][1] == pytest.approx(sum(blocks.values()))
    assert {t.get_text() for t in figures[0].legends[0].get_texts()} == set(teacher) | set(student)
    assert "profile" in [p.name for p in device_plots(report)]
    unprofiled = DeviceReport("dev", "", None, "", {}, "", [], entries[1:], [], pareto_front=[])
    assert profile_plot(unprofiled) is None


def test_the_report_says_where_the_time_goes_and_what_int8_keeps_float():
    """'Where the time goes': per profiled job and tower the coverage, the time outside the delegate and in int8<->float
    conversions, the largest blocks; for a quantized job each part its recipe keeps float (from the converter that made
    it), why, and the profiled ms of the blocks it runs in. In the HTML and Markdown reports, with the stacked bar."""
    from edge_bench.converters import get_converter
    from edge_bench.report.layout import device_sections
    from edge_bench.report.model import DeviceReport
    from edge_bench.report.profile_tables import kept_float_table, profile_table

    blocks = {"patch embedding": 0.05, "attention": 0.30, "mlp": 0.25, "norms": 0.10, "residual": 0.02, "projection": 0.01}
    image = TowerFigures({**_profiled_tower(blocks).values, "latency_median_ms": 0.80, "profile_operators_ms": 0.73,
                          "profile_outside_delegate_ms": 0.04, "profile_conversions_ms": 0.06, "profile_floor_slack_ms": 0.03})
    int8 = replace(entry("teacher", 10.0, 0.8), precision="int8", towers={"image": image})
    fp32 = replace(entry("plain", 20.0, 0.5), towers={"image": tower(20.0)})  # not profiled: no row
    report = DeviceReport("dev", "", None, "", {}, "", [], [int8, fp32], [], pareto_front=[])

    (row,) = profile_table(report).rows
    # kernels read in whole microseconds may hold 0.03 ms more than the operators' sum: coverage 91%, up to 95%
    assert row[:7] == ("teacher tflite int8", "image", "0.800", "0.730", "91% (up to 95%)", "0.040", "0.060")
    assert row[7] == "attention 0.300 (38%), mlp 0.250 (31%), norms 0.100 (12%)"

    kept = kept_float_table(report).rows
    parts = get_converter("tflite").kept_float["int8"]
    assert [r[2] for r in kept] == [p.what for p in parts] + ["int8<->float conversions at their borders"]
    stream = kept[0]  # the residual stream runs in the residual and patch embedding blocks: 0.02 + 0.05 ms
    assert stream[3:6] == ("residual, patch embedding", "0.070", "9%") and "R@1" in stream[6]
    assert kept[-1][4:6] == ("0.060", "8%")
    assert kept_float_table(replace(report, entries=[replace(int8, precision="fp32")])) is None  # fp32 keeps nothing float

    titles = [s.title for s in device_sections(report, {})]
    assert "Where the time goes" in titles
    assert "Where the time goes" not in [s.title for s in device_sections(replace(report, entries=[fp32]), {})]
