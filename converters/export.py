"""Stages every backend shares: torch.export of a tower, FLOP counting, writing files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edge_bench.errors import ConversionError


def first_line(exc: BaseException, limit: int = 240) -> str:
    """The first non-empty line of an exception, for one-line messages."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()[:limit]
    return type(exc).__name__


def as_tensor(array: np.ndarray):
    """A numpy batch as a torch tensor (int32 tokens stay int32)."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(array))


def export_program(module, example: np.ndarray):
    """torch.export of a tower at a static shape; a failure is a ConversionError."""
    import torch

    try:
        return torch.export.export(module, (as_tensor(example),), strict=False)
    except Exception as exc:  # torch.export raises many kinds
        raise ConversionError(
            f"torch.export failed ({type(exc).__name__}: {first_line(exc)})",
            hint="the tower needs static shapes and no data-dependent Python control flow",
        ) from None


def eager(module, inputs: np.ndarray) -> np.ndarray:
    """The eager tower's embeddings of one batch, float32 numpy."""
    import torch

    with torch.inference_mode():
        return module(as_tensor(inputs)).float().numpy()


def count_flops(module, example: np.ndarray) -> int:
    """FLOPs of one forward pass (torch.utils.flop_counter: matmuls, convolutions, attention).

    Runs with autograd on: without it nn.MultiheadAttention takes its fused
    inference fast path, whose projections the counter does not see. The CPU
    kernel of scaled_dot_product_attention gets the counter's own SDPA formula
    (torch registers it for the GPU kernels only)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

    def cpu_sdpa(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
        return sdpa_flop_count(query_shape, key_shape, value_shape)

    cpu_kernel = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
    counter = FlopCounterMode(display=False, custom_mapping={cpu_kernel: cpu_sdpa} if cpu_kernel is not None else None)
    with torch.enable_grad(), counter:
        module(as_tensor(example))
    return int(counter.get_total_flops())


def write_bytes(path: Path, data: bytes) -> None:
    """Write a file atomically (tmp + rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def package_version(name: str) -> str:
    """An installed distribution's version, or '' when absent."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""
