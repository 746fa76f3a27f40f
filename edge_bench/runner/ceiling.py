"""A device's practical compute ceiling per backend and precision, measured with the same runtime.

The ceiling artifact is GEMM-shaped: a batch-1 image (1, 3, 128, 128) seen as a
(96, 512) matrix goes through eight 512x512 matrix products, 403 MFLOP per
inference, nothing else. It is converted once per backend and precision with
the project's own converters (cached), run by the device's executor with a
short protocol, and its achieved GFLOP/s is the ceiling a model's achieved
GFLOP/s is compared against: the same runtime, the same precision, the same
threads. A model that beats its ceiling means the ceiling was measured badly
(a busy device, a cold cache); reports flag it instead of printing a share
above 100%.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np

from edge_bench import paths
from edge_bench.agent.spec import Protocol
from edge_bench.executors.base import ArtifactFile, TowerFailed, TowerRequest

ROWS, WIDTH, LAYERS, SIZE = 96, 512, 8, 128
FLOPS = 2 * ROWS * WIDTH * WIDTH * LAYERS
"""FLOPs of one inference of the ceiling artifact."""
VERSION = 2
"""Bumped when the ceiling artifact or its measurement changes (cached ceilings are then remeasured)."""
PROTOCOL = Protocol(warmup_min_runs=10, warmup_min_seconds=0.3, min_runs=50, min_seconds=0.5, max_runs=2000,
                    max_seconds=5.0)
MEAN, STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)


def _module():
    import torch
    from torch import nn

    class Gemm(nn.Module):
        """Eight 512x512 matrix products on a (96, 512) view of a 128x128 RGB image."""

        def __init__(self) -> None:
            super().__init__()
            gen = torch.Generator().manual_seed(0)
            self.weights = nn.ParameterList(
                [nn.Parameter(torch.randn(WIDTH, WIDTH, generator=gen) / WIDTH ** 0.5) for _ in range(LAYERS)])

        def forward(self, x: "torch.Tensor") -> "torch.Tensor":
            h = x.reshape(ROWS, WIDTH)
            for w in self.weights:
                h = torch.nn.functional.linear(h, w)
            return h.reshape(1, ROWS * WIDTH)

    return Gemm().eval()


def _inputs(n: int = 16) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(n, 3, SIZE, SIZE), dtype=np.uint8)


def folder() -> Path:
    """The measured ceilings, one file per device profile."""
    return paths.cache_dir() / "ceilings"


def artifact_folder() -> Path:
    """The ceiling artifacts and their inputs: a pure function of backend, precision and versions, so a
    cache of its own (processes that measure on different homes can share the conversions)."""
    return paths.cache_dir() / "ceiling-artifacts"


def inputs_file() -> Path:
    path = artifact_folder() / f"gemm-inputs-v{VERSION}.npy"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = paths.partial_path(path)
        np.save(tmp, _inputs())
        tmp.replace(path)
    return path


def artifact(backend: str, precision: str) -> ArtifactFile:
    """The ceiling artifact of a backend at a precision, converted once (cached by backend, precision, version)."""
    from edge_bench.converters import get_converter
    from edge_bench.converters.base import TowerJob
    from edge_bench.converters.pipeline import exclusive
    from edge_bench.data.preprocess import normalize
    from edge_bench.models.weights import file_sha256

    converter = get_converter(backend)
    path = artifact_folder() / f"gemm-{backend}-{precision}-v{VERSION}-s{converter.settings_version}{converter.suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(path):  # two processes asking for one artifact convert it once
        if not path.exists():
            pixels = normalize(_inputs(), MEAN, STD).astype(np.float32)
            calibration = [pixels[i:i + 1] for i in range(len(pixels))] if precision == "int8" else []
            job = TowerJob(tower="image", module=_module(), example=pixels[:1], calibration=calibration,
                           precision=precision)
            tmp = paths.partial_path(path)
            converter.convert(job, tmp)
            tmp.replace(path)
    return ArtifactFile(path, file_sha256(path), 1)


def measure(executor, backend: str, precision: str, threads: int, affinity: tuple[int, ...], local_root: Path,
            cancel: threading.Event) -> dict:
    """Run the ceiling artifact through the device's executor: its achieved GFLOP/s and how it was measured."""
    art = artifact(backend, precision)
    executor.prepare()
    job_id = f"ceiling-{backend}-{precision}-{hashlib.sha256(art.sha256.encode()).hexdigest()[:6]}"
    request = TowerRequest(
        job_id=job_id, tower="image", backend=backend, artifact=art, gallery=None, inputs=inputs_file(),
        input_kind="uint8_images", mean=MEAN, std=STD, threads=threads, affinity=tuple(affinity), protocol=PROTOCOL,
        thermal_zones=(), local_dir=local_root / job_id, flops=FLOPS, encode=False,
        extra={"model": "gemm-ceiling", "precision": precision, "reference": np.zeros((16, 1), np.float32)},
    )
    result = executor.run_tower(request, cancel).result
    return {"gflops": result.achieved_gflops, "median_s": result.latency.median, "n": result.latency.n,
            "flops": FLOPS, "shape": f"{LAYERS} x ({ROWS}x{WIDTH} @ {WIDTH}x{WIDTH})", "threads": threads,
            "runtime": result.runtime.label, "artifact_sha256": art.sha256, "version": VERSION}


def _cache_key(profile, info: dict, backend: str, precision: str, threads: int) -> str:
    cpu = (info.get("cpu") or {}) if isinstance(info.get("cpu"), dict) else {}
    runtimes = info.get("runtimes") or {}
    facts = [profile.name, info.get("machine"), cpu.get("model"), threads, backend, precision, VERSION,
             json.dumps(runtimes, sort_keys=True, default=str)]
    return hashlib.sha256(json.dumps(facts, default=str).encode()).hexdigest()[:16]


def _read_known(cache) -> dict:
    """The device's cached ceilings; an unreadable cache is no cache (the ceilings are measured again)."""
    try:
        known = json.loads(cache.read_text())
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def device_ceilings(run, pairs: list[tuple[str, str]]) -> dict[str, dict]:
    """'backend/precision' -> ceiling for each pair the plan runs, measured once per device and cached.

    A ceiling that cannot be measured (the artifact does not convert or run) is recorded with its reason.
    """
    threads = run.plan.threads or run.profile.threads
    cache = folder() / f"device-{run.profile.name}.json"
    known = _read_known(cache)
    out = {}
    for backend, precision in pairs:
        key = _cache_key(run.profile, run.info, backend, precision, threads)
        if key not in known:
            try:
                known[key] = measure(run.executor, backend, precision, threads, tuple(run.profile.affinity),
                                     run.local_root, run.cancel)
            except (TowerFailed, Exception) as exc:  # noqa: BLE001  (a ceiling that fails must not fail the run)
                one = exc.one_line() if hasattr(exc, "one_line") else f"{type(exc).__name__}: {exc}"
                out[f"{backend}/{precision}"] = {"gflops": None, "error": " ".join(str(one).split())[:300]}
                continue
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = paths.partial_path(cache)
            tmp.write_text(json.dumps(known, indent=1))
            tmp.replace(cache)  # another process reading it sees the old file or the new one, never half of one
        out[f"{backend}/{precision}"] = known[key]
    return out
