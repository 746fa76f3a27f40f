"""The Android profiling pass (#14): executor_runner --etdump_path and benchmark_model --enable_op_profiling,
built from the job, read back on the host, and the whole path against the real adb client up to "no device attached"."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from edge_bench.agent.spec import Protocol
from edge_bench.android.commands import RunSettings
from edge_bench.android.runners import runner_for
from edge_bench.executors.base import ArtifactFile, TowerRequest
from edge_bench.profile.build import from_agent

FIXTURES = Path(__file__).parent / "fixtures" / "benchmark_model"
needs_adb = pytest.mark.skipif(shutil.which("adb") is None, reason="the adb client is not installed")
RUN = RunSettings(model="/data/local/tmp/eb/m", threads=4, warmup_min_runs=1, warmup_min_seconds=0.0, min_runs=20, min_seconds=0.0,
                  max_runs=2000, max_seconds=30.0)


def test_profiling_pass_command_lines():
    et = runner_for("executorch")
    argv = et.argv("/data/local/tmp/eb/executor_runner", replace(RUN, extra_args=tuple(et.profile_args("/d/runs/j/image/profile.etdp"))))
    assert "--etdump_path=/d/runs/j/image/profile.etdp" in argv and "--num_executions=22" in argv
    tfl = runner_for("tflite")
    argv = tfl.argv("/data/local/tmp/eb/benchmark_model", replace(RUN, extra_args=tuple(tfl.profile_args("/d/op.csv"))))
    assert argv[-3:] == ["--enable_op_profiling=true", "--op_profiling_output_mode=csv", "--op_profiling_output_file=/d/op.csv"]
    assert (et.profile_source, tfl.profile_source) == ("etdump", "benchmark_model")


def test_a_pulled_benchmark_model_csv_becomes_the_towers_profile(tmp_path):
    shutil.copy(FIXTURES / "op_profile.csv", tmp_path / "profile.csv")
    p = from_agent({"status": "ok", "source": "benchmark_model", "file": "profile.csv", "runs": 120, "wall_s": 0.5},
                   tmp_path, tmp_path / "image-b1.tflite", "image", timed_median_s=0.0011, job_wall_s=5.0)
    assert p.status == "ok" and p.source == "benchmark_model" and p.runs == 120
    assert p.delegate_calls == 2 and p.coverage == pytest.approx(1.05 / 1.1)
    assert p.block("attention").outside_delegate_ms == pytest.approx(0.13) and p.overhead_share == pytest.approx(0.1)


def _request(tmp_path: Path, profile: int) -> TowerRequest:
    art = tmp_path / "set" / "image-b1.tflite"
    art.parent.mkdir()
    art.write_bytes(b"TFL3")
    inputs = tmp_path / "x.npy"
    np.save(inputs, np.zeros((2, 3, 8, 8), np.uint8))
    return TowerRequest(job_id="j1", tower="image", backend="tflite", artifact=ArtifactFile(art, "0" * 64, 1), gallery=None,
                        inputs=inputs, input_kind="uint8_images", mean=(0.5,) * 3, std=(0.25,) * 3, threads=4, affinity=(),
                        protocol=Protocol(), thermal_zones=(), local_dir=tmp_path / "j1" / "image", profile=profile)


def test_the_native_job_asks_for_the_profiling_pass(tmp_path):
    from edge_bench.executors.native import NativeExecutor

    executor = NativeExecutor(None, None, tmp_path)
    assert executor.job_dict(_request(tmp_path, 25), tmp_path / "android")["profile"] == 25


@needs_adb
def test_profiling_on_android_reaches_no_device_attached(tmp_path):
    from edge_bench.devices import ConnectionFailed, open_transport, read_profile
    from edge_bench.executors.native import NativeExecutor

    path = tmp_path / "phone.toml"
    path.write_text(f'name = "phone"\ntransport = "adb"\npython = ""\nthreads = 4\nbackends = ["tflite"]\n\n'
                    f'[android.runners.tflite]\nhost_path = "{shutil.which("true")}"\n')
    profile = read_profile(path)
    import threading

    with open_transport(profile) as transport, pytest.raises(ConnectionFailed) as caught:
        NativeExecutor(transport, profile, tmp_path, fingerprint={"abilist": ["arm64-v8a"]}).run_tower(_request(tmp_path, 20), threading.Event())
    assert caught.value.reason == "no-device" and caught.value.one_line().startswith("no Android device attached")
