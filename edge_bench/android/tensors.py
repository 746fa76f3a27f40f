"""Raw tensors in and out of the native runners, and the on-device vs host fidelity figures.

Both runners read inputs and write outputs as the tensor's raw bytes (row-major,
native little-endian on arm64): `benchmark_model --input_layer_value_files` checks
the file size against the tensor's byte size; `executor_runner --inputs` copies a
file into each input; `--output_filepath` / `--output_file` write the output bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from edge_bench.errors import JobError

_DTYPES = {"float32": np.float32, "float16": np.float16, "int32": np.int32, "int64": np.int64,
           "uint8": np.uint8, "int8": np.int8}


@dataclass(frozen=True)
class TensorSpec:
    """A model input or output as the artifact manifest describes it."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def nbytes(self) -> int:
        """Bytes of the raw tensor."""
        return int(np.prod(self.shape)) * np.dtype(_DTYPES[self.dtype]).itemsize


SOURCES = ("artifact", "manifest", "manifest.json", "none")
"""Where an artifact's tensor specs came from: read from the file on this machine, the manifest
entry the caller passed, the `manifest.json` beside the file, or nowhere."""


@dataclass(frozen=True)
class ArtifactIO:
    """An artifact's inputs and outputs, and where they were read from (one of SOURCES)."""

    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    source: str


def specs_from_entries(items: Any, what: str = "tensor") -> list[TensorSpec]:
    """TensorSpecs from manifest-style entries `[{name, shape, dtype}, ...]`; a malformed one is a JobError."""
    if not isinstance(items, (list, tuple)):
        raise JobError(f"{what} specs must be a list of {{name, shape, dtype}}, got {type(items).__name__}")
    specs = []
    for i, item in enumerate(items):
        if isinstance(item, TensorSpec):
            specs.append(item)
            continue
        shape = item.get("shape") if isinstance(item, dict) else None
        if not isinstance(shape, (list, tuple)) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                                           for d in shape):
            raise JobError(f"{what} {i}: shape must be a list of non-negative integers, got {shape!r}")
        dtype = str(item.get("dtype", "float32"))
        if dtype not in _DTYPES:
            raise JobError(f"{what} {i}: dtype {dtype!r} is not one edge-bench feeds",
                           hint=f"use one of {', '.join(_DTYPES)}")
        specs.append(TensorSpec(str(item.get("name") or f"input_{i}"), tuple(int(d) for d in shape), dtype))
    return specs


def declared_specs(artifact: Path) -> tuple[list[TensorSpec], list[TensorSpec]] | None:
    """Inputs and outputs as the artifact file itself declares them, read with this machine's runtime:
    a `.tflite` with ai_edge_litert's Interpreter (the graph's input tensor names, which
    `benchmark_model --input_layer` takes), a `.pte` from the program's method metadata
    (positional: `executor_runner --inputs` takes files in input order). None when the host
    has no such runtime or cannot read the file."""
    suffix = Path(artifact).suffix
    try:
        if suffix == ".tflite":
            from edge_bench.converters.tflite_backend import declared_io
        elif suffix == ".pte":
            from edge_bench.converters.executorch_backend import declared_io
        else:
            return None
        io = declared_io(Path(artifact))
    except Exception:  # no runtime here (ImportError), or a file it cannot read: fall back
        return None
    return specs_from_entries(io["inputs"], "input"), specs_from_entries(io["outputs"], "output")


def _beside(artifact: Path) -> dict | None:
    """The entry for `artifact` in a `manifest.json` beside it (an artifact set's own folder), if any."""
    manifest = artifact.parent / "manifest.json"
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return None
    for tower in (data.get("towers") or {}).values() if isinstance(data, dict) else ():
        for entry in tower.get("artifacts", []):
            if entry.get("file") == artifact.name:
                return entry
    return None


def artifact_io(artifact: Path, manifest_entry: dict | None = None) -> ArtifactIO:
    """The native runner's inputs and outputs for one artifact file, and where they came from.

    First the artifact itself (when this machine has the backend's runtime: ai_edge_litert
    for `.tflite`, executorch for `.pte`), then `manifest_entry` (the artifact's entry in its
    set's manifest, `{"inputs": [...], "outputs": [...]}`, as the caller has it), then a
    `manifest.json` beside the file; `source` "none" and empty lists when none of them says.
    """
    artifact = Path(artifact)
    declared = declared_specs(artifact)
    if declared is not None:
        return ArtifactIO(declared[0], declared[1], "artifact")
    for entry, source in ((manifest_entry, "manifest"), (_beside(artifact), "manifest.json")):
        if entry and entry.get("inputs"):
            return ArtifactIO(specs_from_entries(entry["inputs"], "input"),
                              specs_from_entries(entry.get("outputs") or [], "output"), source)
    return ArtifactIO([], [], "none")


def artifact_specs(artifact: Path, manifest_entry: dict | None = None) -> tuple[list[TensorSpec], list[TensorSpec]]:
    """Inputs and outputs of one artifact file for its native runner ([] when unknown): read from
    the artifact itself when this machine can, else from `manifest_entry` (see `artifact_io`)."""
    io = artifact_io(artifact, manifest_entry)
    return io.inputs, io.outputs


def model_input(items: np.ndarray, kind: str, mean: list[float] | None, std: list[float] | None) -> np.ndarray:
    """What the model takes for a slice of the job's inputs: normalised float32 pixels or int32 tokens."""
    if kind == "uint8_images":
        from edge_bench.data.preprocess import normalize

        return np.ascontiguousarray(normalize(items, mean or [0.0, 0.0, 0.0], std or [1.0, 1.0, 1.0]), dtype=np.float32)
    if kind == "int32_tokens":
        return np.ascontiguousarray(items, dtype=np.int32)
    raise JobError(f"unknown input kind '{kind}' in the job", hint="expected uint8_images or int32_tokens")


def write_raw(tensor: np.ndarray, path: Path, expected: TensorSpec | None = None) -> Path:
    """Write `tensor` as raw little-endian bytes; check its size against the manifest when given."""
    data = np.ascontiguousarray(tensor)
    if expected is not None and data.nbytes != expected.nbytes:
        raise JobError(f"input '{expected.name}' would be {data.nbytes} bytes but the artifact takes "
                       f"{expected.nbytes} ({expected.shape} {expected.dtype})",
                       hint="the job's inputs do not match the artifact's batch size or input size")
    path.parent.mkdir(parents=True, exist_ok=True)
    data.astype(data.dtype.newbyteorder("<"), copy=False).tofile(path)
    return path


def read_raw_output(path: Path, spec: TensorSpec | None, dtype: str = "float32") -> np.ndarray:
    """A runner's output file as an array: shaped by the manifest, else (1, n) of `dtype`."""
    raw = np.fromfile(path, dtype=np.dtype(_DTYPES[spec.dtype if spec else dtype]).newbyteorder("<"))
    if spec is not None:
        if raw.size != int(np.prod(spec.shape)):
            raise JobError(f"output file {path.name} holds {raw.size} values, the artifact's output "
                           f"'{spec.name}' has {int(np.prod(spec.shape))}")
        return raw.reshape(spec.shape)
    return raw.reshape(1, -1)


def cosine_fidelity(device: np.ndarray, host: np.ndarray) -> dict:
    """How close on-device outputs are to the host's for the same inputs (edge_bench.metrics.fidelity), per row too."""
    from edge_bench.metrics.fidelity import cosine_rows, cosine_stats

    a = np.asarray(device, dtype=np.float64).reshape(len(device), -1)
    b = np.asarray(host, dtype=np.float64).reshape(len(host), -1)
    if a.shape != b.shape:
        raise JobError(f"device outputs {a.shape} and host outputs {b.shape} differ in shape")
    stats = cosine_stats(a, b)
    return {"n": stats["n"], "cosine_min": stats["cosine_min"], "cosine_mean": stats["cosine_mean"],
            "max_abs_diff": stats["max_abs_diff"], "cosine": [float(c) for c in cosine_rows(a, b)]}


def host_reference(artifact: Path, backend: str) -> Callable[[list[np.ndarray]], np.ndarray]:
    """The same artifact run on this machine, one input tensor list per call: the converters' own loader."""
    from edge_bench.converters import load_artifact
    from edge_bench.errors import EdgeBenchError

    try:
        runner = load_artifact(artifact, backend, threads=1)
    except EdgeBenchError as exc:
        raise JobError(f"no host runtime for backend '{backend}' to compare against: {exc.one_line()}") from None

    def run(inputs: list[np.ndarray]) -> np.ndarray:
        if len(inputs) != 1:
            raise JobError(f"{artifact.name}: the host reference feeds one input per tower, got {len(inputs)}")
        return runner(np.ascontiguousarray(inputs[0]))

    return run
