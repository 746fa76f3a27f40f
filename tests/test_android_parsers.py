"""The Android native runners' output parsers, on fixtures of their real output formats.

Where each fixture comes from (issue logs, docs, and the source lines that print
each line) is in tests/fixtures/android/README.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_bench.android.executorch_output import parse_executor_runner_output, split_log_line
from edge_bench.android.litert_output import parse_benchmark_model_output, parse_stat_line
from edge_bench.android.runstats import RunStats

FIXTURES = Path(__file__).parent / "fixtures" / "android"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


# --- benchmark_model ----------------------------------------------------------------------


def test_stat_line_full_with_percentiles():
    stats = parse_stat_line("count=233 first=4301 curr=4288 min=4176 max=6034 avg=4291.18 std=187 p5=4190 median=4251 p95=4522")
    assert stats == RunStats(count=233, first=4301, last=4288, min=4176, max=6034, mean=4291.18, std=187,
                             p5=4190, median=4251, p95=4522)


def test_stat_line_all_same_and_empty_and_scientific():
    same = parse_stat_line("count=50 curr=1234(all same)")
    assert (same.count, same.min, same.max, same.mean, same.std, same.all_same) == (50, 1234, 1234, 1234, 0.0, True)
    assert parse_stat_line("count=0") == RunStats(count=0)
    sci = parse_stat_line("count=5 first=2397810 curr=2402207 min=2391032 max=2410518 avg=2.4005e+06 std=6901")
    assert sci.mean == pytest.approx(2400500.0)
    assert parse_stat_line("Timings (microseconds): count=1 curr=19") is None


def test_litert_complete_run():
    report = parse_benchmark_model_output(fixture("benchmark_model_litert_ok.txt"))
    assert report.failed_phase is None and report.phase_reached == "report"
    assert report.init_ms == pytest.approx(41.277)
    assert report.timings_us == {"Init": 41277, "First inference": 7921, "Warmup (avg)": 4524.65, "Inference (avg)": 4291.18}
    assert report.warmup.count == 221 and report.warmup.first == 7921
    assert report.timed.count == 233 and report.timed.median == 4251 and report.timed.p95 == 4522
    assert [h["min_runs"] for h in report.run_headers] == [10, 50]
    assert report.run_headers[1] == {"min_runs": 50, "min_secs": 1.0, "max_secs": 30.0}
    assert report.peak_footprint_mb == pytest.approx(27.8828)
    assert (report.footprint_init_mb, report.footprint_overall_mb) == (pytest.approx(19.3477), pytest.approx(21.0391))
    assert report.vm_rss_end_mb == 26
    assert report.model_size_mb == pytest.approx(9.43218)
    assert report.params["Num threads"] == "4" and report.params["Input layers"] == "args_0"
    assert report.delegates == ["Created TensorFlow Lite XNNPACK delegate for CPU."]


def test_chromeos_real_lines_without_parameters():
    report = parse_benchmark_model_output(fixture("benchmark_model_chromeos_cpu.txt"))
    assert report.failed_phase is None
    assert report.timed.count == 1061 and report.timed.mean == pytest.approx(56265.8) and report.timed.std == 982
    assert report.timed.median is None  # builds before StatWithPercentiles print no percentiles
    assert report.peak_footprint_mb == pytest.approx(93.2383)


def test_older_tensorflow_format_without_prefix():
    report = parse_benchmark_model_output(fixture("benchmark_model_tf_issue42507.txt"))
    assert report.failed_phase is None
    assert report.warmup.count == 15 and report.timed.count == 50
    # the op-profiling table's "Timings (microseconds): count=1" is not taken for a run series
    assert report.timed.mean == pytest.approx(33209.4)
    assert report.footprint_overall_mb == pytest.approx(12.8672)  # "Peak memory footprint (MB): init=0 overall=..."


def test_2018_format():
    report = parse_benchmark_model_output(fixture("benchmark_model_2018_issue77.txt"))
    assert report.failed_phase is None
    assert report.init_ms == pytest.approx(9.89)
    assert report.run_headers[0] == {"min_runs": 4, "min_secs": 0.5, "max_secs": None}
    assert report.timings_us == {"Warmup": 577904, "Init": 9890, "no stats": 420334}
    assert report.timed.count == 10


def test_slow_model_scientific_notation_and_single_warmup():
    report = parse_benchmark_model_output(fixture("benchmark_model_slow_scientific.txt"))
    assert report.failed_phase is None
    assert report.warmup.count == 1 and report.warmup.all_same and report.warmup.first == 2481377
    assert report.timings_us["Inference (avg)"] == pytest.approx(2.4005e6)
    assert report.timings_us["Warmup (avg)"] == pytest.approx(2.48138e6)


def test_unconsumed_flag_warning_and_nan():
    report = parse_benchmark_model_output(fixture("benchmark_model_unconsumed_flag.txt"))
    assert report.failed_phase is None
    assert report.warnings == ["Unconsumed cmdline flags: --output_filepath=/data/local/tmp/edge-bench/runs/job-7/image/outputs/item-0"]
    assert report.warmup == RunStats(count=0)
    assert "Warmup (avg)" not in report.timings_us or report.timings_us["Warmup (avg)"] is None


@pytest.mark.parametrize("name, phase, error", [
    ("benchmark_model_missing_model.txt", "load", "Could not open"),
    ("benchmark_model_delegate_failed.txt", "init", "Failed to apply GPU delegate."),
    ("benchmark_model_input_size_abort.txt", "warmup", "It should be 49152 bytes."),
    ("benchmark_model_invoke_failed_warmup.txt", "warmup", "Node number 3 (GATHER) failed to invoke."),
    ("benchmark_model_segfault_partial.txt", "warmup", None),
])
def test_failures_and_partial_output(name, phase, error):
    report = parse_benchmark_model_output(fixture(name))
    assert report.failed_phase == phase
    if error:
        assert any(error in line for line in report.errors)
    else:
        assert report.errors == [] and report.model_loaded and report.init_ms == pytest.approx(29.551)


def test_invoke_failed_in_timed_runs_is_the_timed_phase():
    text = fixture("benchmark_model_litert_ok.txt") + "ERROR: Node number 7 (CONV_2D) failed to invoke.\nERROR: Benchmarking failed.\n"
    report = parse_benchmark_model_output(text)
    assert report.failed_phase == "timed" and report.timed.count == 233


# --- executor_runner ----------------------------------------------------------------------


def test_log_line_forms():
    assert split_log_line("I 00:00:00.086011 executorch:executor_runner.cpp:714] Model executed successfully 8 time(s) in 38.036298 ms.") \
        == ("I", "Model executed successfully 8 time(s) in 38.036298 ms.")
    assert split_log_line("11-02 14:07:31.560 12417 12417 I ExecuTorch: Using method forward") == ("I", "Using method forward")
    assert split_log_line("E/ExecuTorch(12417): Failed to parse model file x.pte") == ("E", "Failed to parse model file x.pte")
    assert split_log_line("OutputX 0: tensor(sizes=[1, 256], [") is None


def test_executor_runner_with_iterations():
    report = parse_executor_runner_output(fixture("executor_runner_posix_iterations.txt"))
    assert report.failed_phase is None and report.phase_reached == "outputs"
    assert report.threads == 4 and report.method == "forward"
    assert report.load_ms == pytest.approx(35.446812)
    assert report.iterations_ms[0] == pytest.approx(8.102385) and len(report.iterations_ms) == 8
    assert report.iterations_planned == 8 and report.executed == 8
    assert sum(report.iterations_ms) == pytest.approx(report.executed_total_ms, abs=1e-5)
    assert report.planned_buffer_bytes == 1204224
    assert report.output_files == ["/data/local/tmp/edge-bench/runs/job-9/image/outputs/item-0-0.bin"]


def test_executor_runner_total_only_real_arm_output():
    report = parse_executor_runner_output(fixture("executor_runner_arm_learning_path.txt"))
    assert report.failed_phase is None
    assert report.iterations_ms == [] and report.load_ms is None
    assert (report.executed, report.executed_total_ms) == (1, pytest.approx(2.904883))
    assert report.model_file == "model/linear_model_f32.pte" and report.planned_buffer_bytes == 2112


def test_executor_runner_android_pal_logs_in_logcat():
    stdout = parse_executor_runner_output(fixture("executor_runner_logcat_stdout.txt"))
    assert stdout.log_lines == 0 and stdout.failed_phase == "load"  # nothing on stdout but the tensor
    both = parse_executor_runner_output(fixture("executor_runner_logcat_stdout.txt") + "\n"
                                        + fixture("executor_runner_logcat_threadtime.txt"))
    assert both.failed_phase is None and both.executed == 61
    assert both.executed_total_ms == pytest.approx(97.316204) and both.planned_buffer_bytes == 196672


@pytest.mark.parametrize("name, phase, code", [
    ("executor_runner_parse_failed.txt", "load", None),
    ("executor_runner_method_load_abort.txt", "init", "OperatorMissing"),
    ("executor_runner_execute_failed.txt", "run", "InvalidArgument"),
    ("executor_runner_unknown_flag.txt", "load", None),
    ("executor_runner_segfault_partial.txt", "run", None),
])
def test_executor_runner_failures(name, phase, code):
    report = parse_executor_runner_output(fixture(name))
    assert report.failed_phase == phase
    assert report.error_name == code


def test_partial_iterations_are_kept():
    report = parse_executor_runner_output(fixture("executor_runner_segfault_partial.txt"))
    assert report.iterations_ms == pytest.approx([8.030412, 4.388170, 4.247003])
    assert report.iterations_planned == 61 and report.executed is None


def test_litert_compiled_model_tool_summary():
    """The prebuilt LiteRT `benchmark_model` (CompiledModel API) prints its own summary in ms and MB."""
    report = parse_benchmark_model_output(fixture("benchmark_model_litert_compiled_model.txt"))
    assert report.tool == "compiled_model" and report.failed_phase is None
    assert report.timings_us == {"Init": pytest.approx(52930), "First inference": pytest.approx(8310),
                                 "Warmup (avg)": pytest.approx(4830), "Inference (avg)": pytest.approx(4570)}
    assert report.timed.count == 219 and report.timed.median == 4531  # the shared run loop's statistics
    assert (report.footprint_init_mb, report.footprint_overall_mb, report.peak_footprint_mb) == (21.10, 23.42, 30.12)
    assert report.warnings[0].startswith("Unconsumed cmdline flags: --input_layer=args_0")
    assert parse_benchmark_model_output(fixture("benchmark_model_litert_ok.txt")).tool == "interpreter"
