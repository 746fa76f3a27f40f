"""Parse what ExecuTorch's `executor_runner` (and `xnn_executor_runner`) prints, complete or not.

Every figure comes through `ET_LOG` in `examples/portable/executor_runner/executor_runner.cpp`
(pytorch/executorch); the lines differ between releases, so each is optional:

    ET_LOG(Info, "Resetting threadpool with num threads = %d", num_performant_cores);
    ET_LOG(Info, "Model file %s is loaded.", FLAGS_model_path.c_str());
    ET_LOG(Error, "Failed to parse model file %s", FLAGS_model_path.c_str());
    ET_LOG(Info, "Setting up planned buffer %zu, size %zu.", id, buffer_size);
    ET_LOG(Info, "Model loaded in %f ms.", ...);                          // newer releases
    ET_LOG(Info, "Iteration %" PRIu32 " of %" PRIu32 ": %f ms", ...);       // newer releases
    ET_LOG(Info, "Model executed successfully %" PRIu32 " time(s) in %f ms.", ...);
    ET_LOG(Info, "Writing output to file: %s", out_filename);

`ET_CHECK_MSG` failures log `In function main(), assert failed (cond): message` at
level F and abort (SIGABRT). Where the lines go depends on the platform layer the
runner was built with (`runtime/platform/default/`): `posix.cpp` writes
`"%c %02u:%02u:%02u.%06lu executorch:%s:%zu] %s\\n"` to stderr; `android.cpp`
(the android preset) sends the bare message to logcat under the tag `ExecuTorch`,
so the same lines are read back from `logcat` (threadtime or brief format).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from edge_bench.android.runstats import NUMBER, to_float

_POSIX = re.compile(r"^([DIWEF]) \d+:\d\d:\d\d\.\d+ executorch:([^:\]]+):(\d+)\] ?(.*)$")
_LOGCAT_THREADTIME = re.compile(r"^\d\d-\d\d \d\d:\d\d:\d\d\.\d+\s+\d+\s+\d+ ([VDIWEF]) ExecuTorch\s*: ?(.*)$")
_LOGCAT_BRIEF = re.compile(r"^([VDIWEF])/ExecuTorch\s*\(\s*\d+\): ?(.*)$")

_THREADS = re.compile(r"Resetting threadpool with num threads = (-?\d+)")
_LOADED_FILE = re.compile(r"Model file (.+) is loaded\.")
_PARSE_FAILED = re.compile(r"Failed to parse model file (.+)")
_METHOD = re.compile(r"(?:Using|Running) method (\S+)")
_PLANNED = re.compile(r"Setting up (?:CPU |device )?planned buffer (\d+), size (\d+)")
_LOAD_MS = re.compile(rf"Model loaded in ({NUMBER}) ms")
_ITERATION = re.compile(rf"Iteration (\d+) of (\d+): ({NUMBER}) ms")
_EXECUTED = re.compile(rf"Model executed successfully(?: (\d+) time\(s\))?(?: in ({NUMBER}) ms)?")
_OUTPUT_FILE = re.compile(r"Writing output to file: (\S+)")
_N_OUTPUTS = re.compile(r"^(\d+) outputs:")
_STATUS = re.compile(r"status 0x([0-9a-fA-F]+)|: 0x([0-9a-fA-F]+)")
_GFLAGS_ERROR = re.compile(r"^ERROR: (unknown command line flag .*|.*flag.*)$")

# runtime/core/error.h
ET_ERRORS = {
    0x00: "Ok", 0x01: "Internal", 0x02: "InvalidState", 0x03: "EndOfMethod", 0x10: "NotSupported",
    0x11: "NotImplemented", 0x12: "InvalidArgument", 0x13: "InvalidType", 0x14: "OperatorMissing",
    0x20: "NotFound", 0x21: "MemoryAllocationFailed", 0x22: "AccessFailed", 0x23: "InvalidProgram",
    0x24: "InvalidExternalData", 0x25: "OutOfResources", 0x30: "DelegateInvalidCompatibility",
    0x31: "DelegateMemoryAllocationFailed", 0x32: "DelegateInvalidHandle",
}

PHASES = ("load", "init", "run", "outputs")
"""The order a run goes through: parse the program, load the method, execute, hand outputs back."""


@dataclass
class ExecutorRunnerReport:
    """Everything one `executor_runner` run logged that edge-bench uses (times in milliseconds as printed)."""

    threads: int | None = None
    model_file: str | None = None
    method: str | None = None
    planned_buffer_bytes: int = 0
    load_ms: float | None = None
    """`Model loaded in X ms.` (program parse + method load), only printed by newer runners."""
    iterations_ms: list[float] = field(default_factory=list)
    """One per `Iteration i of N: X ms` line: the raw per-execution samples, when the runner prints them."""
    iterations_planned: int | None = None
    executed: int | None = None
    executed_total_ms: float | None = None
    n_outputs: int | None = None
    output_files: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_code: int | None = None
    log_lines: int = 0
    """How many ExecuTorch log lines were found (0 means the logs went elsewhere, e.g. logcat)."""

    @property
    def error_name(self) -> str | None:
        """The ExecuTorch `Error` name of the status code in the failure, if one was printed."""
        return None if self.error_code is None else ET_ERRORS.get(self.error_code, f"0x{self.error_code:x}")

    @property
    def phase_reached(self) -> str:
        """The last phase the log shows finished ('' when the program did not even parse)."""
        done = [self.model_file is not None,
                self.load_ms is not None or bool(self.iterations_ms) or self.executed is not None,
                self.executed is not None,
                self.n_outputs is not None]
        reached = ""
        for name, ok in zip(PHASES, done):
            if not ok:
                break
            reached = name
        return reached

    @property
    def failed_phase(self) -> str | None:
        """The phase the run stopped in, or None when the log is complete and error-free."""
        reached = self.phase_reached
        if reached in ("run", "outputs") and not self.errors:
            return None
        index = PHASES.index(reached) + 1 if reached else 0
        return PHASES[min(index, len(PHASES) - 1)]


def split_log_line(line: str) -> tuple[str, str] | None:
    """(level, message) of an ExecuTorch log line in posix-PAL or logcat form, else None."""
    line = line.rstrip()
    if match := _POSIX.match(line):
        return match.group(1), match.group(4)
    for pattern in (_LOGCAT_THREADTIME, _LOGCAT_BRIEF):
        if match := pattern.match(line):
            return match.group(1), match.group(2)
    return None


def _record_error(report: ExecutorRunnerReport, message: str) -> None:
    report.errors.append(message)
    if report.error_code is None and (match := _STATUS.search(message)):
        report.error_code = int(match.group(1) or match.group(2), 16)


def _parse_message(report: ExecutorRunnerReport, level: str, message: str) -> None:
    report.log_lines += 1
    if level in ("E", "F"):
        _record_error(report, message)
    if match := _ITERATION.search(message):
        report.iterations_ms.append(float(match.group(3)))
        report.iterations_planned = int(match.group(2))
    elif match := _EXECUTED.search(message):
        report.executed = int(match.group(1)) if match.group(1) else 1
        report.executed_total_ms = to_float(match.group(2))
    elif match := _LOAD_MS.search(message):
        report.load_ms = to_float(match.group(1))
    elif match := _PLANNED.search(message):
        report.planned_buffer_bytes += int(match.group(2))
    elif match := _LOADED_FILE.search(message):
        report.model_file = match.group(1)
    elif match := _THREADS.search(message):
        report.threads = int(match.group(1))
    elif match := _METHOD.search(message):
        report.method = match.group(1)
    elif match := _OUTPUT_FILE.search(message):
        report.output_files.append(match.group(1))
    elif match := _N_OUTPUTS.match(message.strip()):
        report.n_outputs = int(match.group(1))
    elif level not in ("E", "F") and _PARSE_FAILED.search(message):
        _record_error(report, message)


def parse_executor_runner_output(text: str) -> ExecutorRunnerReport:
    """Parse the stdout, stderr and/or logcat text of one `executor_runner` run, complete or not."""
    report = ExecutorRunnerReport()
    for raw in text.splitlines():
        parsed = split_log_line(raw)
        if parsed is not None:
            _parse_message(report, *parsed)
        elif match := _GFLAGS_ERROR.match(raw.strip()):
            report.errors.append(match.group(0))
    return report
