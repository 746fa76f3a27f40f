"""A scripted executor: a device that answers from a script, for tests of everything but the runtimes.

As hyperfine tests its scheduler with a mock executor, the tests of planning,
storing, resuming, cancelling, reporting and the TUI run jobs here: no
conversion, no agent, no timing noise. Latencies come from the script
(deterministic samples around a median), embeddings are the fp32 reference
with a precision-dependent, seeded perturbation, failures happen where the
script says. Tests about a real runtime or a real transport never use it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar

import numpy as np

from edge_bench.executors.base import TowerFailed, TowerOutcome, TowerRequest
from edge_bench.executors.results import tower_result

Key = tuple[str, str, str, str]
"""(model, backend, precision, tower)."""
NOISE = {"fp32": 0.0, "fp16": 0.002, "int8": 0.03, "int8-dynamic": 0.01}
"""Embedding perturbation per precision (relative), so fidelity and recall differ as they would."""


@dataclass
class Script:
    """What the scripted device does."""

    latency_ms: dict[Key, float] | Callable[[Key], float] = field(default_factory=dict)
    """Median batch-1 latency per (model, backend, precision, tower); missing keys use `default_ms`."""
    default_ms: float = 1.0
    spread: float = 0.02
    """Relative half-width of the samples around the median."""
    runs: int = 20
    repeat_drift: float = 0.01
    """Relative half-width by which a repeat's median differs from the first run's."""
    fail: dict[Key, tuple[str, str]] = field(default_factory=dict)
    """(model, backend, precision, tower) -> (phase, reason): that tower fails."""
    delay_s: float = 0.0
    """Wall time each tower takes (cancel and lab tests)."""
    peak_rss_bytes: int = 64 * 2**20
    baseline_rss_bytes: int = 40 * 2**20
    seed: int = 0
    calls: list[Key] = field(default_factory=list)
    """Every tower run, in order (tests read it)."""

    def median_ms(self, key: Key) -> float:
        if callable(self.latency_ms):
            return float(self.latency_ms(key))
        return float(self.latency_ms.get(key, self.default_ms))


class ScriptedExecutor:
    """Answers each tower from a Script."""

    name: ClassVar[str] = "scripted"
    returns_embeddings: ClassVar[bool] = True
    provides_artifacts: ClassVar[bool] = True

    def __init__(self, script: Script | None = None) -> None:
        self.script = script or Script()
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """A scripted device needs nothing pushed."""

    def artifacts(self, model, backend: str, precision: str, folder: Path, batch_sizes: tuple[int, ...]):
        """A stand-in artifact set (small placeholder files and a manifest); nothing is converted."""
        from edge_bench.converters.artifact import ArtifactSet

        folder.mkdir(parents=True, exist_ok=True)
        towers = {}
        for tower in ("image", "text"):
            entries = []
            for batch in batch_sizes:
                path = folder / f"{tower}-b{batch}.scripted"
                content = f"{model.name} {backend} {precision} {tower} {batch}".encode()
                path.write_bytes(content)
                entries.append({"file": path.name, "batch": batch, "sha256": hashlib.sha256(content).hexdigest(),
                                "size_bytes": len(content), "inputs": [], "outputs": []})
            towers[tower] = {"artifacts": entries, "flops": 1e6 if tower == "image" else 4e5,
                             "parity": {"cosine_min": 1.0 - NOISE.get(precision, 0.0), "status": "ok"}}
        manifest = {"schema": 1, "model": model.name, "backend": backend, "precision": precision,
                    "key": hashlib.sha256(f"{model.name}{backend}{precision}".encode()).hexdigest(),
                    "towers": towers, "versions": {"scripted": "1"}}
        (folder / "manifest.json").write_text(json.dumps(manifest))
        return ArtifactSet(folder, manifest)

    def run_tower(self, request: TowerRequest, cancel: threading.Event) -> TowerOutcome:
        s = self.script
        key: Key = (request.extra.get("model", ""), request.backend, request.extra.get("precision", ""), request.tower)
        with self._lock:
            s.calls.append(key)
        if s.delay_s and cancel.wait(s.delay_s):
            raise TowerFailed("cancelled", "timed", f"cancelled during the {request.tower} tower",
                              {"latency_s": [], "memory": {}})
        if key in s.fail:
            phase, reason = s.fail[key]
            raise TowerFailed("failed", phase, f"{request.tower} tower failed in {phase}: {reason}")
        median = s.median_ms(key) / 1e3
        seed = int(hashlib.sha256(repr((key, s.seed, request.extra.get("round", 1))).encode()).hexdigest()[:8], 16)
        rng = np.random.default_rng(seed)
        if request.extra.get("round", 1) > 1:  # a fresh process: its median drifts a little
            median *= 1 + s.repeat_drift * (rng.random() * 2 - 1)
        pairs = (s.runs - 1) // 2  # samples in pairs mirrored about the median, the middle one(s) at it: exact median
        offsets = rng.random(pairs)
        offsets = np.concatenate([offsets, -offsets, np.zeros(s.runs - 2 * pairs)])
        rng.shuffle(offsets)
        samples = (median * (1 + s.spread * offsets)).tolist()
        reference = request.extra["reference"]
        n = len(reference)
        batch = request.gallery.batch if request.gallery else 1
        result = {
            "status": "ok", "latency_s": samples, "first_inference_s": median * 2, "load_s": 0.01,
            "warmup": {"n": 5, "seconds": 5 * median}, "timed": {"n": s.runs, "seconds": sum(samples), "complete": True},
            "gallery": {"batch": batch, "n_items": n, "items_per_s": batch / (median * batch * 0.8),
                        "wall_s": n * median * 0.8, "batch_latency_s": [median * batch * 0.8] * max(1, n // batch)},
            "memory": {"rss_before_load_bytes": s.baseline_rss_bytes, "peak_rss_bytes": s.peak_rss_bytes,
                       "peak_rss_source": "scripted"},
            "thermal": {"before": {}, "after": {}},
            "runtime": {"backend": request.backend, "name": "scripted", "version": "1", "threads_applied": request.threads},
            "agent_version": "scripted", "threads": request.threads,
        }
        noise = NOISE.get(key[2], 0.0)
        embeddings = reference + noise * rng.standard_normal(reference.shape).astype(np.float32)
        embeddings /= np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
        outcome = tower_result(result, request.flops, request.peak_gflops, ceiling_gflops=request.ceiling_gflops, executor="scripted")
        return TowerOutcome(outcome, embeddings.astype(np.float32) if request.encode else None)


@dataclass
class ScriptedFactory:
    """An executor factory of scripted devices that pickles, for a lab's actors on other Ray nodes (tests, bench)."""

    script: Script = field(default_factory=Script)

    def __call__(self, profile, transport, local_root) -> ScriptedExecutor:  # noqa: ARG002  (the factory's signature)
        return ScriptedExecutor(self.script)
