"""The job record: one model x backend x precision on one device, typed and versioned.

Measuring produces a `JobRecord`; the store keeps `to_json()`; the CLI, the
TUI, the reports and `compare` read `JobRecord.from_json(...)` only. Rows
written before the typed record (schema 1, no `schema` key) are upgraded on
read (`edge_bench.records.upgrade`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from edge_bench.agent.spec import Protocol
from edge_bench.records.codec import decode, encode
from edge_bench.records.tower import NO_TOWER, TowerResult
from edge_bench.records.upgrade import SCHEMA_VERSION, upgrade
TOWERS = ("image", "text")
RECALL_KEYS = tuple(f"{d}_retrieval_recall@{k}" for d in ("image", "text") for k in (1, 5, 10)) + ("mean_recall",)
"""CLIP_benchmark's names (image_retrieval = text-to-image), in the order tables show them."""
HOST_COMPUTED = "host-computed from the device's artifact"
STATUSES = ("ok", "failed", "skipped", "cancelled")
"""`Accuracy.source` when recall came from the device's artifact run on the host."""


@dataclass(frozen=True)
class JobIdentity:
    """What was asked: the job's axes and the plan settings that shape its figures."""

    key: str = ""
    """Stable identity across runs (what --resume matches)."""
    model: str = ""
    backend: str = ""
    precision: str = ""
    device: str = ""
    dataset: str = ""
    split: str = "test"
    n_images: int | None = None
    n_captions: int | None = None
    threads: int | None = None
    affinity: tuple[int, ...] = ()
    gallery_batch: int | None = None
    protocol: Protocol = field(default_factory=Protocol)
    peak_gflops: float | None = None
    """The device profile's peak fp32 GFLOP/s when the job ran."""

    @property
    def label(self) -> str:
        return f"{self.model} {self.backend} {self.precision}"


@dataclass(frozen=True)
class Failure:
    """Where and why a job did not finish."""

    phase: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Accuracy:
    """Recall from the artifact's embeddings (CLIP_benchmark's names and definition), and its fp32 reference."""

    recall: dict[str, float] = field(default_factory=dict)
    reference: dict[str, float] = field(default_factory=dict)
    """The same metrics for fp32 PyTorch eager on the host."""
    label: str = "unknown"
    """'trained', or 'untrained' (chance-level recall)."""
    source: str = "device embeddings"
    """'device embeddings', or HOST_COMPUTED where the device returns no embeddings."""
    ties: dict[str, Any] = field(default_factory=dict)
    """Queries whose hit depends on how tied scores are ordered, and the optimistic / pessimistic recall."""


def tie_bounds(ties: dict, key: str) -> tuple[float, float] | None:
    """(pessimistic, optimistic) of a metric from an Accuracy.ties block, when they differ."""
    low, high = (ties.get("pessimistic") or {}).get(key), (ties.get("optimistic") or {}).get(key)
    if low is None or high is None or low == high:
        return None
    return low, high


@dataclass(frozen=True)
class CosineStats:
    """Cosine of each embedding to a reference embedding of the same input."""

    cosine_mean: float | None = None
    cosine_min: float | None = None
    cosine_p01: float | None = None
    max_abs_diff: float | None = None
    n: int = 0
    error: str | None = None


@dataclass(frozen=True)
class Verdict:
    """Whether a remote device computes what the host computes with the same artifact."""

    status: str = "not checked"
    """'agrees', 'DISAGREES' or 'not checked'."""
    worst_cosine: float | None = None
    threshold: float | None = None
    message: str | None = None


@dataclass(frozen=True)
class Fidelity:
    """The artifact's embeddings against fp32 PyTorch, and (remote devices) against the host's run of it."""

    vs_fp32_pytorch: dict[str, CosineStats] = field(default_factory=dict)
    vs_host_artifact: dict[str, CosineStats] = field(default_factory=dict)
    verdict: Verdict = field(default_factory=Verdict)

    def worst_mean_cosine(self) -> float | None:
        values = [c.cosine_mean for c in self.vs_fp32_pytorch.values() if c.cosine_mean is not None]
        return min(values) if values else None


@dataclass(frozen=True)
class ArtifactInfo:
    """The converted artifact set the job ran."""

    dir: str = ""
    size_bytes: dict[str, int] = field(default_factory=dict)
    """Per tower, the batch-1 artifact's size."""
    flops: dict[str, float] = field(default_factory=dict)
    parity: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per tower, the converter's parity check against eager PyTorch."""
    samples: dict[str, Any] = field(default_factory=dict)
    """Where the calibration and parity inputs came from (the manifest's `samples`: source split, counts)."""


@dataclass(frozen=True)
class ModelProvenance:
    name: str = ""
    family: str = ""
    weights_status: str = ""
    weights_sha256: str = ""
    weights_source: str = ""


@dataclass(frozen=True)
class DeviceProvenance:
    name: str = ""
    fingerprint: dict[str, Any] = field(default_factory=dict)
    """The device's fingerprint, read once per run (edge_bench/agent/fingerprint.py)."""


@dataclass(frozen=True)
class Provenance:
    """Where every figure came from."""

    edge_bench_version: str = ""
    model: ModelProvenance = field(default_factory=ModelProvenance)
    artifact: dict[str, Any] = field(default_factory=dict)
    """backend, precision, key, files (per tower: file, batch, sha256, size_bytes)."""
    converter_versions: dict[str, str] = field(default_factory=dict)
    device: DeviceProvenance = field(default_factory=DeviceProvenance)
    host: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LabContext:
    """The lab run a job was part of: several devices measured at once (`run --device A,B`)."""

    lab_id: str = ""
    devices: tuple[str, ...] = ()
    """Every device of the lab run."""
    concurrent_with: tuple[str, ...] = ()
    """Devices of the lab run on the same hardware as this one, measured at the same time (--allow-shared-hardware):
    its timings were taken concurrently and are disturbed by theirs."""

    @property
    def concurrent(self) -> bool:
        return bool(self.concurrent_with)


@dataclass(frozen=True)
class JobRecord:
    """Everything one job measured, and where it came from."""

    job: JobIdentity = field(default_factory=JobIdentity)
    status: str = "ok"
    """ok, failed, skipped or cancelled."""
    failure: Failure | None = None
    towers: dict[str, TowerResult] = field(default_factory=dict)
    accuracy: Accuracy | None = None
    fidelity: Fidelity | None = None
    artifact: ArtifactInfo | None = None
    embeddings: dict[str, str] = field(default_factory=dict)
    """Per tower, the .npy file of the artifact's embeddings on the host."""
    provenance: Provenance | None = None
    lab: LabContext | None = None
    """The lab run the job belonged to, None for a run on one device."""
    schema: int = SCHEMA_VERSION

    # -- identity and status ------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def label(self) -> str:
        return self.job.label

    @property
    def reason(self) -> str | None:
        return self.failure.reason if self.failure else None

    @property
    def phase(self) -> str | None:
        return self.failure.phase if self.failure else ("done" if self.ok else None)

    def failed(self, status: str, phase: str | None, reason: str) -> "JobRecord":
        """This record, stopped: status failed or cancelled, with where and why."""
        return replace(self, status=status, failure=Failure(phase, " ".join(str(reason).split())))

    # -- figures every reader shows ----------------------------------------------------------
    def tower(self, name: str) -> TowerResult:
        """One tower's result (NO_TOWER when absent)."""
        return self.towers.get(name) or NO_TOWER

    def median_ms(self, tower: str) -> float | None:
        value = self.tower(tower).latency.median
        return None if value is None else value * 1e3

    def items_per_s(self, tower: str) -> float | None:
        return self.tower(tower).gallery.items_per_s or None

    def recall(self, direction: str = "image", k: int = 1) -> float | None:
        """Recall@k in [0, 1]: 'image' = text-to-image retrieval, 'text' = image-to-text."""
        return (self.accuracy.recall if self.accuracy else {}).get(f"{direction}_retrieval_recall@{k}")

    @property
    def metrics(self) -> dict[str, float]:
        return dict(self.accuracy.recall) if self.accuracy else {}

    def recall_bounds(self, key: str) -> tuple[float, float] | None:
        """(pessimistic, optimistic) recall for a metric whose hits depend on how tied scores are ordered; else None."""
        return tie_bounds(self.accuracy.ties if self.accuracy else {}, key)

    @property
    def untrained(self) -> bool:
        return bool(self.accuracy and self.accuracy.label == "untrained")

    @property
    def host_recall(self) -> bool:
        return bool(self.accuracy and self.accuracy.source.startswith("host-computed"))

    @property
    def verdict(self) -> Verdict:
        return self.fidelity.verdict if self.fidelity else Verdict()

    @property
    def disagrees(self) -> bool:
        return self.verdict.status == "DISAGREES"

    def peak_bytes(self) -> int | None:
        """The larger process peak of the two towers."""
        peaks = [self.tower(t).memory.peak_bytes or 0 for t in TOWERS]
        return max(peaks) or None

    def memory_bytes(self) -> tuple[int | None, int | None, int | None]:
        """(model increment, runtime baseline, process peak) of the tower with the higher peak."""
        towers = [self.tower(t).memory for t in TOWERS if self.tower(t).memory.peak_bytes]
        if not towers:
            return None, None, None
        m = max(towers, key=lambda mem: mem.peak_bytes)
        return m.model_increment_bytes, m.rss_before_load_bytes, m.peak_bytes

    def load_s(self) -> float | None:
        values = [self.tower(t).load_s for t in TOWERS if self.tower(t).load_s is not None]
        return sum(values) if values else None

    def artifact_bytes(self, tower: str) -> int | None:
        return (self.artifact.size_bytes if self.artifact else {}).get(tower)

    # -- JSON ---------------------------------------------------------------------------------
    def to_json(self) -> dict:
        """The JSON object the store keeps (and `show --json` prints)."""
        return encode(self)

    @classmethod
    def from_json(cls, data: dict) -> "JobRecord":
        """Read a stored record of any schema this version knows (older ones are upgraded)."""
        data = upgrade(data)
        if data.get("status") not in STATUSES:  # a row damaged or written by something else: never read as ok
            data = {**data, "status": "failed",
                    "failure": {"phase": None, "reason": f"the stored record has no valid status ({data.get('status')!r})"}}
        return decode(cls, data)
