"""The native runners edge-bench drives on Android, one class each behind one small protocol.

A runner knows its command line, how to read its output, and how its figures map
onto the agent's result fields. Adding a runtime is adding one class here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from edge_bench.android.commands import RunSettings, benchmark_model_argv, executor_runner_argv
from edge_bench.android.executorch_output import ExecutorRunnerReport, parse_executor_runner_output
from edge_bench.android.litert_output import BenchmarkModelReport, parse_benchmark_model_output
from edge_bench.errors import ConfigError

MIB = 1 << 20


class NativeRunner(ABC):
    """A runtime's own benchmark program, built for the phone's ABI and run over adb."""

    backend: ClassVar[str] = ""
    """The backend name its artifacts have (the converters' name)."""
    module: ClassVar[str] = ""
    """The program, recorded as the result's runtime module."""
    logcat_tag: ClassVar[str] = ""
    """Logcat tag its logs may go to instead of stderr ('' = none)."""
    per_run_samples: ClassVar[bool] = False
    """It can print the duration of every run (raw samples), not only statistics."""
    time_based: ClassVar[bool] = False
    """It honours minimum seconds for warm-up and timed runs, not only counts."""
    profile_source: ClassVar[str] = ""
    """What its profiling pass writes (edge_bench.profile.build reads it): 'etdump' or 'benchmark_model' ('' = none)."""
    profile_suffix: ClassVar[str] = ""

    def profile_args(self, remote_file: str) -> list[str]:
        """Flags of the profiling pass, which writes its per-operator file to `remote_file` on the phone."""
        return []

    @abstractmethod
    def argv(self, runner: str, settings: RunSettings) -> list[str]:
        """The exact command line."""

    @abstractmethod
    def parse(self, text: str) -> Any:
        """Its report from the combined output text."""

    @abstractmethod
    def timing_fields(self, report: Any, settings: RunSettings) -> dict:
        """load_s, first_inference_s, warmup, latency_s and, when samples are absent, latency_stats_from_tool."""

    @abstractmethod
    def memory_fields(self, report: Any) -> dict:
        """Memory figures the tool printed, in bytes."""

    @abstractmethod
    def failure(self, report: Any) -> tuple[str, str] | None:
        """(phase, message) when the output shows a failure or stops early, else None."""

    @abstractmethod
    def output_files(self, base: str, n_outputs: int) -> list[str]:
        """The files on the phone where it wrote the outputs for `--output` base `base`."""

    def deviations(self, settings: RunSettings) -> list[str]:
        """Where this runner cannot follow the protocol, in words, recorded with the result."""
        return []


_RUNNERS: dict[str, type[NativeRunner]] = {}


def register_runner(cls: type[NativeRunner]) -> type[NativeRunner]:
    """Class decorator adding a runner to the registry under its backend name."""
    _RUNNERS[cls.backend] = cls
    return cls


def runner_for(backend: str) -> NativeRunner:
    """The native runner for `backend`, or a ConfigError saying which backends Android has."""
    cls = _RUNNERS.get(backend)
    if cls is None:
        raise ConfigError(
            f"no Android native runner for backend '{backend}'",
            hint=f"Android runs {', '.join(sorted(_RUNNERS))}; Core ML needs an Apple device",
        )
    return cls()


def available_backends() -> list[str]:
    """Backends that have an Android runner."""
    return sorted(_RUNNERS)


def _seconds(value: float | None, scale: float) -> float | None:
    return None if value is None else value * scale


@register_runner
class LiteRTBenchmarkModel(NativeRunner):
    """LiteRT's `benchmark_model`: warm-up and timed runs by count and seconds; statistics only."""

    backend = "tflite"
    module = "benchmark_model"
    time_based = True
    profile_source, profile_suffix = "benchmark_model", ".csv"

    def profile_args(self, remote_file: str) -> list[str]:
        """--enable_op_profiling, its tables written as CSV to `remote_file` (edge_bench.profile.benchmark_model reads them)."""
        from edge_bench.profile.benchmark_model import flags

        return flags(remote_file)

    def argv(self, runner: str, settings: RunSettings) -> list[str]:
        return benchmark_model_argv(runner, settings)

    def parse(self, text: str) -> BenchmarkModelReport:
        return parse_benchmark_model_output(text)

    def timing_fields(self, report: BenchmarkModelReport, settings: RunSettings) -> dict:
        us = 1e-6
        init_us = report.timings_us.get("Init")
        load_s = _seconds(init_us, us) if init_us is not None else _seconds(report.init_ms, 1e-3)
        first = report.timings_us.get("First inference")
        if first is None and report.warmup is not None:
            first = report.warmup.first
        fields: dict = {"load_s": load_s, "first_inference_s": _seconds(first, us), "latency_s": []}
        warm = report.warmup
        fields["warmup"] = None if warm is None else {
            "n": warm.count, "seconds": warm.count * warm.mean * us if warm.mean is not None else None}
        if report.timed is not None:
            stats = report.timed.scaled(us)
            stats.update(unit="s", std_kind="population",
                         source="benchmark_model stdout: count/first/curr/min/max/avg/std[/p5/median/p95]; "
                                "the tool does not print per-run samples")
            fields["latency_stats_from_tool"] = stats
        return fields

    def memory_fields(self, report: BenchmarkModelReport) -> dict:
        out = {}
        for key, value in (("tool_peak_footprint_bytes", report.peak_footprint_mb),
                           ("tool_footprint_delta_init_bytes", report.footprint_init_mb),
                           ("tool_footprint_delta_overall_bytes", report.footprint_overall_mb),
                           ("tool_vm_rss_end_bytes", report.vm_rss_end_mb)):
            if value is not None:
                out[key] = int(round(value * MIB))
        return out

    def failure(self, report: BenchmarkModelReport) -> tuple[str, str] | None:
        phase = report.failed_phase
        if phase is None:
            return None
        detail = "; ".join(report.errors[:3]) or f"output ends before the {phase} phase finished"
        return phase, detail

    def output_files(self, base: str, n_outputs: int) -> list[str]:
        return [base]

    def deviations(self, settings: RunSettings) -> list[str]:
        if settings.max_runs < settings.min_runs:
            return [f"benchmark_model has no run cap: max_runs={settings.max_runs} not applied"]
        return ["benchmark_model has no run cap: max_runs bounded by max_seconds only"]


@register_runner
class ExecuTorchRunner(NativeRunner):
    """ExecuTorch's `executor_runner` (or `xnn_executor_runner`): a fixed count of executions."""

    backend = "executorch"
    module = "executor_runner"
    logcat_tag = "ExecuTorch"
    per_run_samples = True
    profile_source, profile_suffix = "etdump", ".etdp"

    def profile_args(self, remote_file: str) -> list[str]:
        """executor_runner built with the event tracer (EXECUTORCH_ENABLE_EVENT_TRACER) writes an ETDump there."""
        return [f"--etdump_path={remote_file}"]

    def argv(self, runner: str, settings: RunSettings) -> list[str]:
        return executor_runner_argv(runner, settings)

    def parse(self, text: str) -> ExecutorRunnerReport:
        return parse_executor_runner_output(text)

    def timing_fields(self, report: ExecutorRunnerReport, settings: RunSettings) -> dict:
        ms = 1e-3
        fields: dict = {"load_s": _seconds(report.load_ms, ms), "first_inference_s": None,
                        "warmup": None, "latency_s": []}
        samples = [value * ms for value in report.iterations_ms]
        if samples:
            warm = samples[1:1 + settings.warmup_min_runs]
            fields.update(first_inference_s=samples[0], latency_s=samples[1 + settings.warmup_min_runs:],
                          warmup={"n": len(warm), "seconds": sum(warm)})
        elif report.executed is not None and report.executed_total_ms is not None:
            fields["latency_stats_from_tool"] = {
                "n": report.executed, "mean": report.executed_total_ms * ms / report.executed,
                "total": report.executed_total_ms * ms, "unit": "s",
                "includes_first_and_warmup": True,
                "source": "executor_runner 'Model executed successfully N time(s) in X ms'; "
                          "this build does not print per-iteration times"}
        return fields

    def memory_fields(self, report: ExecutorRunnerReport) -> dict:
        return {"planned_buffer_bytes": report.planned_buffer_bytes} if report.planned_buffer_bytes else {}

    def failure(self, report: ExecutorRunnerReport) -> tuple[str, str] | None:
        phase = report.failed_phase
        if phase is None:
            return None
        detail = "; ".join(report.errors[:3])
        if report.error_name:
            detail += f" (ExecuTorch error {report.error_name})"
        if not detail:
            detail = (f"output ends before the {phase} phase finished" if report.log_lines
                      else "no ExecuTorch log lines in stdout, stderr or logcat")
        return phase, detail

    def output_files(self, base: str, n_outputs: int) -> list[str]:
        return [f"{base}-{index}.bin" for index in range(n_outputs)]

    def deviations(self, settings: RunSettings) -> list[str]:
        notes = ["executor_runner runs a fixed count of executions: warmup_min_seconds and min_seconds "
                 "are not applied (counts only)"]
        if settings.max_runs < settings.min_runs:
            notes.append(f"timed runs capped at max_runs={settings.max_runs}")
        return notes
