"""The exact command lines of the native runners, built from the measurement protocol.

One function per runner, each returning an argv list (the transport quotes every
element for the phone's shell). Flags, as the tools define them:

LiteRT `benchmark_model` (tflite/tools/benchmark/benchmark_model.cc, benchmark_tflite_model.cc):
`--graph`, `--num_threads`, `--warmup_runs`, `--warmup_min_secs`, `--num_runs`, `--min_secs`,
`--max_secs`, `--report_peak_memory_footprint`, `--input_layer`, `--input_layer_shape`,
`--input_layer_value_files` (`name:path`, a ':' in a name written '::'), `--output_filepath`
(raw bytes of every output tensor, newer builds; older ones warn "Unconsumed cmdline flags").

ExecuTorch `executor_runner` (examples/portable/executor_runner/executor_runner.cpp):
`--model_path`, `--num_executions`, `--cpu_threads`, `--inputs` (comma-separated raw files),
`--output_file` (base name; writes `<base>-<i>.bin` per output tensor). It has no
time-based settings: a run is a fixed count of executions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_bench.errors import ConfigError


@dataclass(frozen=True)
class InputFile:
    """One raw input tensor file on the phone, for one model input."""

    name: str
    """The model's input name (from the artifact manifest)."""
    shape: tuple[int, ...]
    path: str
    """Path on the phone."""


@dataclass(frozen=True)
class RunSettings:
    """Everything one runner invocation needs, paths already on the phone."""

    model: str
    """The artifact on the phone."""
    threads: int
    warmup_min_runs: int
    warmup_min_seconds: float
    min_runs: int
    min_seconds: float
    max_runs: int
    max_seconds: float
    inputs: tuple[InputFile, ...] = ()
    """Input files; empty = the tool's own inputs (random for benchmark_model, ones for executor_runner)."""
    output_base: str = ""
    """Where the runner writes its outputs ('' = do not write them)."""
    report_peak_memory: bool = True
    extra_args: tuple[str, ...] = field(default=())


def _num(value: float) -> str:
    """A number as the tools' flag parsers read it: 0.5, 1, 150."""
    return f"{value:g}"


def taskset_mask(cpus: list[int] | tuple[int, ...]) -> str:
    """The hexadecimal CPU mask `taskset` takes, e.g. [4, 5, 6, 7] -> 'f0'."""
    if not cpus:
        raise ConfigError("an empty affinity has no taskset mask")
    mask = 0
    for cpu in cpus:
        if not isinstance(cpu, int) or cpu < 0 or cpu > 1023:
            raise ConfigError(f"affinity lists CPU ids 0..1023, got {cpu!r}")
        mask |= 1 << cpu
    return f"{mask:x}"


def with_affinity(argv: list[str], cpus: list[int] | tuple[int, ...], taskset: str | None) -> list[str]:
    """`argv` run under `taskset MASK` when there is an affinity and a taskset on the phone."""
    if not cpus or not taskset:
        return list(argv)
    return [taskset, taskset_mask(cpus), *argv]


def _layer(name: str) -> str:
    """An input name as `--input_layer` takes it: as written (benchmark_model compares it with the tensor's name)."""
    if "," in name:
        raise ConfigError(f"input name {name!r} contains ',', which benchmark_model cannot take")
    return name


def _escape_value_file(text: str) -> str:
    """`--input_layer_value_files` splits each item at its one unescaped ':', so a ':' in it is written '::'."""
    return text.replace(":", "::")


def benchmark_model_argv(runner: str, settings: RunSettings) -> list[str]:
    """The `benchmark_model` command line for `settings` (warm-up, timed runs, memory, inputs)."""
    argv = [
        runner,
        f"--graph={settings.model}",
        f"--num_threads={settings.threads}",
        f"--warmup_runs={settings.warmup_min_runs}",
        f"--warmup_min_secs={_num(settings.warmup_min_seconds)}",
        f"--num_runs={settings.min_runs}",
        f"--min_secs={_num(settings.min_seconds)}",
        f"--max_secs={_num(settings.max_seconds)}",
    ]
    if settings.report_peak_memory:
        argv.append("--report_peak_memory_footprint=true")
    if settings.inputs:
        argv += [
            "--input_layer=" + ",".join(_layer(item.name) for item in settings.inputs),
            "--input_layer_shape=" + ":".join(",".join(str(d) for d in item.shape) for item in settings.inputs),
            "--input_layer_value_files=" + ",".join(
                f"{_escape_value_file(_layer(item.name))}:{_escape_value_file(item.path)}" for item in settings.inputs),
        ]
    if settings.output_base:
        argv.append(f"--output_filepath={settings.output_base}")
    return argv + list(settings.extra_args)


def executor_runner_executions(settings: RunSettings) -> int:
    """How many executions one `executor_runner` call makes: first + warm-up + timed, capped by max_runs."""
    return 1 + settings.warmup_min_runs + min(settings.min_runs, settings.max_runs)


def executor_runner_argv(runner: str, settings: RunSettings, executions: int | None = None) -> list[str]:
    """The `executor_runner` command line for `settings` (a fixed count of executions)."""
    count = executor_runner_executions(settings) if executions is None else executions
    argv = [
        runner,
        f"--model_path={settings.model}",
        f"--num_executions={count}",
        f"--cpu_threads={settings.threads}",
    ]
    if settings.inputs:
        if any("," in item.path for item in settings.inputs):
            raise ConfigError("input file paths for executor_runner cannot contain ','")
        argv.append("--inputs=" + ",".join(item.path for item in settings.inputs))
    if settings.output_base:
        argv.append(f"--output_file={settings.output_base}")
    return argv + list(settings.extra_args)
