"""Parse what LiteRT's `benchmark_model` prints, including failed and cut-short runs.

The text comes from `tflite/tools/benchmark/benchmark_model.cc` (google-ai-edge/LiteRT;
the same file lived under tensorflow/lite/tools/benchmark/ before), lines like

    TFLITE_LOG(INFO) << "Initialized session in " << startup_latency_us / 1e3 << "ms.";
    TFLITE_LOG(INFO) << "Running benchmark for at least " << min_num_times
                     << " iterations and at least " << min_secs << " seconds but"
                     << " terminate if exceeding " << max_secs << " seconds.";
    TFLITE_LOG(INFO) << "Inference timings in us: " << "Init: " << init_us << ", "
                     << "First inference: " << warmup_us.first() << ", "
                     << "Warmup (avg): " << warmup_us.avg() << ", "
                     << "Inference (avg): " << inference_us.avg();
    TFLITE_LOG(INFO) << "Memory footprint delta from the start of the tool (MB): "
                     << "init=" << ... << " overall=" << ...;
    TFLITE_LOG(INFO) << "Overall peak memory footprint (MB) via periodic monitoring: " << peak_mem_mb;

and the run statistics from `Stat::OutputToStream` (xla/tsl/util/stats_calculator.h):
`count=N first=F curr=C min=m max=M avg=A std=S`, `count=N curr=C(all same)` when
every run took the same time, `count=0` when none ran; `StatWithPercentiles` (newer
LiteRT) appends ` p5=... median=... p95=...`. `TFLITE_LOG` prefixes `INFO: `,
`WARN: ` (stdout) and `ERROR: `, `FATAL: ` (stderr); builds before ~2.4 print no prefix.

The LiteRT CompiledModel tool (`litert/tools/benchmark_litert_model.h`, the prebuilt
`benchmark_model` downloads) runs the same `BenchmarkModel::Run` loop, so the lines above
up to the run statistics are the same, but it prints its own summary through `LITERT_LOG`
(`INFO: [benchmark_litert_model.h:NN] ` prefix) instead of "Inference timings in us":

    LITERT_LOG(LITERT_INFO, "Model initialization: %.2f ms", init_us / 1000.0);
    LITERT_LOG(LITERT_INFO, "Warmup (first):       %.2f ms", warmup_us.first() / 1000.0);
    LITERT_LOG(LITERT_INFO, "Inference (avg):      %.2f ms (%d runs)", ...);
    LITERT_LOG(LITERT_INFO, "Peak memory:          %.2f MB", peak_mem_mb);

It takes random inputs only and has no --input_layer_value_files or --output_filepath
(they come back as "Unconsumed cmdline flags"), so no on-device outputs for fidelity.
Numbers are C++ stream output: six significant digits, so `1.23457e+06` for long runs.
The tool prints statistics only, never the per-run samples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from edge_bench.android.runstats import NUMBER, RunStats, to_float

_PREFIX = re.compile(r"^(?:(INFO|WARN|WARNING|ERROR|FATAL|VERBOSE): ?)?(?:\[[\w.\-]+:\d+\] ?)?(.*)$")
# The CompiledModel tool's own summary (litert/tools/benchmark_litert_model.h), in ms and MB.
_SUMMARY = re.compile(
    rf"^(Model initialization|Warmup \(first\)|Warmup \(avg\)|Inference \(avg\)|Init footprint|"
    rf"Overall footprint|Peak memory):\s+({NUMBER}) (?:ms|MB)")
_SUMMARY_KEYS = {"Model initialization": "Init", "Warmup (first)": "First inference",
                 "Warmup (avg)": "Warmup (avg)", "Inference (avg)": "Inference (avg)"}
_STAT_LINE = re.compile(r"^count=(\d+)(.*)$")
_PAIR = re.compile(rf"(\w+)=({NUMBER})")
_INIT = re.compile(rf"Initialized session in ({NUMBER}) ?ms")
_RUN_HEADER = re.compile(
    rf"Running benchmark for at least (\d+) iterations and at least ({NUMBER}) seconds"
    rf"(?: but terminate if exceeding ({NUMBER}) seconds)?"
)
_TIMINGS = re.compile(r"[Ii]nference timings in us: (.*)$")
_TIMING_ITEM = re.compile(rf"([A-Za-z][A-Za-z ()]*?): ({NUMBER})")
_FOOTPRINT = re.compile(rf"(?:Memory footprint delta from the start of the tool|Peak memory footprint) \(MB\): init=({NUMBER}) overall=({NUMBER})")
_PEAK = re.compile(rf"Overall peak memory footprint \(MB\) via periodic monitoring: ({NUMBER})")
_VMRSS = re.compile(r"^- VmRSS\s*: (\d+) MB")
_MODEL_SIZE = re.compile(rf"The input model file size \(MB\): ({NUMBER})")
_PARAM = re.compile(r"^([A-Za-z#][^:\[]*?): \[(.*)\]$")

PHASES = ("load", "init", "warmup", "timed", "report")
"""The order a run goes through; a failed run stops in one of them."""


@dataclass
class BenchmarkModelReport:
    """Everything one `benchmark_model` run printed that edge-bench uses (times in microseconds as printed)."""

    params: dict[str, str] = field(default_factory=dict)
    """The parameters the tool echoed (`Num threads: [4]` -> {"Num threads": "4"})."""
    model_loaded: bool = False
    model_size_mb: float | None = None
    init_ms: float | None = None
    """From `Initialized session in X ms.`"""
    run_headers: list[dict] = field(default_factory=list)
    """One per `Running benchmark for at least ...` line: min_runs, min_secs, max_secs."""
    warmup: RunStats | None = None
    timed: RunStats | None = None
    timings_us: dict[str, float] = field(default_factory=dict)
    """The `Inference timings in us:` line: Init, First inference, Warmup (avg), Inference (avg)."""
    footprint_init_mb: float | None = None
    footprint_overall_mb: float | None = None
    peak_footprint_mb: float | None = None
    vm_rss_end_mb: float | None = None
    delegates: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failed: bool = False
    """`Benchmarking failed.` was printed."""
    tool: str = "interpreter"
    """Which benchmark_model: 'interpreter' (tflite/tools/benchmark) or 'compiled_model'
    (litert/tools, the prebuilt downloads), told apart by the summary it prints."""

    def _checks(self) -> list[tuple[str, bool]]:
        # The timed block's header is printed only after a warm-up that succeeded
        # (`Run()` returns early on a failed invoke), and the summary line only after
        # the timed runs, so each phase is proven by what follows it.
        return [
            ("load", self.model_loaded),
            ("init", self.init_ms is not None or "Init" in self.timings_us),
            ("warmup", len(self.run_headers) >= 2 or self.timed is not None),
            ("timed", bool(self.timings_us)),
        ]

    @property
    def phase_reached(self) -> str:
        """The last phase the output shows finished ('' when not even the model loaded; 'report' when all did)."""
        reached = ""
        for name, ok in self._checks():
            if not ok:
                return reached
            reached = name
        return "report"

    @property
    def failed_phase(self) -> str | None:
        """The phase the run stopped in, or None when the output is complete and did not fail."""
        for name, ok in self._checks():
            if not ok:
                return name
        # Everything printed but `Benchmarking failed.`: an invoke failed in the timed runs.
        return "timed" if self.failed else None


def parse_stat_line(text: str) -> RunStats | None:
    """Parse one `count=...` line of `Stat::OutputToStream` (values in microseconds)."""
    match = _STAT_LINE.match(text.strip())
    if not match:
        return None
    count = int(match.group(1))
    values = {key: to_float(value) for key, value in _PAIR.findall(match.group(2))}
    if count == 0:
        return RunStats(count=0)
    if "(all same)" in match.group(2) or ("min" not in values and "curr" in values):
        same = values.get("curr")
        return RunStats(count=count, first=same, last=same, min=same, max=same, mean=same, std=0.0,
                        p5=values.get("p5"), median=values.get("median", same if count == 1 else None),
                        p95=values.get("p95"), all_same=True)
    return RunStats(
        count=count, first=values.get("first"), last=values.get("curr"), min=values.get("min"),
        max=values.get("max"), mean=values.get("avg"), std=values.get("std"),
        p5=values.get("p5"), median=values.get("median"), p95=values.get("p95"),
    )


def _timings(text: str) -> dict[str, float]:
    return {name.strip(): to_float(value) for name, value in _TIMING_ITEM.findall(text)}


def _summary_line(report: BenchmarkModelReport, name: str, value: float | None) -> None:
    """One line of the CompiledModel tool's summary, folded into the interpreter tool's fields."""
    if name in _SUMMARY_KEYS:
        report.timings_us[_SUMMARY_KEYS[name]] = None if value is None else value * 1000.0
    elif name == "Init footprint":
        report.footprint_init_mb = value
    elif name == "Overall footprint":
        report.footprint_overall_mb = value
    else:
        report.peak_footprint_mb = value


def _take_stats(report: BenchmarkModelReport, stats: RunStats) -> None:
    # The first `Running benchmark ...` block is the warm-up, the second the timed runs.
    if len(report.run_headers) >= 2 and report.timed is None:
        report.timed = stats
    elif report.warmup is None:
        report.warmup = stats


def _parse_line(report: BenchmarkModelReport, level: str | None, text: str, expect_stats: bool) -> bool:
    """Fold one line into the report; returns whether the next stats line is expected."""
    if level in ("ERROR", "FATAL"):
        report.errors.append(text)
        report.failed = report.failed or text.startswith("Benchmarking failed")
    elif level in ("WARN", "WARNING"):
        report.warnings.append(text)
    if text.startswith("Benchmarking failed"):
        report.failed = True
    if expect_stats and (stats := parse_stat_line(text)) is not None:
        _take_stats(report, stats)
        return False
    if match := _RUN_HEADER.search(text):
        report.run_headers.append({"min_runs": int(match.group(1)), "min_secs": to_float(match.group(2)),
                                   "max_secs": to_float(match.group(3)) if match.group(3) else None})
        return True
    if text.startswith("Loaded model"):
        report.model_loaded = True
    elif match := _INIT.search(text):
        report.init_ms = to_float(match.group(1))
        report.model_loaded = True
    elif match := _TIMINGS.search(text):
        report.timings_us = _timings(match.group(1))
    elif text.startswith("========== BENCHMARK RESULTS"):
        report.tool = "compiled_model"
    elif match := _SUMMARY.match(text):
        _summary_line(report, match.group(1), to_float(match.group(2)))
    elif match := _FOOTPRINT.search(text):
        report.footprint_init_mb, report.footprint_overall_mb = to_float(match.group(1)), to_float(match.group(2))
    elif match := _PEAK.search(text):
        report.peak_footprint_mb = to_float(match.group(1))
    elif match := _VMRSS.match(text):
        report.vm_rss_end_mb = float(match.group(1))
    elif match := _MODEL_SIZE.search(text):
        report.model_size_mb = to_float(match.group(1))
    elif "delegate" in text and text.startswith(("Created TensorFlow Lite", "Explicitly applied")):
        report.delegates.append(text)
    elif match := _PARAM.match(text):
        report.params[match.group(1).strip()] = match.group(2)
    return expect_stats


def parse_benchmark_model_output(text: str) -> BenchmarkModelReport:
    """Parse the combined stdout and stderr of one `benchmark_model` run, complete or not."""
    report = BenchmarkModelReport()
    expect_stats = False
    for raw in text.splitlines():
        match = _PREFIX.match(raw.rstrip())
        level, body = match.group(1), match.group(2).strip()
        if not body:
            continue
        expect_stats = _parse_line(report, level, body, expect_stats)
    return report
