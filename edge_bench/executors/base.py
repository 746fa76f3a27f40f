"""The executor seam: run one tower of one job on one device, return that tower's typed result.

Implementations: `AgentExecutor` (the Python agent, over any transport),
`NativeExecutor` (the runtimes' own runners, for devices without Python, such
as Android phones) and `ScriptedExecutor` (tests of planning, storing,
resuming, reporting and the TUI, with no runtime and no timing noise).
`edge_bench.executors.choose.executor_for` picks one from the device's capability, not its transport name.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from edge_bench.agent.spec import Protocol as MeasureProtocol
from edge_bench.errors import EdgeBenchError
from edge_bench.records.tower import TowerResult


@dataclass(frozen=True)
class ArtifactFile:
    """One artifact file on the host, with what the manifest says of it."""

    path: Path
    sha256: str
    batch: int
    inputs: tuple[dict, ...] = ()
    """Input tensors as the artifact declares them: {name, shape, dtype}."""
    outputs: tuple[dict, ...] = ()


@dataclass(frozen=True)
class TowerRequest:
    """Everything an executor needs for one tower of one job."""

    job_id: str
    tower: str
    """'image' or 'text'."""
    backend: str
    artifact: ArtifactFile
    """The batch-1 artifact (latency)."""
    gallery: ArtifactFile | None
    """The batch-B artifact (throughput and embeddings); None = encode at batch 1."""
    inputs: Path
    """The split's inputs on the host: uint8 images (N,3,S,S) or int32 tokens (N,L), .npy."""
    input_kind: str
    mean: tuple[float, ...]
    std: tuple[float, ...]
    threads: int
    affinity: tuple[int, ...]
    protocol: MeasureProtocol
    thermal_zones: tuple[str, ...]
    local_dir: Path
    """The host folder for this tower's files (job spec, pulled outputs)."""
    flops: float | None = None
    peak_gflops: float | None = None
    ceiling_gflops: float | None = None
    """The device's measured ceiling for this backend and precision, when known."""
    encode: bool = True
    """Encode the whole split (gallery throughput, embeddings); False for a repeat's timed loops only."""
    profile: int = 0
    """Inferences of a profiling pass after the timed loops (--profile); 0 = none."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Scripted runs: the job's axes (model, precision) for the script."""


@dataclass(frozen=True)
class TowerOutcome:
    """An executor's answer: the tower's result and, when the device returns them, its embeddings."""

    result: TowerResult
    embeddings: np.ndarray | None = None


class TowerFailed(EdgeBenchError):
    """A tower that ran and stopped: failed or cancelled, with the phase and what it measured."""

    def __init__(self, status: str, phase: str | None, reason: str, partial: dict | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.phase = phase
        self.partial = partial or {}


class Executor(Protocol):
    """Runs towers on one device."""

    name: ClassVar[str]
    returns_embeddings: ClassVar[bool]
    """False: the device returns timings only; recall comes from the same artifact on the host."""
    provides_artifacts: ClassVar[bool]
    """True: the executor needs no conversion (scripted runs)."""

    def prepare(self) -> None:
        """Before the first tower: push the agent, install runners (idempotent)."""

    def run_tower(self, request: TowerRequest, cancel: threading.Event) -> TowerOutcome:
        """Measure one tower; raise TowerFailed when it ran and stopped, a transport error when the link broke."""
