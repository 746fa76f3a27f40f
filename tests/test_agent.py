"""The agent as the device runs it: pushed as `edge_bench_agent`, a real subprocess, real runtimes.

Artifacts are the built-in EdgeCLIP-S towers converted for real by the
converters (ExecuTorch XNNPACK .pte and LiteRT .tflite, fp32, batch 1 and a
gallery batch of 4: the run tests' sets, from the session's artifact cache);
inputs are the synthetic set. A small
bootstrap runs the agent with chosen modules made unimportable and records
which module first asked for each top-level package.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from edge_bench.agent import agent_files, agent_root

BOOTSTRAP = textwrap.dedent(
    '''
    import importlib.abc, json, os, runpy, sys
    BLOCKED = set(filter(None, os.environ.get("AGENT_TEST_BLOCK", "").split(",")))
    LOG, FIRST = os.environ.get("AGENT_TEST_IMPORT_LOG"), {}

    def importer():
        frame = sys._getframe(2)
        while frame and ("importlib" in frame.f_code.co_filename or frame.f_code.co_filename == __file__):
            frame = frame.f_back
        return frame.f_globals.get("__name__", "?") if frame else "?"

    class Guard(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if "." not in name and name not in FIRST:
                FIRST[name] = importer()
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
            return None

    sys.meta_path.insert(0, Guard())
    sys.argv = ["edge_bench_agent", *sys.argv[1:]]
    try:
        runpy.run_module("edge_bench_agent", run_name="__main__", alter_sys=True)
    finally:
        if LOG:
            with open(LOG, "w") as f:
                json.dump(FIRST, f)
    '''
)
PROTOCOL = {"warmup_min_runs": 3, "warmup_min_seconds": 0.05, "min_runs": 20, "min_seconds": 0.3,
            "max_runs": 5000, "max_seconds": 20.0}
GALLERY_BATCH = 4
MODEL = "edgeclip-s-scratch"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def pushed(tmp_path_factory) -> Path:
    """The agent copied as a device would hold it: <root>/edge_bench_agent/..., plus the bootstrap."""
    root = tmp_path_factory.mktemp("device")
    for path in agent_files():
        target = root / "edge_bench_agent" / path.relative_to(agent_root())
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    (root / "bootstrap.py").write_text(BOOTSTRAP)
    return root


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    """The model and the synthetic test split: uint8 images and int32 tokens on disk."""
    from edge_bench.data import load_dataset
    from edge_bench.data.preprocess import preprocess_images
    from edge_bench.models import create_model

    model = create_model(MODEL)
    data = load_dataset("synthetic", n_images=10)
    folder = tmp_path_factory.mktemp("inputs")
    np.save(folder / "images.npy", preprocess_images(data, model.preprocess))
    np.save(folder / "tokens.npy", model.tokenizer(data.captions[:14]))
    return model, folder


def run_agent(pushed: Path, job: dict, tmp: Path, block: tuple[str, ...] = (), python: str = sys.executable,
              wait: bool = True):
    """Write the job, run the agent as the device would (cwd = workdir); the completed process and the result."""
    job_path = tmp / f"job-{len(list(tmp.glob('job-*.json')))}.json"
    job_path.write_text(json.dumps(job))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(AGENT_TEST_BLOCK=",".join(block), AGENT_TEST_IMPORT_LOG=str(tmp / "imports.json"))
    argv = [python, str(pushed / "bootstrap.py"), str(job_path)]
    if not wait:
        return subprocess.Popen(argv, cwd=pushed, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc = subprocess.run(argv, cwd=pushed, env=env, capture_output=True, text=True, timeout=600)
    result_path = Path(job["output_dir"]) / "result.json"
    result = json.loads(result_path.read_text()) if result_path.exists() else None
    return proc, result


def make_job(tmp: Path, backend: str, tower: str, artifact: Path, gallery: Path | None, inputs: Path, **over) -> dict:
    """A job spec (docs/agent-protocol.md) over real files."""
    job = {
        "schema": 1, "job_id": f"{backend}-{tower}", "tower": tower, "backend": backend,
        "artifact": {"path": str(artifact), "sha256": _sha(artifact)},
        "gallery": {"path": str(gallery), "sha256": _sha(gallery), "batch": GALLERY_BATCH} if gallery else None,
        "inputs": {"path": str(inputs), "sha256": _sha(inputs),
                   "kind": "uint8_images" if tower == "image" else "int32_tokens",
                   "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]},
        "threads": 1, "affinity": [], "protocol": PROTOCOL, "encode": True,
        "thermal_zones": ["/sys/class/thermal/thermal_zone0/temp"], "output_dir": str(tmp / "out"),
    }
    job.update(over)
    return job


# ---------------------------------------------------------------- failures (no runtime needed)


def _job_with_placeholder(tmp: Path, backend: str, tower: str, inputs: Path, name: str, content: bytes = b"x") -> dict:
    """A job whose artifact is a small file that is not a model (for failures before any load)."""
    artifact = tmp / name
    artifact.write_bytes(content)
    return make_job(tmp, backend, tower, artifact, None, inputs)


def test_sha_mismatch_fails_in_verify_names_the_file_and_loses_nothing(pushed, split, tmp_path):
    _, folder = split
    job = _job_with_placeholder(tmp_path, "tflite", "image", folder / "images.npy", "image-b1.tflite",
                                b"stale artifact bytes")
    artifact = tmp_path / "image-b1.tflite"
    job["artifact"]["sha256"] = hashlib.sha256(b"the artifact the host converted").hexdigest()
    proc, result = run_agent(pushed, job, tmp_path)
    assert proc.returncode == 1
    assert (result["status"], result["phase"]) == ("failed", "verify")
    assert "image-b1.tflite" in result["error"] and "sha256 mismatch" in result["error"]
    assert artifact.read_bytes() == b"stale artifact bytes"  # nothing deleted or touched
    assert result["memory"]["peak_rss_bytes"] > 0 and "after" in result["thermal"]  # what was measured is kept
    assert "load_s" not in result and json.loads(proc.stdout)["status"] == "failed"
    assert "sha256 mismatch" in proc.stderr


def test_truncated_inputs_fail_in_verify(pushed, split, tmp_path):
    _, folder = split
    inputs = tmp_path / "tokens.npy"
    inputs.write_bytes((folder / "tokens.npy").read_bytes()[:-10])
    job = _job_with_placeholder(tmp_path, "executorch", "text", inputs, "text-b1.pte")
    proc, result = run_agent(pushed, job, tmp_path)
    assert proc.returncode == 1 and (result["status"], result["phase"]) == ("failed", "verify")
    assert "truncated" in result["error"] and "tokens.npy" in result["error"]


def test_a_missing_runtime_is_a_clear_load_failure_naming_the_modules(pushed, split, tmp_path):
    _, folder = split
    job = _job_with_placeholder(tmp_path, "tflite", "image", folder / "images.npy", "image-b1.tflite")
    proc, result = run_agent(pushed, job, tmp_path, block=("ai_edge_litert", "tflite_runtime"))
    assert proc.returncode == 1 and (result["status"], result["phase"]) == ("failed", "load")
    assert "no tflite runtime" in result["error"]
    assert "ai_edge_litert.interpreter" in result["error"] and "tflite_runtime.interpreter" in result["error"]


def test_executorch_without_torch_falls_back_to_the_numpy_runtime(pushed, split, tmp_path):
    """With torch gone the pybindings cannot load; next in line is executorch_numpy_runtime (absent on 3.11)."""
    _, folder = split
    job = _job_with_placeholder(tmp_path, "executorch", "image", folder / "images.npy", "image-b1.pte")
    proc, result = run_agent(pushed, job, tmp_path, block=("torch", "edge_bench", "executorch_numpy_runtime"))
    assert (result["status"], result["phase"]) == ("failed", "load")
    assert "executorch.extension.pybindings._C" in result["error"] and "torch" in result["error"]
    assert "executorch_numpy_runtime" in result["error"]


def test_core_ml_off_macos_and_a_stale_gallery_fail_before_any_load(pushed, split, tmp_path):
    _, folder = split
    job = _job_with_placeholder(tmp_path, "coreml", "image", folder / "images.npy", "image-b1.mlpackage")
    proc, result = run_agent(pushed, job, tmp_path)
    assert (result["status"], result["phase"]) == ("failed", "load")
    assert "coremltools (runs only on macOS)" in result["error"]
    gallery = tmp_path / "image-b4.tflite"
    gallery.write_bytes(b"old gallery")
    job = _job_with_placeholder(tmp_path, "tflite", "image", folder / "images.npy", "image-b1.tflite")
    job["gallery"] = {"path": str(gallery), "sha256": _sha(tmp_path / "image-b1.tflite"), "batch": 4}
    proc, result = run_agent(pushed, job, tmp_path)
    assert (result["status"], result["phase"]) == ("failed", "verify") and "gallery artifact" in result["error"]
    assert "runtime" not in result and "load_s" not in result


def test_unreadable_job_and_bad_fields(pushed, split, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "edge_bench_agent", str(tmp_path / "none.json")], cwd=pushed,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "cannot read job" in proc.stderr
    _, folder = split
    job = make_job(tmp_path, "tflite", "image", folder / "images.npy", None, folder / "images.npy", threads=0)
    proc, result = run_agent(pushed, job, tmp_path)
    assert proc.returncode == 1 and result["phase"] == "verify" and "threads" in result["error"]


# ---------------------------------------------------------------- real artifacts, real runtimes

CASES = [
    pytest.param("executorch", "image", id="executorch-image"),
    pytest.param("tflite", "text", id="tflite-text"),
    pytest.param("executorch", "text", id="executorch-text", marks=pytest.mark.slow),
    pytest.param("tflite", "image", id="tflite-image", marks=pytest.mark.slow),
]
RUNTIME = {"executorch": "executorch-pybind", "tflite": "ai-edge-litert"}
ALLOWED = {"executorch": {"numpy", "torch", "executorch"}, "tflite": {"numpy", "ai_edge_litert"}}
"""Third-party packages the agent's own modules may import, per backend."""
BLOCK = {"executorch": ("edge_bench",), "tflite": ("torch", "edge_bench")}


@pytest.fixture(scope="module")
def artifacts(split):
    """(batch-1 artifact, gallery artifact) of a backend and tower: the converters' real fp32 set of the model,
    from the session's artifact cache (the set the run tests convert, so the session converts it once)."""
    from edge_bench.converters import convert

    model, _ = split
    sets = {}  # one cache lookup per backend (each hashes the model's state and the samples)

    def get(backend: str, tower: str) -> tuple[Path, Path]:
        if backend not in sets:
            sets[backend] = convert(model, backend, "fp32", batch_sizes=(1, GALLERY_BATCH))
        return sets[backend].artifact(tower, 1), sets[backend].artifact(tower, GALLERY_BATCH)

    return get


def _reference(model, tower: str, inputs: Path) -> np.ndarray:
    """Eager PyTorch embeddings of the split (the host's own normalisation for images)."""
    import torch

    from edge_bench.data.preprocess import normalize

    data = np.load(inputs)
    with torch.no_grad():
        if tower == "image":
            x = torch.from_numpy(normalize(data, model.preprocess.mean, model.preprocess.std))
            return model.image_encoder(x).numpy()
        return model.text_encoder(torch.from_numpy(data)).numpy()


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def _check_protocol(result: dict) -> None:
    warm, timed, lat = result["warmup"], result["timed"], result["latency_s"]
    assert warm["n"] >= PROTOCOL["warmup_min_runs"] and warm["seconds"] >= PROTOCOL["warmup_min_seconds"]
    assert timed["n"] >= PROTOCOL["min_runs"] and timed["seconds"] >= PROTOCOL["min_seconds"]
    assert timed["capped_by"] is None and timed["complete"] is True
    assert len(lat) == timed["n"] and min(lat) > 0 and sum(lat) <= timed["seconds"]
    assert result["first_inference_s"] > 0 and result["load_s"] > 0  # separate numbers, not samples


def _check_memory(mem: dict) -> None:
    assert mem["units"] == "bytes" and mem["peak_rss_source"] == "VmHWM"
    assert 0 < mem["rss_start_bytes"] <= mem["rss_before_load_bytes"] <= mem["peak_rss_bytes"] < 8 * 2**30
    assert mem["rss_after_load_bytes"] <= mem["peak_rss_bytes"]
    assert mem["peak_rss_after_timed_bytes"] <= mem["peak_rss_bytes"]


def _check_imports(log: dict, backend: str) -> None:
    assert "edge_bench" not in log  # never even attempted
    ours = {name for name, by in log.items() if by.startswith("edge_bench_agent")}
    third_party = ours - set(sys.stdlib_module_names) - {"edge_bench_agent"}
    assert third_party <= ALLOWED[backend], third_party
    if backend == "executorch":  # the pybindings' tensor type, imported by that runtime only
        assert log["torch"] == "edge_bench_agent.runtimes.executorch_rt"
    else:
        assert "torch" not in log


@pytest.mark.parametrize("backend, tower", CASES)
def test_agent_measures_and_encodes_like_eager_pytorch(pushed, split, artifacts, tmp_path, backend, tower):
    model, folder = split
    b1, gallery = artifacts(backend, tower)
    inputs = folder / ("images.npy" if tower == "image" else "tokens.npy")
    proc, result = run_agent(pushed, make_job(tmp_path, backend, tower, b1, gallery, inputs), tmp_path,
                             block=BLOCK[backend])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (result["status"], result["phase"], result["error"]) == ("ok", "done", None)
    assert result["runtime"]["name"] == RUNTIME[backend] and result["runtime"]["threads_applied"] == 1
    assert result["sha256_verified"] is True
    embeddings = np.load(tmp_path / "out" / "embeddings.npy")
    reference = _reference(model, tower, inputs)
    assert embeddings.dtype == np.float32 and embeddings.shape == reference.shape
    assert _cosines(embeddings, reference).min() > 0.999
    _check_protocol(result)
    _check_memory(result["memory"])
    n = len(reference)
    g = result["gallery"]
    assert (g["batch"], g["n_items"], g["n_batches"]) == (GALLERY_BATCH, n, -(-n // GALLERY_BATCH))
    assert len(g["batch_latency_s"]) == g["n_batches"] and g["padded_items"] == g["n_batches"] * GALLERY_BATCH - n
    assert g["wall_s"] >= sum(g["batch_latency_s"]) > 0 and g["items_per_s"] > 0 and g["warmup"]["n"] >= 3
    zone = result["thermal"]["before"]["zone0"]
    assert isinstance(zone, float) or "/sys/class/thermal/thermal_zone0/temp" in result["thermal"]["absent"]
    _check_imports(json.loads((tmp_path / "imports.json").read_text()), backend)


def test_a_killed_job_keeps_what_it_measured(pushed, split, artifacts, tmp_path):
    """SIGTERM in the middle of the timed runs: failed, phase 'timed', earlier figures and samples kept."""
    _, folder = split
    b1, gallery = artifacts("tflite", "text")
    # no run cap within reach: at PROTOCOL's 5000 the text tower's timed loop can end (about 0.1 ms a run)
    # before the SIGTERM comes, which then lands in the gallery's warm-up
    protocol = {**PROTOCOL, "min_seconds": 120.0, "max_seconds": 300.0, "max_runs": 10**9}
    job = make_job(tmp_path, "tflite", "text", b1, gallery, folder / "tokens.npy", protocol=protocol)
    proc = run_agent(pushed, job, tmp_path, wait=False)
    result_path = tmp_path / "out" / "result.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if result_path.exists() and json.loads(result_path.read_text())["phase"] == "timed":
            break
        time.sleep(0.2)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    result = json.loads(result_path.read_text())
    assert proc.returncode == 1, stderr
    assert (result["status"], result["phase"]) == ("failed", "timed") and "signal 15" in result["error"]
    assert result["load_s"] > 0 and result["first_inference_s"] > 0 and result["warmup"]["n"] >= 3
    assert result["timed"]["complete"] is False and len(result["latency_s"]) == result["timed"]["n"] > 0
    assert "embeddings" not in result and result["memory"]["peak_rss_bytes"] > 0


def _numpy_runtime_python() -> str | None:
    """A Python >= 3.12 with numpy and executorch-numpy-runtime: $EDGE_BENCH_NUMPY_RUNTIME_PYTHON, the device venv
    ($EDGE_BENCH_DEVICE_PYTHON, tools/device-venv: CI sets it), else on PATH."""
    found = [os.environ.get("EDGE_BENCH_NUMPY_RUNTIME_PYTHON"), os.environ.get("EDGE_BENCH_DEVICE_PYTHON")]
    found += [shutil.which(name) for name in ("python3.13", "python3.12")]
    for python in filter(None, found):
        probe = subprocess.run([python, "-c", "import numpy, executorch_numpy_runtime"], capture_output=True)
        if probe.returncode == 0:
            return python
    return None


def test_the_numpy_runtime_runs_the_same_pte_without_torch(pushed, split, artifacts, tmp_path):
    """The device path: executorch-numpy-runtime, with torch and the host package unimportable."""
    python = _numpy_runtime_python()
    if python is None:
        pytest.skip("no Python >= 3.12 with executorch-numpy-runtime (set EDGE_BENCH_DEVICE_PYTHON to tools/device-venv's, or EDGE_BENCH_NUMPY_RUNTIME_PYTHON)")
    model, folder = split
    b1, gallery = artifacts("executorch", "image")
    job = make_job(tmp_path, "executorch", "image", b1, gallery, folder / "images.npy")
    proc, result = run_agent(pushed, job, tmp_path, block=("torch", "edge_bench"), python=python)
    assert proc.returncode == 0, proc.stderr[-2000:]
    runtime = result["runtime"]
    assert (runtime["name"], runtime["module"], runtime["threads_applied"]) == (
        "executorch-numpy", "executorch_numpy_runtime", None)
    embeddings = np.load(tmp_path / "out" / "embeddings.npy")
    assert _cosines(embeddings, _reference(model, "image", folder / "images.npy")).min() > 0.999
    _check_protocol(result)
    log = json.loads((tmp_path / "imports.json").read_text())
    assert "torch" not in log and "edge_bench" not in log
