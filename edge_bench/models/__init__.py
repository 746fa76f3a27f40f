"""The student zoo: CLIP models as separate, export-ready image and text towers."""

from edge_bench.models.base import ClipModel, ModelSpec, Preprocess, Tokenizer, WeightsInfo
from edge_bench.models.registry import create_model, get_spec, list_models, register_model

__all__ = [
    "ClipModel",
    "ModelSpec",
    "Preprocess",
    "Tokenizer",
    "WeightsInfo",
    "create_model",
    "get_spec",
    "list_models",
    "register_model",
]
