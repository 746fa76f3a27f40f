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
from typing import Callable

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


def artifact_specs(artifact: Path) -> tuple[list[TensorSpec], list[TensorSpec]]:
    """Inputs and outputs of one artifact file from the `manifest.json` beside it ([] when unknown)."""
    manifest = artifact.parent / "manifest.json"
    if not manifest.is_file():
        return [], []
    data = json.loads(manifest.read_text())
    for tower in data.get("towers", {}).values():
        for entry in tower.get("artifacts", []):
            if entry.get("file") == artifact.name:
                def specs(items: list[dict]) -> list[TensorSpec]:
                    return [TensorSpec(item.get("name", f"input_{i}"), tuple(item["shape"]), item.get("dtype", "float32"))
                            for i, item in enumerate(items)]
                return specs(entry.get("inputs", [])), specs(entry.get("outputs", []))
    return [], []


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
    """How close on-device outputs are to the host's for the same inputs: cosine per row, max |diff|."""
    a = np.asarray(device, dtype=np.float64).reshape(len(device), -1)
    b = np.asarray(host, dtype=np.float64).reshape(len(host), -1)
    if a.shape != b.shape:
        raise JobError(f"device outputs {a.shape} and host outputs {b.shape} differ in shape")
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    cosine = np.where(norms > 0, np.sum(a * b, axis=1) / np.where(norms > 0, norms, 1.0), 0.0)
    return {"n": int(len(a)), "cosine_min": float(cosine.min()), "cosine_mean": float(cosine.mean()),
            "max_abs_diff": float(np.max(np.abs(a - b))), "cosine": [float(c) for c in cosine]}


def host_reference(artifact: Path, backend: str) -> Callable[[list[np.ndarray]], np.ndarray]:
    """A function running the same artifact on this machine's runtime, one input tensor list per call."""
    if backend == "tflite":
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=str(artifact), num_threads=1)
        interpreter.allocate_tensors()
        runner = interpreter.get_signature_runner() if interpreter.get_signature_list() else None

        def run_tflite(inputs: list[np.ndarray]) -> np.ndarray:
            if runner is not None:
                names = list(interpreter.get_signature_list().values())[0]["inputs"]
                return next(iter(runner(**dict(zip(names, inputs))).values()))
            for detail, value in zip(interpreter.get_input_details(), inputs):
                interpreter.set_tensor(detail["index"], value)
            interpreter.invoke()
            return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])

        return run_tflite
    if backend == "executorch":
        import torch
        from executorch.runtime import Runtime

        method = Runtime.get().load_program(str(artifact)).load_method("forward")

        def run_executorch(inputs: list[np.ndarray]) -> np.ndarray:
            return method.execute([torch.from_numpy(np.ascontiguousarray(x)) for x in inputs])[0].numpy()

        return run_executorch
    raise JobError(f"no host runtime for backend '{backend}' to compare against")
