"""Exact runner command lines, the ABI check on real ELF files, and the `[android]` profile table."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest

from edge_bench.android.commands import (
    InputFile,
    RunSettings,
    benchmark_model_argv,
    executor_runner_argv,
    taskset_mask,
    with_affinity,
)
from edge_bench.android.elf import check_abi, parse_elf_header, parse_od_bytes, read_elf
from edge_bench.android.errors import AbiMismatch, RunnerMissing
from edge_bench.android.runners import available_backends, runner_for
from edge_bench.android.settings import settings_from_table
from edge_bench.errors import ConfigError

# Tiny real ELF programs for many CPUs, shipped by Debian's arch-test (pulled in by debootstrap).
ARCH_TEST = Path("/usr/lib/arch-test")

RUN = RunSettings(
    model="/data/local/tmp/edge-bench/artifacts/set/image-b1.tflite", threads=4,
    warmup_min_runs=10, warmup_min_seconds=1.0, min_runs=50, min_seconds=1.0, max_runs=2000, max_seconds=30.0,
    inputs=(InputFile("serving_default_args_0:0", (1, 3, 64, 64), "/data/local/tmp/edge-bench/runs/j/inputs/item-0.bin"),),
)


def test_benchmark_model_argv_exact():
    assert benchmark_model_argv("/data/local/tmp/edge-bench/bin/benchmark_model", RUN) == [
        "/data/local/tmp/edge-bench/bin/benchmark_model",
        "--graph=/data/local/tmp/edge-bench/artifacts/set/image-b1.tflite",
        "--num_threads=4",
        "--warmup_runs=10",
        "--warmup_min_secs=1",
        "--num_runs=50",
        "--min_secs=1",
        "--max_secs=30",
        "--report_peak_memory_footprint=true",
        "--input_layer=serving_default_args_0:0",  # as written: benchmark_model compares it with the tensor name
        "--input_layer_shape=1,3,64,64",
        "--input_layer_value_files=serving_default_args_0::0:/data/local/tmp/edge-bench/runs/j/inputs/item-0.bin",
    ]


def test_benchmark_model_argv_fidelity_run():
    run = RunSettings(model="m.tflite", threads=1, warmup_min_runs=0, warmup_min_seconds=0.0, min_runs=1,
                      min_seconds=0.0, max_runs=1, max_seconds=60.0, output_base="/d/out/item-0",
                      report_peak_memory=False, extra_args=("--use_xnnpack=true",))
    assert benchmark_model_argv("bm", run) == [
        "bm", "--graph=m.tflite", "--num_threads=1", "--warmup_runs=0", "--warmup_min_secs=0", "--num_runs=1",
        "--min_secs=0", "--max_secs=60", "--output_filepath=/d/out/item-0", "--use_xnnpack=true"]


def test_executor_runner_argv_exact():
    run = RunSettings(model="/p/image-b1.pte", threads=2, warmup_min_runs=10, warmup_min_seconds=1.0, min_runs=50,
                      min_seconds=1.0, max_runs=20, max_seconds=30.0,
                      inputs=(InputFile("x", (1, 3, 64, 64), "/p/in/item-0.bin"),), output_base="/p/out/item-0")
    assert executor_runner_argv("/p/bin/xnn_executor_runner", run) == [
        "/p/bin/xnn_executor_runner", "--model_path=/p/image-b1.pte", "--num_executions=31", "--cpu_threads=2",
        "--inputs=/p/in/item-0.bin", "--output_file=/p/out/item-0"]


def test_taskset_masks():
    assert taskset_mask([4, 5, 6, 7]) == "f0"
    assert taskset_mask([8]) == "100"
    assert taskset_mask([0, 2]) == "5"
    with pytest.raises(ConfigError):
        taskset_mask([-1])
    argv = ["/p/bin/benchmark_model", "--graph=m"]
    assert with_affinity(argv, [4, 5, 6, 7], "/system/bin/taskset") == ["/system/bin/taskset", "f0", *argv]
    assert with_affinity(argv, [4], None) == argv
    assert with_affinity(argv, [], "/system/bin/taskset") == argv


def test_argv_survives_the_shell_quoting_verbatim():
    """What the transport does with argv (shlex.quote each) gives every argument back unchanged."""
    odd = RunSettings(model="/d/my model's 'set'/m.tflite", threads=1, warmup_min_runs=1, warmup_min_seconds=0.5,
                      min_runs=1, min_seconds=0.5, max_runs=1, max_seconds=1.0,
                      inputs=(InputFile("in$put", (1, 4), "/d/in;rm -rf x/$(id).bin"),))
    argv = benchmark_model_argv("/d/bin/benchmark model", odd)
    line = " ".join(shlex.quote(arg) for arg in argv)
    assert shlex.split(line) == argv


def test_comma_in_names_is_refused():
    bad = RunSettings(model="m", threads=1, warmup_min_runs=0, warmup_min_seconds=0, min_runs=1, min_seconds=0,
                      max_runs=1, max_seconds=1, inputs=(InputFile("a,b", (1,), "/x"),))
    with pytest.raises(ConfigError):
        benchmark_model_argv("bm", bad)


def test_runner_registry():
    assert available_backends() == ["executorch", "tflite"]
    assert runner_for("tflite").module == "benchmark_model" and runner_for("tflite").time_based
    assert runner_for("executorch").module == "executor_runner" and runner_for("executorch").per_run_samples
    with pytest.raises(ConfigError) as caught:
        runner_for("coreml")
    assert "Core ML needs an Apple device" in caught.value.hint


# --- ELF / ABI ----------------------------------------------------------------------------


def test_x86_64_binary_against_an_arm64_phone():
    info = read_elf(Path(shutil.which("true")))
    assert info.abi == "x86_64" and info.bits == 64
    with pytest.raises(AbiMismatch) as caught:
        check_abi(info, ["arm64-v8a"], "the tflite runner /usr/bin/true")
    assert "built for ELF 64-bit x86-64 (x86_64), but the phone runs arm64-v8a" in caught.value.message
    assert "arm64-v8a" in caught.value.hint


@pytest.mark.skipif(not (ARCH_TEST / "arm64").is_file(), reason="Debian's arch-test is not installed")
def test_real_arm_binaries():
    arm64 = read_elf(ARCH_TEST / "arm64")
    assert arm64.abi == "arm64-v8a"
    check_abi(arm64, ["arm64-v8a"], "runner")  # passes
    armhf = read_elf(ARCH_TEST / "armhf")
    assert armhf.abi == "armeabi-v7a"
    check_abi(armhf, ["arm64-v8a", "armeabi-v7a", "armeabi"], "runner")  # a phone with 32-bit support runs it
    with pytest.raises(AbiMismatch, match="ELF 32-bit ARM"):
        check_abi(armhf, ["arm64-v8a"], "runner")  # a 64-bit-only phone (Pixel 8) does not
    ilp32 = read_elf(ARCH_TEST / "arm64ilp32")
    assert ilp32.machine == 183 and ilp32.bits == 32 and ilp32.abi is None
    s390x = read_elf(ARCH_TEST / "s390x")
    assert not s390x.little_endian and s390x.abi is None


def test_not_elf_and_missing(tmp_path):
    script = tmp_path / "runner.sh"
    script.write_text("#!/system/bin/sh\nexec ./benchmark_model \"$@\"\n")
    assert read_elf(script) is None
    check_abi(None, ["arm64-v8a"], "a wrapper script")  # left to the phone's shell
    with pytest.raises(RunnerMissing):
        read_elf(tmp_path / "nope")


def test_od_output_of_the_phone():
    head = parse_od_bytes(" 7f 45 4c 46 02 01 01 00 00 00 00 00 00 00 00 00\n 03 00 b7 00\n")
    assert parse_elf_header(head).abi == "arm64-v8a"
    assert parse_elf_header(b"#!/bin/sh\n") is None


# --- the [android] table ------------------------------------------------------------------


def test_settings_from_table():
    settings = settings_from_table({
        "sample_interval_s": 0.25, "fidelity_samples": 4,
        "runners": {"tflite": {"host_path": "~/bm", "version": "2.3.0"},
                    "executorch": {"device_path": "/data/local/tmp/xnn_executor_runner", "extra_args": ["--a=1"]}},
    }, workdir="/data/local/tmp/eb")
    assert settings.workdir == "/data/local/tmp/eb" and settings.sample_interval_s == 0.25
    assert settings.runner("tflite").host_path == "~/bm" and settings.runner("tflite").version == "2.3.0"
    assert settings.runner("executorch").extra_args == ("--a=1",)


@pytest.mark.parametrize("table, message", [
    ({"sampel_interval_s": 1}, "unknown key 'sampel_interval_s'"),
    ({"use_taskset": "yes"}, "must be a bool"),
    ({"runners": {"tflite": {"path": "x"}}}, "unknown key"),
    ({"runners": {"tflite": {"extra_args": "--x"}}}, "list of strings"),
])
def test_settings_errors(table, message):
    with pytest.raises(ConfigError, match=message):
        settings_from_table(table)


def test_missing_runner_says_which_table_to_add():
    with pytest.raises(ConfigError) as caught:
        settings_from_table({}).runner("executorch")
    assert "[android.runners.executorch]" in caught.value.hint
