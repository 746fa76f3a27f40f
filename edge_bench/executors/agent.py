"""The Python agent as an executor: push once, run one agent process per tower, pull its result."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from edge_bench.agent.spec import FileRef, GalleryRef, InputsRef, JobSpec
from edge_bench.devices import Transport
from edge_bench.executors.base import TowerFailed, TowerOutcome, TowerRequest
from edge_bench.executors.results import partial_figures, tower_result
from edge_bench.executors.session import DeviceSession
from edge_bench.executors.validate import load_embeddings, npy_rows


class AgentExecutor:
    """Runs the agent (standard library + numpy + one runtime) with the device's Python."""

    name: ClassVar[str] = "agent"
    returns_embeddings: ClassVar[bool] = True
    provides_artifacts: ClassVar[bool] = False

    def __init__(self, transport: Transport, local_root: Path) -> None:
        self.transport = transport
        self.session = DeviceSession(transport, local_root)

    def prepare(self) -> None:
        self.session.ensure_agent()

    def spec(self, request: TowerRequest) -> JobSpec:
        """The agent's job spec, with every file pushed (once per content)."""
        art = request.artifact
        path, sha = self.session.ensure_file(art.path, art.sha256)
        gallery = None
        if request.gallery is not None:
            g_path, g_sha = self.session.ensure_file(request.gallery.path, request.gallery.sha256)
            gallery = GalleryRef(g_path, g_sha, request.gallery.batch)
        inputs, inputs_sha = self.session.ensure_file(request.inputs)
        return JobSpec(
            tower=request.tower, backend=request.backend, artifact=FileRef(path, sha),
            inputs=InputsRef(inputs, inputs_sha, request.input_kind, tuple(request.mean), tuple(request.std)),
            output_dir=f"runs/{request.job_id}/{request.tower}", gallery=gallery, job_id=request.job_id,
            threads=request.threads, affinity=tuple(request.affinity), protocol=request.protocol,
            thermal_zones=tuple(request.thermal_zones), encode=request.encode, profile=request.profile,
        )

    def run_tower(self, request: TowerRequest, cancel: threading.Event) -> TowerOutcome:
        spec = self.spec(request)
        result, local, stderr = self.session.run_agent(spec.to_dict(), request.local_dir, cancel=cancel)
        ok = result is not None and result.get("status") == "ok"
        if cancel.is_set() and not ok:
            raise TowerFailed("cancelled", (result or {}).get("phase", request.tower),
                              f"cancelled during the {request.tower} tower", partial_figures(result))
        if not ok:
            if result is None:
                raise TowerFailed("failed", "agent", f"{request.tower} tower: the agent left no result ({stderr or 'no output'})")
            if "sha256 mismatch" in (result.get("error") or ""):
                self.session.forget([spec.artifact.path, spec.inputs.path] + ([spec.gallery.path] if spec.gallery else []))
            phase = result.get("phase")
            raise TowerFailed("failed", phase, f"{request.tower} tower failed in {phase}: {result.get('error')}",
                              partial_figures(result))
        embeddings = load_embeddings(local / "out", result, npy_rows(request.inputs)) if request.encode else None
        tower = tower_result(result, request.flops, request.peak_gflops, ceiling_gflops=request.ceiling_gflops)
        if result.get("profile"):  # the profiling pass (after the timed loops), mapped here with the host's ETRecord
            from edge_bench.profile.build import from_agent

            profile = from_agent(result["profile"], local / "out", request.artifact.path, request.tower, tower.latency.median, result.get("wall_s"))
            tower = replace(tower, profile=profile)
        return TowerOutcome(tower, embeddings)
