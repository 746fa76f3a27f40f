"""Turn one native-runner run into the agent's result record (docs/ARCHITECTURE.md, "result").

Same keys as the Python agent writes, so the store, reports and TUI read Android
results like any other; what the tools cannot give stays empty and is said so:
`latency_s` holds raw samples only when the tool printed every run, otherwise
`latency_stats_from_tool` carries the tool's own statistics.
"""

from __future__ import annotations

import signal as signals
from typing import Any

from edge_bench.android.commands import RunSettings
from edge_bench.android.errors import AbiMismatch, RunnerMissing, RunnerNotExecutable
from edge_bench.android.runners import NativeRunner
from edge_bench.android.scripts import RunCapture

ACCURACY_SOURCE = "host-computed from the device's artifact"


def signal_name(number: int) -> str:
    """'SIGSEGV' for 11, and so on."""
    try:
        return signals.Signals(number).name
    except ValueError:
        return f"signal {number}"


def launch_problem(capture: RunCapture, runner_path: str) -> Exception | None:
    """The error when the runner could not start at all (shell status 126/127, linker, wrong ELF)."""
    err = capture.streams.get("stderr", "") + "\n" + capture.streams.get("stdout", "")
    flat = " ".join(err.split())
    if "CANNOT LINK EXECUTABLE" in err:
        return RunnerNotExecutable(f"the runner {runner_path} cannot start: {flat[:300]}",
                                   hint="push the shared libraries it needs next to it and set LD_LIBRARY_PATH, "
                                        "or build it with -DANDROID_STL=c++_static")
    if "Exec format error" in err or ("not executable" in err and "ELF" in err):
        return AbiMismatch(f"the phone cannot execute {runner_path}: {flat[:200]}",
                           hint="build the runner for arm64-v8a with the Android NDK")
    if capture.exit_code == 127:
        return RunnerMissing(f"the runner {runner_path} was not found when run: {flat[:200]}")
    if capture.exit_code == 126:
        return RunnerNotExecutable(f"the runner {runner_path} cannot be executed: {flat[:200]}",
                                   hint="keep runners under /data/local/tmp (/sdcard is mounted noexec) and chmod 755 them")
    return None


def failure_of(runner: NativeRunner, report: Any, capture: RunCapture) -> tuple[str, str] | None:
    """(phase, message) when the run failed: the tool's output, its exit status, or a cut-off capture."""
    found = runner.failure(report)
    status = capture.exit_code
    if status is None:
        phase = found[0] if found else "exit"
        return phase, "the run's output was cut off before the runner exited (connection lost or timeout)"
    if status == 0:
        return found
    how = f"killed by {signal_name(capture.signal)}" if capture.signal else f"exited with status {status}"
    if found is None:
        return "exit", f"{runner.module} {how} after its output was complete"
    return found[0], f"{runner.module} {how} in the {found[0]} phase: {found[1]}"


def _memory(runner: NativeRunner, report: Any, capture: RunCapture, interval: float) -> dict:
    memory: dict = {"units": "bytes", "rss_before_load_bytes": None, "rss_after_load_bytes": None,
                    "peak_rss_bytes": capture.peak_hwm_bytes, "peak_pss_bytes": capture.peak_pss_bytes,
                    "peak_rss_source": "VmHWM of the runner, sampled from /proc/PID/status over adb",
                    "samples": capture.samples, "sample_interval_s": interval,
                    "sampled": "VmHWM and PSS (smaps_rollup) read from /proc while the runner ran; "
                               "the last value before exit is the closest to the true peak"}
    memory.update(runner.memory_fields(report))
    return memory


def build_result(*, job: dict, runner: NativeRunner, run: RunSettings, report: Any, capture: RunCapture,
                 device: dict, before: dict, after: dict, argv: list[str], runtime_version: str,
                 sample_interval: float, sha256_verified: bool | None) -> dict:
    """The result record for one timed run of one tower on the phone."""
    failed = failure_of(runner, report, capture)
    state_keys = ("thermal", "governor", "cpufreq", "battery")
    result: dict = {
        "schema": 1,
        "status": "error" if failed else "ok",
        "error": failed[1] if failed else None,
        "phase": failed[0] if failed else "done",
        "agent_version": None,
        "runtime": {"backend": runner.backend, "module": runner.module, "version": runtime_version or None,
                    "version_source": "device profile" if runtime_version else None},
        "platform": {"system": "Android", "machine": (device.get("abilist") or [None])[0],
                     "android": device.get("android_version"), "sdk": device.get("sdk")},
        "device": {key: value for key, value in device.items() if key != "state"},
        "threads": run.threads, "affinity": list(job.get("affinity", [])),
        "protocol": {"warmup_min_runs": run.warmup_min_runs, "warmup_min_seconds": run.warmup_min_seconds,
                     "min_runs": run.min_runs, "min_seconds": run.min_seconds, "max_runs": run.max_runs,
                     "max_seconds": run.max_seconds},
        "sha256_verified": sha256_verified,
        "memory": _memory(runner, report, capture, sample_interval),
        "gallery": None,
        "thermal": {"before": before.get("thermal", {}), "after": after.get("thermal", {}),
                    "governor": after.get("governor") or before.get("governor"), "throttled": None},
        "state": {"before": {k: before.get(k) for k in state_keys}, "after": {k: after.get(k) for k in state_keys}},
        "embeddings": None,
        "accuracy_source": ACCURACY_SOURCE,
        "fidelity": None,
        "protocol_deviations": runner.deviations(run),
        "command": list(argv),
        "exit_code": capture.exit_code,
        "signal": signal_name(capture.signal) if capture.signal else None,
        "raw_output": "runner_output.txt",
    }
    result.update(runner.timing_fields(report, run))
    return result
