"""Core ML `.mlpackage` (ML program): fp32, fp16, int8 weights.

Converted from the torch.export program (coremltools 9 warns that torch 2.13
is untested; conversion works). fp16 computes in float16; int8 stores
per-channel symmetric int8 weights (coremltools.optimize) over float16
compute, as shipped for the Neural Engine. Inputs and outputs stay float32
(int32 tokens), like the other backends.

`predict` needs macOS: elsewhere `load` raises BackendUnavailable and the
converter checks the spec instead (inputs, outputs, ops and weight dtypes
read from the MIL program).
"""

from __future__ import annotations

import platform
from collections import Counter
from pathlib import Path

import numpy as np

from edge_bench.converters.base import Converter, Runner, TowerJob, io_spec, register_converter
from edge_bench.converters.export import export_program, package_version
from edge_bench.errors import BackendUnavailable, ConversionError

TARGET = "iOS17"
"""Minimum deployment target (iOS 17 / macOS 14): ML program with int8 weight ops."""
_SPEC_DTYPES = {"FLOAT32": "float32", "FLOAT16": "float16", "INT32": "int32", "INT8": "int8"}


def _compute_precision(precision: str):
    import coremltools as ct

    return ct.precision.FLOAT32 if precision == "fp32" else ct.precision.FLOAT16


def _operations(spec):
    for function in spec.mlProgram.functions.values():
        for block in function.block_specializations.values():
            yield from block.operations


def _weight_dtypes(spec) -> dict[str, int]:
    """How many weight tensors (rank >= 2 constants) are stored in each dtype."""
    from coremltools.proto import MIL_pb2

    counts: Counter = Counter()
    for op in _operations(spec):
        if op.type != "const" and not op.type.startswith("constexpr"):
            continue
        for name, value in op.attributes.items():
            tensor = value.type.tensorType if value.type.WhichOneof("type") == "tensorType" else None
            if tensor is not None and name in ("val", "quantized_data", "data") and tensor.rank >= 2:
                counts[MIL_pb2.DataType.Name(tensor.dataType).lower()] += 1
    return dict(counts)


def _features(features) -> list[dict]:
    from coremltools.proto import FeatureTypes_pb2

    out = []
    for feature in features:
        array = feature.type.multiArrayType
        dtype = FeatureTypes_pb2.ArrayFeatureType.ArrayDataType.Name(array.dataType)
        out.append(io_spec(feature.name, list(array.shape), _SPEC_DTYPES.get(dtype, dtype.lower())))
    return out


@register_converter
class CoreMLConverter(Converter):
    """Core ML ML program (runs on macOS and iOS)."""

    name = "coreml"
    suffix = ".mlpackage"
    precisions = ("fp32", "fp16", "int8")
    requires = ("coremltools",)
    extra = "coreml"
    runs_on = ("macos", "ios")
    schemes = {
        "fp32": "ML program, float32 compute",
        "fp16": "ML program, float16 weights and compute",
        "int8": "ML program, per-channel symmetric int8 weights (coremltools.optimize), float16 compute",
    }

    def versions(self) -> dict[str, str]:
        return {"coremltools": package_version("coremltools")}

    def convert(self, job: TowerJob, path: Path) -> dict:
        import coremltools as ct

        program = export_program(job.module, job.example).run_decompositions({})
        dtype = np.int32 if job.example.dtype == np.int32 else np.float32
        model = ct.convert(
            program,
            convert_to="mlprogram",
            inputs=[ct.TensorType(name="x", shape=tuple(job.example.shape), dtype=dtype)],
            outputs=[ct.TensorType(name="y", dtype=np.float32)],
            compute_precision=_compute_precision(job.precision),
            minimum_deployment_target=getattr(ct.target, TARGET),
        )
        if job.precision == "int8":
            model = self._int8_weights(model)
        model.save(str(path))
        spec = model.get_spec()
        return {
            "compute_precision": "fp32" if job.precision == "fp32" else "fp16",
            "weights": "int8 per-channel" if job.precision == "int8" else job.precision,
            "deployment_target": TARGET,
            "ops": dict(sorted(Counter(op.type for op in _operations(spec)).items())),
        }

    @staticmethod
    def _int8_weights(model):
        from coremltools.optimize.coreml import OpLinearQuantizerConfig, OptimizationConfig, linear_quantize_weights

        config = OpLinearQuantizerConfig(mode="linear_symmetric", dtype="int8", granularity="per_channel")
        return linear_quantize_weights(model, OptimizationConfig(global_config=config))

    def inspect(self, path: Path) -> dict:
        import coremltools as ct

        try:
            spec = ct.models.MLModel(str(path), skip_model_load=True).get_spec()
        except Exception as exc:
            raise ConversionError(f"{path.name} is not a readable Core ML package ({exc})") from None
        return {
            "inputs": _features(spec.description.input),
            "outputs": _features(spec.description.output),
            "ops": dict(sorted(Counter(op.type for op in _operations(spec)).items())),
            "weight_dtypes": _weight_dtypes(spec),
        }

    def check_spec(self, inspected: dict, job: TowerJob, embed_dim: int) -> list[str]:
        """The interface checks, plus weights stored in the precision's dtype."""
        problems = super().check_spec(inspected, job, embed_dim)
        weights = inspected.get("weight_dtypes", {})
        if not inspected.get("ops"):
            problems.append("the ML program has no operations")
        wanted = {"fp32": "float32", "fp16": "float16", "int8": "int8"}[job.precision]
        if not weights.get(wanted):
            problems.append(f"no {wanted} weights in a {job.precision} model (weights: {weights})")
        if job.precision == "fp32" and weights.get("float16"):
            problems.append(f"float16 weights in an fp32 model ({weights})")
        return problems

    def load(self, path: Path, threads: int | None = 1) -> Runner:
        if platform.system() != "Darwin":
            raise BackendUnavailable(
                "Core ML artifacts run only on macOS or iOS", hint="run this on a Mac, or use a Mac device profile"
            )
        import coremltools as ct

        model = ct.models.MLModel(str(path), compute_units=ct.ComputeUnit.CPU_ONLY)

        def run(batch: np.ndarray) -> np.ndarray:
            return np.asarray(model.predict({"x": batch})["y"], dtype=np.float32)

        return run
