"""The report model: typed figures built once from store rows, read by every exporter.

Units are in the field names (`_ms`, `_bytes`, `_per_s`); recall is a share
in [0, 1] under CLIP_benchmark's metric names (`image_retrieval_recall@k` is
text-to-image, `text_retrieval_recall@k` image-to-text).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

TOWERS = ("image", "text")
RECALL_KEYS = tuple(f"{d}_retrieval_recall@{k}" for d in ("image", "text") for k in (1, 5, 10)) + ("mean_recall",)
"""CLIP_benchmark's names, in the order tables show them."""
HOST_COMPUTED = "host-computed"
"""How `recall_source` starts when recall came from the device's artifact run on the host."""


@dataclass(frozen=True)
class TowerFigures:
    """One tower's figures from one job (batch-1 latency, gallery throughput, memory, compute)."""

    latency_median_ms: float | None
    latency_mean_ms: float | None
    latency_sd_ms: float | None
    latency_p90_ms: float | None
    latency_p99_ms: float | None
    latency_min_ms: float | None
    latency_max_ms: float | None
    latency_n: int
    latency_samples_ms: tuple[float, ...]
    """Raw batch-1 samples, in the order they were taken."""
    outliers: int
    """Samples flagged by the MAD rule."""
    first_inference_ms: float | None
    load_ms: float | None
    throughput_items_per_s: float | None
    """Gallery throughput (images/s or texts/s) at `gallery_batch`."""
    gallery_batch: int | None
    peak_rss_bytes: int | None
    artifact_size_bytes: int | None
    """Size of the batch-1 artifact of the tower."""
    flops: float | None
    """FLOPs of one batch-1 inference."""
    achieved_gflop_per_s: float | None
    peak_share: float | None
    """achieved_gflop_per_s over the device profile's peak, in [0, 1]."""
    runtime: str
    notes: tuple[str, ...]
    """Statistical notes of the runner: outliers, slow first run."""
    thermal: dict
    """As recorded: `before`, `after` ({zone: deg C}), `governor`, `throttled`."""


NO_TOWER = TowerFigures(**{f.name: None for f in fields(TowerFigures)}
                          | {"latency_n": 0, "latency_samples_ms": (), "outliers": 0, "runtime": "", "notes": (), "thermal": {}})
"""A tower a job does not have."""


@dataclass(frozen=True)
class JobEntry:
    """One successful job (model x backend x precision) used by the report."""

    job_id: str
    run_id: str
    finished: str | None
    model: str
    backend: str
    precision: str
    dataset: str
    n_images: int | None
    n_captions: int | None
    threads: int | None
    towers: dict[str, TowerFigures]
    recall: dict[str, float]
    """CLIP_benchmark names -> share in [0, 1]; {} when recall was not computed."""
    reference_recall: dict[str, float]
    """The same metrics for fp32 PyTorch eager on the host."""
    recall_label: str
    """'trained' or 'untrained' (chance-level recall)."""
    recall_source: str
    fidelity: dict[str, dict]
    """Per tower: cosine_mean, cosine_min, ... against fp32 PyTorch."""
    verdict: str
    """'agrees', 'DISAGREES' or 'not checked' (device vs host run of the same artifact)."""
    verdict_message: str | None
    provenance: dict

    @property
    def label(self) -> str:
        return f"{self.model} {self.backend} {self.precision}"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.model, self.backend, self.precision)

    @property
    def untrained(self) -> bool:
        """Random weights: recall is chance level."""
        return self.recall_label == "untrained"

    @property
    def disagrees(self) -> bool:
        """The device's outputs differ from the host's run of the same artifact."""
        return self.verdict == "DISAGREES"

    @property
    def host_recall(self) -> bool:
        """Recall came from the device's artifact run on the host."""
        return self.recall_source.startswith(HOST_COMPUTED)

    def flags(self) -> list[str]:
        """Short labels a reader must see next to this job's recall."""
        out = []
        if self.untrained:
            out.append("untrained")
        if self.host_recall:
            out.append("host recall")
        if self.disagrees:
            out.append("DISAGREES")
        return out

    def tower(self, name: str) -> TowerFigures | None:
        """The tower's figures, or None."""
        return self.towers.get(name)

    def figures(self, name: str) -> TowerFigures:
        """The tower's figures, or NO_TOWER (every figure None) when the job has no such tower."""
        return self.towers.get(name) or NO_TOWER


@dataclass(frozen=True)
class Problem:
    """A failed or skipped job, with its reason."""

    job_id: str
    run_id: str
    model: str
    backend: str
    precision: str
    status: str
    reason: str
    phase: str | None

    @property
    def label(self) -> str:
        return f"{self.model} {self.backend} {self.precision}"


@dataclass(frozen=True)
class RunRef:
    """A run the report drew jobs from."""

    id: str
    created: str
    status: str
    dataset: str
    n_jobs: int
    n_used: int


@dataclass(frozen=True)
class DistillRow:
    """A student against the teacher on the same backend and precision."""

    student: str
    backend: str
    precision: str
    delta_recall: dict[str, float | None]
    """Student minus teacher, for image_retrieval_recall@1, text_retrieval_recall@1 and mean_recall."""
    speedup: dict[str, float | None]
    """Teacher's median batch-1 latency over the student's, per tower."""
    throughput_ratio: float | None
    """Student's gallery images/s over the teacher's."""
    untrained: bool
    """The teacher or the student has untrained weights: the recall change is noise."""
    disagrees: bool


@dataclass
class DeviceReport:
    """Everything a per-device report shows, built once (see `edge_bench.report.build`)."""

    device: str
    description: str
    peak_gflop_per_s: float | None
    peak_derivation: str
    fingerprint: dict
    selection: str
    """How jobs were chosen, in one sentence."""
    runs: list[RunRef]
    entries: list[JobEntry]
    problems: list[Problem]
    teacher: str | None = None
    teacher_reason: str = ""
    distillation: list[DistillRow] = field(default_factory=list)
    pareto_metric: str = "image_retrieval_recall@1"
    pareto_front: list[str] = field(default_factory=list)
    """job_ids of the entries on the accuracy-versus-throughput front."""
    notes: list[str] = field(default_factory=list)
    """Thermal state, outliers, mixed datasets."""
    alerts: list[str] = field(default_factory=list)
    """What must be seen first: devices that disagree with the host."""
    generated: str = ""
    edge_bench_version: str = ""

    @property
    def status(self) -> str:
        """'ok', 'only-failed' (no successful job) or 'empty' (no job at all)."""
        if self.entries:
            return "ok"
        return "only-failed" if self.problems else "empty"

    @property
    def message(self) -> str | None:
        """What an empty report says instead of figures."""
        if self.status == "empty":
            return f"no benchmark jobs for {self.device} in the selection: nothing to report"
        if self.status == "only-failed":
            return f"every job for {self.device} in the selection failed or was skipped: no figures to report"
        return None


@dataclass(frozen=True)
class CompareRow:
    """One model x backend x precision measured on both devices."""

    model: str
    backend: str
    precision: str
    a: JobEntry
    b: JobEntry
    latency_ratio: dict[str, tuple[float, float] | None]
    """Per tower: B's mean latency over A's, with its propagated sd (< 1: B faster)."""
    throughput_ratio: dict[str, float | None]
    """Per tower: B's gallery items/s over A's."""

    @property
    def label(self) -> str:
        return f"{self.model} {self.backend} {self.precision}"


@dataclass
class CompareReport:
    """Two devices side by side on the jobs they share."""

    a: DeviceReport
    b: DeviceReport
    rows: list[CompareRow]
    only_a: list[str]
    only_b: list[str]
    generated: str = ""
    edge_bench_version: str = ""

    @property
    def status(self) -> str:
        """'ok' or 'nothing-shared'."""
        return "ok" if self.rows else "nothing-shared"

    @property
    def message(self) -> str | None:
        if self.rows:
            return None
        return (f"{self.a.device} and {self.b.device} share no successful job (same model, backend and precision): "
                "nothing to compare")
