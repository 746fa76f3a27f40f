"""The shell programs edge-bench runs on the phone, run for real in Android's shell and tools.

Android's /system/bin/sh is mksh and its tools are toybox; with Debian's `mksh` and
`toybox` installed the scripts run here under exactly those (a PATH holding only
toybox applets), else under /bin/sh. Real processes are measured, killed by real
signals, and missing or non-executable runners fail the way they fail on a phone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edge_bench.android import scripts
from edge_bench.android.elf import parse_elf_header
from edge_bench.android.errors import RunnerMissing, RunnerNotExecutable
from edge_bench.android.result import failure_of, launch_problem
from edge_bench.android.runners import runner_for

FIXTURES = Path(__file__).parent / "fixtures" / "android"


@pytest.fixture(scope="module")
def android_shell(tmp_path_factory) -> tuple[str, dict]:
    """(shell, env): mksh with a PATH of toybox applets when installed, else /bin/sh and the host PATH."""
    mksh, toybox = shutil.which("mksh"), shutil.which("toybox")
    if not (mksh and toybox):
        return "/bin/sh", dict(os.environ)
    bin_dir = tmp_path_factory.mktemp("toybox-bin")
    applets = subprocess.run([toybox], capture_output=True, text=True).stdout.split()
    for applet in applets:
        (bin_dir / applet).symlink_to(toybox)
    (bin_dir / "sh").symlink_to(mksh)
    return mksh, {"PATH": str(bin_dir), "HOME": str(bin_dir)}


def run_script(android_shell, script: str, *args: str) -> str:
    shell, env = android_shell
    proc = subprocess.run([shell, "-c", script, "edge-bench", *args], capture_output=True, text=True, env=env, timeout=60)
    return proc.stdout


def test_measures_a_real_process(android_shell, tmp_path):
    """PSS and VmHWM sampled from /proc while a process holding ~64 MB runs; its stdout comes back."""
    code = "import time; b = bytearray(64 << 20); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.8); print('done')"
    out = run_script(android_shell, scripts.RUN_SCRIPT, str(tmp_path), "timed", "0.1", "", sys.executable, "-c", code)
    capture = scripts.parse_run_capture(out)
    assert capture.exit_code == 0 and capture.signal is None and capture.pid
    assert capture.samples >= 3
    assert capture.peak_hwm_bytes >= 64 << 20
    assert capture.peak_pss_bytes >= 60 << 20
    assert capture.streams["stdout"] == "done"
    assert (tmp_path / "timed.stdout").read_text() == "done\n"


def test_a_crash_keeps_the_partial_output_and_names_the_signal(android_shell, tmp_path):
    partial = FIXTURES / "executor_runner_segfault_partial.txt"
    out = run_script(android_shell, scripts.RUN_SCRIPT, str(tmp_path), "timed", "0.1", "",
                     "sh", "-c", 'cat "$1" >&2; kill -SEGV $$', "runner", str(partial))
    capture = scripts.parse_run_capture(out)
    assert (capture.exit_code, capture.signal) == (139, 11)
    assert launch_problem(capture, "/data/local/tmp/xnn_executor_runner") is None
    runner = runner_for("executorch")
    report = runner.parse(capture.text())
    assert len(report.iterations_ms) == 3
    phase, message = failure_of(runner, report, capture)
    assert phase == "run"
    assert message.startswith("executor_runner killed by SIGSEGV in the run phase")


def test_abort_after_complete_output_is_an_exit_failure(android_shell, tmp_path):
    complete = FIXTURES / "benchmark_model_litert_ok.txt"
    out = run_script(android_shell, scripts.RUN_SCRIPT, str(tmp_path), "timed", "0.1", "",
                     "sh", "-c", 'cat "$1"; kill -ABRT $$', "runner", str(complete))
    capture = scripts.parse_run_capture(out)
    assert capture.exit_code == 134
    runner = runner_for("tflite")
    assert failure_of(runner, runner.parse(capture.text()), capture) == (
        "exit", "benchmark_model killed by SIGABRT after its output was complete")


def test_missing_and_not_executable_runners(android_shell, tmp_path):
    missing = scripts.parse_run_capture(run_script(android_shell, scripts.RUN_SCRIPT, str(tmp_path), "a", "0.1", "",
                                                   str(tmp_path / "benchmark_model")))
    assert missing.exit_code == 127
    assert isinstance(launch_problem(missing, "bm"), RunnerMissing)
    plain = tmp_path / "runner"
    plain.write_bytes((Path("/usr/lib/arch-test/arm64") if Path("/usr/lib/arch-test/arm64").is_file()
                       else Path(shutil.which("true"))).read_bytes())  # an ELF without the x bit
    denied = scripts.parse_run_capture(run_script(android_shell, scripts.RUN_SCRIPT, str(tmp_path), "b", "0.1", "", str(plain)))
    assert denied.exit_code == 126
    problem = launch_problem(denied, str(plain))
    assert isinstance(problem, RunnerNotExecutable) and "noexec" in problem.hint


def test_runner_check_reads_the_elf_header_on_the_device(android_shell, tmp_path):
    arm64 = Path("/usr/lib/arch-test/arm64")
    target = arm64 if arm64.is_file() else Path(shutil.which("true"))
    check = scripts.parse_runner_check(run_script(android_shell, scripts.RUNNER_CHECK_SCRIPT, str(target)))
    assert check.exists and check.executable
    assert parse_elf_header(check.head).abi == ("arm64-v8a" if target == arm64 else "x86_64")
    assert check.taskset and check.taskset.endswith("taskset")
    gone = scripts.parse_runner_check(run_script(android_shell, scripts.RUNNER_CHECK_SCRIPT, str(tmp_path / "x")))
    assert not gone.exists and not gone.executable
    data = tmp_path / "model.tflite"
    data.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(12))
    plain = scripts.parse_runner_check(run_script(android_shell, scripts.RUNNER_CHECK_SCRIPT, str(data)))
    assert plain.exists and not plain.executable and parse_elf_header(plain.head) is None


def test_through_the_adb_transport_quoting(android_shell, tmp_path):
    """The one line AdbTransport hands to `adb shell` (every argv element quoted) runs the script intact."""
    from edge_bench.devices.base import command_script, split_status

    odd_dir = tmp_path / "work dir 'quoted' $HOME"
    argv = ["sh", "-c", scripts.RUN_SCRIPT, "edge-bench", str(odd_dir), "timed", "0.1", "",
            "sh", "-c", 'echo "$1|$2"', "runner", "a b", "$(id)"]
    line = command_script(argv, str(odd_dir), {}, make_workdir=True)
    shell, env = android_shell
    proc = subprocess.run([shell, "-c", line], capture_output=True, env=env, timeout=60)
    status, out, _ = split_status(proc.stdout, proc.stderr)
    assert status == 0
    capture = scripts.parse_run_capture(out.decode())
    assert capture.exit_code == 0 and capture.streams["stdout"] == "a b|$(id)"


def test_state_and_probe_scripts_on_this_linux_host(android_shell):
    """No getprop or dumpsys here: those sections are empty, the sysfs ones are read."""
    from edge_bench.android.device import state_from_sections

    sections = scripts.split_sections(run_script(android_shell, scripts.PROBE_SCRIPT))
    assert set(sections) >= {"getprop", "cpuinfo", "cpufreq", "thermal", "battery", "end"}
    assert "processor" in sections["cpuinfo"]
    state = state_from_sections(sections)
    assert len(state["cpufreq"]) == len(list(Path("/sys/devices/system/cpu").glob("cpu[0-9]*")))
    assert state["battery"] == {}
