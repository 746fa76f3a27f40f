"""The report model: typed figures built once from store rows, read by every exporter.

Units are in the field names (`_ms`, `_bytes`, `_per_s`); recall is a share
in [0, 1] under CLIP_benchmark's metric names (`image_retrieval_recall@k` is
text-to-image, `text_retrieval_recall@k` image-to-text).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_bench.records.job import RECALL_KEYS as RECALL_KEYS  # re-exported for the report modules
from edge_bench.records.job import TOWERS as TOWERS  # re-exported for the report modules
from edge_bench.records.tower import TOWER_FIGURES

FIGURE_NAMES = tuple(f.name for f in TOWER_FIGURES) + ("artifact_size_bytes",)
"""Every per-tower column of the report, in order."""
HOST_COMPUTED = "host-computed"
"""How `recall_source` starts when recall came from the device's artifact run on the host."""


@dataclass(frozen=True)
class TowerFigures:
    """One tower's figures from one job in report units: the record's TOWER_FIGURES plus the artifact size.

    Every figure is an attribute by its name (`latency_median_ms`, `peak_rss_bytes`, ...): a figure
    added to `edge_bench.records.tower.TOWER_FIGURES` appears here, in the JSON and in the CSV.
    """

    values: dict
    """Figure name -> value (None when not measured)."""
    latency_samples_ms: tuple[float, ...] = ()
    """Raw batch-1 samples, in the order they were taken."""
    notes: tuple[str, ...] = ()
    """Statistical notes of the runner: outliers, slow first run."""
    thermal: dict = field(default_factory=dict)
    """As recorded: `before`, `after` ({zone: deg C}), `governor`, `throttled`."""

    def __getattr__(self, name: str):
        values = self.__dict__.get("values")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(name)


def job_label(job, with_dataset: bool) -> str:
    """A job's label (a JobEntry or CompareRow), with its dataset when the report holds several: one job on two datasets is two rows."""
    return f"{job.label} [{job.dataset}]" if with_dataset else job.label


def several_datasets(entries) -> bool:
    return len({e.dataset for e in entries}) > 1


NO_TOWER = TowerFigures({name: None for name in FIGURE_NAMES} | {"latency_n": 0, "outliers": 0, "runtime": ""})
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
    ties: dict = field(default_factory=dict)
    """Recall's tie figures (optimistic / pessimistic, tie-dependent queries), when any."""

    @property
    def label(self) -> str:
        return f"{self.model} {self.backend} {self.precision}"

    @property
    def key(self) -> tuple[str, str, str, str]:
        """model, backend, precision, dataset: a result on another dataset is another job."""
        return (self.model, self.backend, self.precision, self.dataset)

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
    dataset: str = ""

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

    def label(self, entry: JobEntry) -> str:
        """The entry's label in this report's tables and plots (with the dataset when the entries span several)."""
        return job_label(entry, several_datasets(self.entries))

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
    """One model x backend x precision x dataset measured on both devices."""

    model: str
    backend: str
    precision: str
    dataset: str
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

    def label(self, job) -> str:
        """A row's (or one side's entry's) label, with the dataset when the two devices' entries span several."""
        return job_label(job, several_datasets(self.a.entries + self.b.entries))

    @property
    def status(self) -> str:
        """'ok' or 'nothing-shared'."""
        return "ok" if self.rows else "nothing-shared"

    @property
    def message(self) -> str | None:
        if self.rows:
            return None
        return (f"{self.a.device} and {self.b.device} share no successful job (same model, backend, precision and dataset): "
                "nothing to compare")
