"""Let PyPI's torchvision 0.28 import beside the CPU build of torch 2.13.

That torchvision wheel registers fake (meta) kernels for its `nms` and `qnms`
operators at import, but its compiled library, built against another torch,
fails to define their schemas; the import then dies with
"operator torchvision::nms does not exist". Defining the two schemas first lets
the import succeed. edge-bench never calls these operators: open_clip, timm
and transformers import torchvision only for transforms and helpers.

Import this module before anything that may import torchvision.
"""

from __future__ import annotations

_SCHEMAS = {
    "torchvision::nms": "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "torchvision::qnms": "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}


def ensure() -> None:
    """Define the missing operator schemas once, if torchvision has not."""
    import torch

    for name, schema in _SCHEMAS.items():
        namespace, op = name.split("::")
        if hasattr(getattr(torch.ops, namespace), op):
            continue
        try:
            torch.library.define(name, schema)
        except RuntimeError:  # defined meanwhile (by torchvision's own library)
            pass


ensure()
