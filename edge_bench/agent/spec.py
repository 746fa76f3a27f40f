"""The job spec the agent reads (docs/agent-protocol.md), as typed dataclasses.

Standard library only, so the runner on the host can build jobs with the same
classes (`JobSpec(...).to_dict()`) that the agent parses on the device
(`JobSpec.from_dict(json.load(f))`). A malformed job is an `AgentError` in the
"verify" phase that names the field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import AgentError

SCHEMA = 1
INPUT_KINDS = ("uint8_images", "int32_tokens")
TOWERS = ("image", "text")


@dataclass(frozen=True)
class FileRef:
    """A file the job uses, with the sha256 the agent checks before using it."""

    path: str
    """Path on the device; relative paths resolve against the job's workdir."""
    sha256: str = ""
    """Expected sha256 (hex, `edge_bench.agent.integrity`); required: '' fails the job in "verify"."""


@dataclass(frozen=True)
class GalleryRef(FileRef):
    """The artifact that encodes the whole split, and its batch size."""

    batch: int = 1
    """Static batch size of the gallery artifact; the last partial batch is padded."""


@dataclass(frozen=True)
class InputsRef(FileRef):
    """The test split's inputs: one .npy file."""

    kind: str = "uint8_images"
    """'uint8_images' ((N,3,S,S) uint8) or 'int32_tokens' ((N,L) int32)."""
    mean: tuple[float, ...] = (0.5, 0.5, 0.5)
    """Per-channel mean of images scaled to [0, 1] (images only)."""
    std: tuple[float, ...] = (0.25, 0.25, 0.25)
    """Per-channel standard deviation (images only)."""


@dataclass(frozen=True)
class Protocol:
    """The measurement protocol (DESIGN.md): warm-up gates, timed gates, caps."""

    warmup_min_runs: int = 10
    """Warm-up runs at least this many times ..."""
    warmup_min_seconds: float = 1.0
    """... and for at least this long (both must be met, within the caps)."""
    min_runs: int = 50
    """Timed runs: at least this many ..."""
    min_seconds: float = 1.0
    """... and at least this long (both must be met, within the caps)."""
    max_runs: int = 2000
    """Cap on the runs of one loop (warm-up or timed)."""
    max_seconds: float = 30.0
    """Cap on the wall time of one loop (warm-up or timed)."""


@dataclass(frozen=True)
class JobSpec:
    """One tower on one device with one backend: what to measure, and where to write."""

    tower: str
    """'image' or 'text'."""
    backend: str
    """'executorch', 'tflite' or 'coreml'."""
    artifact: FileRef
    """The batch-1 artifact (latency)."""
    inputs: InputsRef
    """The whole test split, preprocessed (not normalised)."""
    output_dir: str
    """Folder for result.json and embeddings.npy (made if missing)."""
    gallery: GalleryRef | None = None
    """The batch-B artifact that encodes the split; None = encode with `artifact` at batch 1."""
    job_id: str = ""
    """The runner's id of this job (echoed in the result)."""
    threads: int = 1
    """Inference threads, set before the artifact is loaded."""
    affinity: tuple[int, ...] = ()
    """CPU ids to pin the process to; () = no pinning."""
    protocol: Protocol = field(default_factory=Protocol)
    """Warm-up and timed-run gates."""
    encode: bool = True
    """Encode the whole split (gallery throughput and embeddings)."""
    thermal_zones: tuple[str, ...] = ()
    """Temperature files (millidegrees C) read before and after."""
    workdir: str = ""
    """Base of relative paths (added field); '' = the agent's current directory."""
    runtime: str = ""
    """Force one runtime by registry name (added field); '' = the backend's preference order."""
    runtime_options: dict = field(default_factory=dict)
    """Runtime-specific settings (added field), e.g. {'compute_units': 'CPU_ONLY'} for Core ML."""
    profile: int = 0
    """Inferences of a profiling pass after the timed loops (added field; docs/agent-protocol.md): 0 = no pass."""
    schema: int = SCHEMA

    def resolve(self, path: str) -> Path:
        """A job path on this device: relative paths are under `workdir` (or the current directory)."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(self.workdir or ".").expanduser() / p

    def to_dict(self) -> dict:
        """The JSON-ready job spec."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "JobSpec":
        """Parse and check a job spec; a bad one is an AgentError naming the field."""
        if not isinstance(data, dict):
            raise AgentError("verify", "job spec: expected a JSON object")
        if data.get("schema", SCHEMA) != SCHEMA:
            found = data.get("schema")
            raise AgentError("verify", f"job spec: schema {found!r} not supported (this agent reads {SCHEMA})")
        job = cls(
            tower=_choice(data, "tower", TOWERS),
            backend=_req(data, "backend", str),
            artifact=FileRef(**_file_fields(data, "artifact")),
            inputs=_inputs(data),
            output_dir=_req(data, "output_dir", str),
            gallery=_gallery(data),
            job_id=str(data.get("job_id", "")),
            threads=_int(data, "threads", 1, minimum=1),
            affinity=tuple(_int_list(data, "affinity")),
            protocol=_protocol(data.get("protocol") or {}),
            encode=bool(data.get("encode", True)),
            thermal_zones=tuple(str(z) for z in data.get("thermal_zones") or ()),
            workdir=str(data.get("workdir") or ""),
            runtime=str(data.get("runtime") or ""),
            runtime_options=dict(data.get("runtime_options") or {}),
            profile=_int(data, "profile", 0),
        )
        return job


def _req(data: dict, key: str, kind: type, where: str = "") -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or (kind is str and not value):
        raise AgentError("verify", f"job spec: {where}{key} missing or not a {kind.__name__}")
    return value


def _choice(data: dict, key: str, allowed: tuple[str, ...], where: str = "") -> str:
    value = data.get(key)
    if value not in allowed:
        raise AgentError("verify", f"job spec: {where}{key}={value!r}, expected one of {', '.join(allowed)}")
    return value


def _int(data: dict, key: str, default: int, minimum: int = 0, where: str = "") -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise AgentError("verify", f"job spec: {where}{key}={value!r}, expected an integer >= {minimum}")
    return value


def _float(data: dict, key: str, default: float, where: str = "") -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise AgentError("verify", f"job spec: {where}{key}={value!r}, expected a number >= 0")
    return float(value)


def _int_list(data: dict, key: str) -> list[int]:
    values = data.get(key) or []
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise AgentError("verify", f"job spec: {key} must be a list of integers")
    return values


def _file_fields(data: dict, key: str) -> dict:
    ref = data.get(key)
    if not isinstance(ref, dict):
        raise AgentError("verify", f"job spec: {key} missing or not an object")
    return {"path": _req(ref, "path", str, f"{key}."), "sha256": str(ref.get("sha256") or "").lower()}


def _gallery(data: dict) -> GalleryRef | None:
    if not data.get("gallery"):
        return None
    batch = _int(data["gallery"], "batch", 1, minimum=1, where="gallery.")
    return GalleryRef(**_file_fields(data, "gallery"), batch=batch)


def _inputs(data: dict) -> InputsRef:
    ref = data.get("inputs") if isinstance(data.get("inputs"), dict) else {}
    kind = _choice(ref, "kind", INPUT_KINDS, "inputs.")
    stats = {}
    for key in ("mean", "std"):
        value = ref.get(key, getattr(InputsRef, key))
        numbers = isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value)
        if not numbers or len(value) != 3:
            raise AgentError("verify", f"job spec: inputs.{key} must be 3 numbers")
        stats[key] = tuple(float(v) for v in value)
    if any(s == 0 for s in stats["std"]):
        raise AgentError("verify", "job spec: inputs.std has a zero")
    return InputsRef(**_file_fields(data, "inputs"), kind=kind, **stats)


def _protocol(data: dict) -> Protocol:
    if not isinstance(data, dict):
        raise AgentError("verify", "job spec: protocol must be an object")
    d = Protocol()
    p = Protocol(
        warmup_min_runs=_int(data, "warmup_min_runs", d.warmup_min_runs, where="protocol."),
        warmup_min_seconds=_float(data, "warmup_min_seconds", d.warmup_min_seconds, "protocol."),
        min_runs=_int(data, "min_runs", d.min_runs, minimum=1, where="protocol."),
        min_seconds=_float(data, "min_seconds", d.min_seconds, "protocol."),
        max_runs=_int(data, "max_runs", d.max_runs, minimum=1, where="protocol."),
        max_seconds=_float(data, "max_seconds", d.max_seconds, "protocol."),
    )
    if p.min_runs > p.max_runs or p.warmup_min_runs > p.max_runs:
        raise AgentError("verify", f"job spec: protocol min runs exceed max_runs={p.max_runs}")
    if p.min_seconds > p.max_seconds or p.warmup_min_seconds > p.max_seconds:
        raise AgentError("verify", f"job spec: protocol min seconds exceed max_seconds={p.max_seconds}")
    return p
