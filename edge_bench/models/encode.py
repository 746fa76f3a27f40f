"""Running an eager tower over inputs in batches (evaluation, binding score, references)."""

from __future__ import annotations

import numpy as np


def encode(module, inputs: np.ndarray, batch_size: int, prepare, on_batch=None) -> np.ndarray:
    """Run a tower over inputs in batches: (N, D) float32."""
    import torch

    chunks = []
    with torch.inference_mode():
        for start in range(0, len(inputs), batch_size):
            batch = torch.from_numpy(prepare(inputs[start : start + batch_size]))
            chunks.append(module(batch).float().numpy())
            if on_batch is not None:
                on_batch(min(start + batch_size, len(inputs)), len(inputs))
    return np.concatenate(chunks) if chunks else np.zeros((0, 0), dtype=np.float32)
