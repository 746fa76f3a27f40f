"""Fidelity: the cosine of each embedding to a reference embedding of the same input.

The one definition the runner (device vs fp32 PyTorch, device vs the host's run
of the same artifact), the converters' parity check and the Android on-device
sample all use.
"""

from __future__ import annotations

import numpy as np


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of matching rows (float64; 0 for a zero row)."""
    a = np.asarray(a, dtype=np.float64).reshape(len(a), -1)
    b = np.asarray(b, dtype=np.float64).reshape(len(b), -1)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.where(norms > 0, np.sum(a * b, axis=1) / np.where(norms > 0, norms, 1.0), 0.0)


def cosine_stats(outputs: np.ndarray, reference: np.ndarray) -> dict:
    """cosine_mean, cosine_min, cosine_p01, max_abs_diff and n of outputs against a reference of the same inputs.

    Mismatched shapes give {'error': ...} rather than a number.
    """
    a = np.asarray(outputs)
    b = np.asarray(reference)
    if a.shape != b.shape:
        return {"error": f"shape {list(a.shape)} vs reference {list(b.shape)}", "n": 0}
    if not len(a):
        return {"error": "no rows", "n": 0}
    cos = cosine_rows(a, b)
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    return {"cosine_mean": float(cos.mean()), "cosine_min": float(cos.min()), "cosine_p01": float(np.percentile(cos, 1)),
            "max_abs_diff": float(diff.max()), "n": int(len(cos))}
