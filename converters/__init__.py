"""Converters: one module per backend behind one protocol and a registry.

    convert(model, backend, precision, out_root=None, batch_sizes=(1, 8), dataset=None, progress=None) -> ArtifactSet
    list_backends() / get_converter(name)
    load_artifact(path, backend, threads=1) -> numpy-in/numpy-out runner
    host_embed(artifact_set, dataset, threads=1) -> (image embeddings, caption embeddings)

Backends: ExecuTorch `.pte` (XNNPACK), Core ML `.mlpackage`, TFLite `.tflite`.
Nothing here imports a toolchain until a conversion or a runner needs it.
"""

from edge_bench.converters.artifact import ArtifactSet
from edge_bench.converters.base import PRECISIONS, Converter, TowerJob, get_converter, list_backends, register_converter
from edge_bench.converters.host import host_embed, load_artifact
from edge_bench.converters.parity import THRESHOLDS
from edge_bench.converters.pipeline import convert
from edge_bench.converters.plan import ConvertPlan, plan_conversions

__all__ = [
    "PRECISIONS",
    "THRESHOLDS",
    "ArtifactSet",
    "ConvertPlan",
    "Converter",
    "TowerJob",
    "convert",
    "get_converter",
    "host_embed",
    "list_backends",
    "load_artifact",
    "plan_conversions",
    "register_converter",
]
