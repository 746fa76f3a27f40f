"""The runtimes' own native runners as an executor, for devices without Python (Android phones).

LiteRT's `benchmark_model` and ExecuTorch's `executor_runner` time the artifact
on the device; they return no embeddings of the split, so the runner computes
recall on the host from the same artifact (and labels it so). The files are
staged under the job's host folder and pushed by `edge_bench.android`.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import ClassVar

from edge_bench.agent.spec import FileRef, GalleryRef, InputsRef, JobSpec
from edge_bench.executors.base import ArtifactFile, TowerFailed, TowerOutcome, TowerRequest
from edge_bench.executors.results import tower_result
from edge_bench.models.weights import file_sha256

NATIVE_FACTS = ("latency_stats_from_tool", "fidelity", "protocol_deviations")


def _stage(src: Path, folder: Path) -> str:
    """Hard-link (or copy) a file under the job's host folder; its path relative to that folder."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / src.name
    if not target.exists():
        try:
            os.link(src, target)
        except OSError:
            shutil.copy2(src, target)
    return target.name


class NativeExecutor:
    """Runs towers with the profile's native runners (`[android]` table)."""

    name: ClassVar[str] = "native"
    returns_embeddings: ClassVar[bool] = False
    provides_artifacts: ClassVar[bool] = False

    def __init__(self, transport, profile, local_root: Path, fingerprint: dict | None = None) -> None:
        self.transport, self.profile, self.local_root = transport, profile, local_root
        self.fingerprint = fingerprint

    def prepare(self) -> None:
        """Nothing to push ahead: each job installs its runner and pushes its files."""

    def _ref(self, root: Path, art: ArtifactFile) -> dict:
        return {"path": _stage(art.path, root), "sha256": art.sha256 or file_sha256(art.path),
                "inputs": [dict(i) for i in art.inputs], "outputs": [dict(o) for o in art.outputs]}

    def job_dict(self, request: TowerRequest, root: Path) -> dict:
        """The agent-format job spec with host-relative paths and the artifacts' declared tensors."""
        inputs = _stage(request.inputs, root)
        spec = JobSpec(
            tower=request.tower, backend=request.backend, artifact=FileRef(""),
            inputs=InputsRef(inputs, file_sha256(request.inputs), request.input_kind, tuple(request.mean), tuple(request.std)),
            output_dir=f"runs/{request.job_id}/{request.tower}", job_id=request.job_id,
            threads=request.threads, affinity=tuple(request.affinity), protocol=request.protocol,
            thermal_zones=tuple(request.thermal_zones),
            gallery=GalleryRef("", "", request.gallery.batch) if request.gallery else None,
        ).to_dict()
        spec["artifact"] = self._ref(root, request.artifact)
        spec["profile"] = request.profile
        if request.gallery is not None:
            spec["gallery"] = {**self._ref(root, request.gallery), "batch": request.gallery.batch}
        return spec

    def run_tower(self, request: TowerRequest, cancel: threading.Event) -> TowerOutcome:
        from edge_bench.android import run_android_job

        root = request.local_dir.parent / "android"
        job = self.job_dict(request, root)
        if self.fingerprint is None:  # once per run, not once per job
            from edge_bench.android.device import AndroidDevice
            from edge_bench.android.settings import settings_from_profile

            self.fingerprint = AndroidDevice(self.transport, settings_from_profile(self.profile)).fingerprint()
        result = run_android_job(self.transport, self.profile, job, root, fingerprint=self.fingerprint)
        if result.get("status") != "ok":
            raise TowerFailed("failed", result.get("phase"), f"{request.tower} tower: {result.get('error')}")
        native = {k: result.get(k) for k in NATIVE_FACTS}
        tower = tower_result(result, request.flops, request.peak_gflops, ceiling_gflops=request.ceiling_gflops, executor="native", native=native)
        if result.get("profile"):  # the profiling pass: an ETDump or benchmark_model's op-profiling CSV, pulled beside result.json
            from dataclasses import replace

            from edge_bench.profile.build import from_agent

            out = root / job["output_dir"]
            tower = replace(tower, profile=from_agent(result["profile"], out, request.artifact.path, request.tower, tower.latency.median))
        return TowerOutcome(tower)
