"""The Android job: result records from runner output, and the whole path against the real adb client.

No phone is attached here, so the whole path runs up to the point where the real
`adb` reports no device, and the user's error is asserted at the entry point and
at the CLI. The mapping from runner output to the agent's result keys is checked
on the fixtures of both runners' real output formats.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edge_bench.android.commands import RunSettings
from edge_bench.android.result import ACCURACY_SOURCE, build_result
from edge_bench.android.runners import runner_for
from edge_bench.android.scripts import RunCapture
from edge_bench.android.tensors import TensorSpec, cosine_fidelity, model_input, read_raw_output, write_raw

FIXTURES = Path(__file__).parent / "fixtures" / "android"
ARM64 = Path("/usr/lib/arch-test/arm64")
needs_adb = pytest.mark.skipif(shutil.which("adb") is None, reason="the adb client is not installed")

RUN = RunSettings(model="/d/m", threads=4, warmup_min_runs=2, warmup_min_seconds=1.0, min_runs=5, min_seconds=1.0,
                  max_runs=2000, max_seconds=30.0)
DEVICE = {"model": "Pixel 8", "soc": "Google Tensor G3", "android_version": "14", "sdk": "34", "abilist": ["arm64-v8a"]}
BEFORE = {"thermal": {"BIG": 41.0}, "governor": "sched_pixel", "cpufreq": {}, "battery": {"level_pct": 80.0}}
AFTER = {"thermal": {"BIG": 47.5}, "governor": "sched_pixel", "cpufreq": {}, "battery": {"level_pct": 79.0}}


def result_for(backend: str, fixture: str, capture: RunCapture, run: RunSettings = RUN) -> dict:
    runner = runner_for(backend)
    report = runner.parse((FIXTURES / fixture).read_text())
    return build_result(job={"affinity": [4, 5, 6, 7]}, runner=runner, run=run, report=report, capture=capture,
                        device=DEVICE, before=BEFORE, after=AFTER, argv=["bm"], runtime_version="2.3.0",
                        sample_interval=0.5, sha256_verified=True)


def test_benchmark_model_result_keeps_the_tools_statistics_and_no_invented_samples():
    capture = RunCapture(exit_code=0, peak_pss_bytes=25 << 20, peak_hwm_bytes=28 << 20, samples=12)
    result = result_for("tflite", "benchmark_model_litert_ok.txt", capture)
    assert (result["status"], result["phase"], result["error"]) == ("ok", "done", None)
    assert result["runtime"] == {"backend": "tflite", "module": "benchmark_model", "version": "2.3.0", "version_source": "device profile"}
    assert result["load_s"] == pytest.approx(0.041277) and result["first_inference_s"] == pytest.approx(0.007921)
    assert result["warmup"] == {"n": 221, "seconds": pytest.approx(221 * 4524.65e-6)}
    assert result["latency_s"] == []
    stats = result["latency_stats_from_tool"]
    assert stats["n"] == 233 and stats["mean"] == pytest.approx(4.29118e-3) and stats["median"] == pytest.approx(4.251e-3)
    assert stats["std_kind"] == "population" and "does not print per-run samples" in stats["source"]
    assert result["memory"]["peak_pss_bytes"] == 25 << 20 and result["memory"]["peak_rss_bytes"] == 28 << 20
    assert result["memory"]["tool_peak_footprint_bytes"] == round(27.8828 * (1 << 20))
    assert result["thermal"] == {"before": {"BIG": 41.0}, "after": {"BIG": 47.5}, "governor": "sched_pixel", "throttled": None}
    assert result["state"]["after"]["battery"] == {"level_pct": 79.0}
    assert result["accuracy_source"] == ACCURACY_SOURCE == "host-computed from the device's artifact"
    assert result["affinity"] == [4, 5, 6, 7] and result["platform"]["machine"] == "arm64-v8a"
    json.dumps(result)  # a plain JSON record


def test_executor_runner_result_splits_first_warmup_and_timed_samples():
    run = RunSettings(model="/d/m", threads=4, warmup_min_runs=2, warmup_min_seconds=1.0, min_runs=5,
                      min_seconds=1.0, max_runs=5, max_seconds=30.0)
    result = result_for("executorch", "executor_runner_posix_iterations.txt", RunCapture(exit_code=0), run)
    assert result["status"] == "ok"
    assert result["first_inference_s"] == pytest.approx(8.102385e-3)
    assert result["warmup"] == {"n": 2, "seconds": pytest.approx((4.402210 + 4.251977) * 1e-3)}
    assert result["latency_s"] == pytest.approx([4.270014e-3, 4.225561e-3, 4.232809e-3, 4.326540e-3, 4.224802e-3])
    assert "latency_stats_from_tool" not in result
    assert result["load_s"] == pytest.approx(35.446812e-3)
    assert result["memory"]["planned_buffer_bytes"] == 1204224
    assert any("fixed count" in note for note in result["protocol_deviations"])


def test_older_executor_runner_gives_only_a_total():
    result = result_for("executorch", "executor_runner_arm_learning_path.txt", RunCapture(exit_code=0))
    assert result["latency_s"] == [] and result["first_inference_s"] is None and result["load_s"] is None
    assert result["latency_stats_from_tool"]["mean"] == pytest.approx(2.904883e-3)
    assert result["latency_stats_from_tool"]["includes_first_and_warmup"] is True


@pytest.mark.parametrize("backend, fixture, capture, phase, words", [
    ("tflite", "benchmark_model_segfault_partial.txt", RunCapture(exit_code=139), "warmup", "killed by SIGSEGV in the warmup phase"),
    ("tflite", "benchmark_model_delegate_failed.txt", RunCapture(exit_code=1), "init", "Failed to apply GPU delegate."),
    ("tflite", "benchmark_model_litert_ok.txt", RunCapture(exit_code=None), "exit", "cut off"),
    ("executorch", "executor_runner_method_load_abort.txt", RunCapture(exit_code=134), "init", "ExecuTorch error OperatorMissing"),
    ("executorch", "executor_runner_parse_failed.txt", RunCapture(exit_code=1), "load", "Failed to parse model file"),
])
def test_failed_runs_are_error_records_with_the_phase(backend, fixture, capture, phase, words):
    result = result_for(backend, fixture, capture)
    assert result["status"] == "error" and result["phase"] == phase
    assert words in result["error"]


def test_partial_figures_survive_a_crash():
    result = result_for("executorch", "executor_runner_segfault_partial.txt", RunCapture(exit_code=139))
    assert result["status"] == "error" and result["signal"] == "SIGSEGV"
    assert result["first_inference_s"] == pytest.approx(8.030412e-3) and result["load_s"] == pytest.approx(0.03548512)


# --- tensors in and out -------------------------------------------------------------------


def test_raw_tensors_round_trip_and_size_check(tmp_path):
    from edge_bench.data.preprocess import normalize

    u8 = np.random.default_rng(0).integers(0, 256, (1, 3, 8, 8), dtype=np.uint8)
    tensor = model_input(u8, "uint8_images", [0.5, 0.4, 0.3], [0.2, 0.25, 0.3])
    assert tensor.dtype == np.float32 and np.array_equal(tensor, normalize(u8, [0.5, 0.4, 0.3], [0.2, 0.25, 0.3]))
    spec = TensorSpec("x", (1, 3, 8, 8), "float32")
    path = write_raw(tensor, tmp_path / "in.bin", spec)
    assert path.stat().st_size == spec.nbytes == 768
    assert np.array_equal(read_raw_output(path, spec), tensor)
    from edge_bench.errors import JobError
    with pytest.raises(JobError, match="would be 1536 bytes"):
        write_raw(np.concatenate([tensor, tensor]), tmp_path / "two.bin", spec)
    tokens = model_input(np.arange(8, dtype=np.int64).reshape(1, 8), "int32_tokens", None, None)
    assert tokens.dtype == np.int32


def test_cosine_fidelity_against_a_naive_reference():
    rng = np.random.default_rng(1)
    host = rng.normal(size=(5, 16)).astype(np.float32)
    device = host + rng.normal(scale=1e-3, size=host.shape).astype(np.float32)
    figures = cosine_fidelity(device, host)
    naive = [float(np.dot(d, h) / (np.linalg.norm(d) * np.linalg.norm(h))) for d, h in zip(device.astype(np.float64), host.astype(np.float64))]
    assert figures["cosine"] == pytest.approx(naive)
    assert figures["cosine_min"] == pytest.approx(min(naive)) and figures["n"] == 5
    assert figures["max_abs_diff"] == pytest.approx(float(np.abs(device - host).max()))


# --- the whole path against the real adb client ---------------------------------------------


def adb_profile(tmp_path: Path, serial: str = "") -> Path:
    runner = ARM64 if ARM64.is_file() else Path(shutil.which("true"))
    path = tmp_path / "phone.toml"
    path.write_text(f'''name = "phone"
transport = "adb"
python = ""
threads = 4
backends = ["tflite"]

[adb]
serial = "{serial}"

[android.runners.tflite]
host_path = "{runner}"
''')
    return path


def job_spec() -> dict:
    return {"schema": 1, "job_id": "j1", "tower": "image", "backend": "tflite",
            "artifact": {"path": "artifacts/set/image-b1.tflite", "sha256": "0" * 64},
            "inputs": {"path": "inputs/x.npy", "kind": "uint8_images", "mean": [0.5] * 3, "std": [0.25] * 3},
            "threads": 4, "affinity": [], "protocol": {}, "encode": True, "output_dir": "runs/j1/image"}


@needs_adb
def test_no_phone_attached_through_the_real_adb(tmp_path):
    from edge_bench.android import run_android_job
    from edge_bench.devices import ConnectionFailed, open_transport, read_profile

    profile = read_profile(adb_profile(tmp_path))
    events = []
    with open_transport(profile) as transport, pytest.raises(ConnectionFailed) as caught:
        run_android_job(transport, profile, job_spec(), tmp_path, on_event=lambda stage, details: events.append(stage))
    assert caught.value.reason == "no-device"
    assert caught.value.one_line().startswith("no Android device attached")
    assert events == ["connect"]
    assert not (tmp_path / "runs").exists()


@needs_adb
def test_a_named_serial_that_is_not_attached(tmp_path):
    from edge_bench.android import run_android_job
    from edge_bench.devices import ConnectionFailed, open_transport, read_profile

    profile = read_profile(adb_profile(tmp_path, serial="R5CT1234XYZ"))
    with open_transport(profile) as transport, pytest.raises(ConnectionFailed) as caught:
        run_android_job(transport, profile, job_spec(), tmp_path)
    assert "Android device R5CT1234XYZ is not attached" in caught.value.message


@needs_adb
def test_cli_android_check_without_a_phone(tmp_path, isolated_home):
    devices = isolated_home / "config" / "devices"
    devices.mkdir(parents=True)
    shutil.copy(adb_profile(tmp_path), devices / "phone.toml")
    proc = subprocess.run([sys.executable, "-c", "import sys; from edge_bench.cli import main; sys.exit(main())",
                           "android", "check", "phone"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.startswith("edge-bench: error: no Android device attached (adb devices lists none)")


@pytest.mark.parametrize("sha256", [None, ""])
def test_an_artifact_without_a_sha256_is_refused_before_the_phone_is_touched(tmp_path, sha256):
    from types import SimpleNamespace

    from edge_bench.android.job import _push_artifact
    from edge_bench.errors import JobError

    class Untouchable:
        workdir = "/data/local/tmp/edge-bench"

        def __getattr__(self, name):
            raise AssertionError(f"the phone was used ({name}) for an unverifiable artifact")

    (tmp_path / "image-b1.tflite").write_bytes(b"tflite")
    ctx = SimpleNamespace(local_root=tmp_path, device=Untouchable(), emit=lambda *a: None)
    with pytest.raises(JobError, match="no sha256 for image-b1.tflite: nothing runs unverified"):
        _push_artifact(ctx, {"path": "image-b1.tflite", "sha256": sha256})
