"""The measured compute ceiling on the local device, with the real runtimes: the GEMM-shaped artifact converted
by our converters for ExecuTorch and TFLite fp32, run by the real AgentExecutor, its GFLOP/s exactly
FLOPS / median; its output against eager PyTorch; the per-device cache; a model above its ceiling flagged in
the report; `devices info local --ceilings`.

Conversions and ceilings are cached in the session's home (tests/conftest.py), so they are made once per run.
"""

from __future__ import annotations

import re
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from edge_bench.devices import load_profile, open_transport
from edge_bench.executors.choose import executor_for
from edge_bench.records.tower import LatencyStats, TowerResult, figures
from edge_bench.runner import ceiling
from edge_bench.runner.device_run import default_local_root

# one pytest-xdist worker runs the whole file: its module fixture measures the real ceilings once
pytestmark = pytest.mark.xdist_group("test_ceiling")

PAIRS = [("executorch", "fp32"), ("tflite", "fp32")]


class CountingExecutor:
    """The real executor, with its run_tower calls counted (everything else passes through)."""

    def __init__(self, real) -> None:
        self.real, self.runs = real, []

    def run_tower(self, request, cancel):
        self.runs.append((request.backend, request.extra.get("precision")))
        return self.real.run_tower(request, cancel)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture(scope="module")
def local_device(session_home):
    """The shipped `local` profile, its open transport and fingerprint, the real executor (counted)."""
    assert str(ceiling.folder()).startswith(str(session_home))  # caches go to the session's home, never the user's
    profile = load_profile("local")
    with open_transport(profile) as transport:
        info = transport.info()
        executor = CountingExecutor(executor_for(profile, transport, default_local_root()))
        assert type(executor.real).__name__ == "AgentExecutor"
        run = SimpleNamespace(profile=profile, transport=transport, info=info, plan=SimpleNamespace(threads=None),
                              executor=executor, local_root=default_local_root(), cancel=threading.Event())
        yield run


@pytest.fixture(scope="module")
def measured(local_device):
    """device_ceilings for fp32 on both backends, twice: (first, second, run_tower calls after each)."""
    cache = ceiling.folder() / f"device-{local_device.profile.name}.json"
    cache.unlink(missing_ok=True)  # this session's cache only: the first call must measure
    first = ceiling.device_ceilings(local_device, PAIRS)
    after_first = list(local_device.executor.runs)
    second = ceiling.device_ceilings(local_device, PAIRS)
    return first, second, after_first, list(local_device.executor.runs)


def test_flops_of_the_ceiling_artifact():
    assert ceiling.FLOPS == 2 * 96 * 512 * 512 * 8 == 402_653_184


@pytest.mark.parametrize("key", [f"{b}/{p}" for b, p in PAIRS])
def test_ceiling_is_measured_by_the_real_runtime(measured, key):
    first, _, _, _ = measured
    c = first[key]
    assert "error" not in c, c
    assert c["flops"] == ceiling.FLOPS == 2 * 96 * 512 * 512 * 8
    assert c["median_s"] > 0 and c["gflops"] > 0
    assert c["gflops"] == ceiling.FLOPS / c["median_s"] / 1e9  # exactly: achieved = FLOPs / median
    assert c["n"] >= ceiling.PROTOCOL.min_runs
    assert c["threads"] == load_profile("local").threads
    assert c["shape"] == "8 x (96x512 @ 512x512)" and c["version"] == ceiling.VERSION
    runtimes = {"executorch": ("executorch-pybind", "executorch-numpy"), "tflite": ("ai-edge-litert", "tflite-runtime")}
    assert c["runtime"].startswith(runtimes[key.split("/")[0]]), c["runtime"]
    assert c["artifact_sha256"] == ceiling.artifact(*key.split("/")).sha256


def test_device_ceilings_are_cached_per_device(measured):
    first, second, after_first, after_second = measured
    assert sorted(after_first) == sorted(PAIRS)  # one run per pair the first time
    assert after_second == after_first  # none the second time
    assert second == first


def _eager(pixels: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return ceiling._module()(torch.from_numpy(pixels)).numpy()


@pytest.mark.parametrize("backend", ["executorch", "tflite"])
def test_ceiling_artifact_matches_eager_pytorch(backend):
    from edge_bench.converters import load_artifact
    from edge_bench.data.preprocess import normalize

    art = ceiling.artifact(backend, "fp32")
    pixels = normalize(ceiling._inputs(), ceiling.MEAN, ceiling.STD).astype(np.float32)
    runner = load_artifact(art.path, backend)
    for i in (0, 7, 15):
        x = pixels[i:i + 1]
        got, want = np.asarray(runner(x)), _eager(x)
        assert got.shape == want.shape == (1, ceiling.ROWS * ceiling.WIDTH)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
        cos = float(got.ravel() @ want.ravel() / np.linalg.norm(got) / np.linalg.norm(want))
        assert cos > 0.999999


def _tower(achieved: float, ceil: float) -> TowerResult:
    return TowerResult(latency=LatencyStats.of([0.01, 0.011, 0.012]), flops=achieved * 1e9 * 0.011,
                       achieved_gflops=achieved, ceiling_gflops=ceil)


def _entry(name: str, image: TowerResult):
    from edge_bench.report.entries import tower_figures
    from edge_bench.report.model import JobEntry

    return JobEntry(job_id=name, run_id="r", finished=None, model=name, backend="tflite", precision="fp32",
                    dataset="synthetic", n_images=10, n_captions=50, threads=2,
                    towers={"image": tower_figures(image, None)}, recall={}, reference_recall={}, recall_label="trained",
                    recall_source="device embeddings", fidelity={}, verdict="not checked", verdict_message=None,
                    provenance={})


def test_a_model_above_its_ceiling_flags_the_ceiling():
    from edge_bench.report.model import DeviceReport
    from edge_bench.report.tables import resources_table

    above, below = _tower(achieved=50.0, ceil=40.0), _tower(achieved=10.0, ceil=40.0)
    assert above.ceiling_share == 1.25 and above.ceiling_error
    assert below.ceiling_share == 0.25 and not below.ceiling_error
    fa, fb = figures(above), figures(below)
    assert (fa["ceiling_gflop_per_s"], fa["ceiling_share"], fa["ceiling_error"]) == (40.0, None, True)
    assert (fb["ceiling_gflop_per_s"], fb["ceiling_share"], fb["ceiling_error"]) == (40.0, 0.25, False)
    assert figures(TowerResult(achieved_gflops=5.0))["ceiling_error"] is None  # no ceiling: neither flag nor share

    report = DeviceReport(device="local", description="", peak_gflop_per_s=156.8, peak_derivation="", fingerprint={},
                          selection="", runs=[], entries=[_entry("beats-it", above), _entry("under-it", below)],
                          problems=[])
    table = resources_table(report)
    col = table.columns.index("img %ceil")
    cells = {row[0]: row for row in table.rows}
    assert cells["beats-it tflite fp32"][col] == "ceiling?"
    assert cells["under-it tflite fp32"][col] == "25.0"
    assert cells["beats-it tflite fp32"][table.columns.index("txt %ceil")] != "ceiling?"  # no text tower
    assert "'ceiling?'" in table.caption


def test_devices_info_ceilings_cli(measured, capsys, monkeypatch):
    from edge_bench.cli import main

    monkeypatch.setenv("COLUMNS", "250")
    first, _, _, runs_before = measured
    code = main(["devices", "info", "local", "--ceilings", "--precisions", "fp32"])
    out, err = capsys.readouterr()
    assert code == 0, err
    for key in ("executorch/fp32", "tflite/fp32"):
        line = next((line for line in out.splitlines() if f"ceiling {key}" in line), None)
        assert line is not None, out
        shown = re.search(r"([\d.]+) GFLOP/s measured", line)
        assert shown, line
        # the same cache as device_ceilings: the value measured above, not a new measurement
        assert shown.group(1) == f"{first[key]['gflops']:.1f}", (line, first[key])
    assert not re.search(r"ceiling \w+/int8", out)  # only the precisions asked for
