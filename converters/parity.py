"""Parity of an artifact against eager PyTorch, on real inputs.

Per tower: the cosine similarity of each artifact embedding to the eager one
(minimum and mean over the parity items) and the largest absolute difference.

Thresholds on the minimum cosine:

| precision    | threshold | below it                                   |
|--------------|-----------|--------------------------------------------|
| fp32         | 0.999     | the conversion fails (ConversionError)     |
| fp16         | 0.995     | a warning in the manifest and the summary  |
| int8-dynamic | 0.98      | a warning                                  |
| int8         | 0.97      | a warning                                  |

fp16 only rounds weights and activations to 11 significant bits, so anything
under 0.995 means a broken op; dynamic int8 keeps activations in float
between layers and typically stays above 0.99; static int8 also quantizes
activations with calibrated ranges, so 0.97 is where retrieval quality starts
to move visibly.
"""

from __future__ import annotations

import numpy as np

from edge_bench.errors import ConversionError

THRESHOLDS = {"fp32": 0.999, "fp16": 0.995, "int8-dynamic": 0.98, "int8": 0.97}
HARD_FAIL = frozenset({"fp32"})
NOT_RUN = "not run (needs macOS)"


def compare(outputs: np.ndarray, reference: np.ndarray) -> dict:
    """Cosine (min, mean) and max abs diff of artifact vs eager embeddings."""
    a = np.asarray(outputs, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape:
        raise ConversionError(f"artifact output shape {a.shape} differs from eager {b.shape}")
    if not np.all(np.isfinite(a)):
        return {"cosine_min": 0.0, "cosine_mean": 0.0, "max_abs_diff": float("inf"), "n": int(len(a))}
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    cosine = np.sum(a * b, axis=1) / np.maximum(norms, 1e-12)
    return {
        "cosine_min": float(cosine.min()),
        "cosine_mean": float(cosine.mean()),
        "max_abs_diff": float(np.abs(a - b).max()),
        "n": int(len(a)),
    }


def judge(precision: str, figures: dict) -> dict:
    """Figures with a status ('ok', 'warn' or 'fail') and the threshold applied."""
    threshold = THRESHOLDS[precision]
    out = dict(figures, threshold=threshold, status="ok")
    if figures["cosine_min"] < threshold:
        out["status"] = "fail" if precision in HARD_FAIL else "warn"
    return out


def not_run(reason: str = NOT_RUN) -> dict:
    """Parity that could not run here (Core ML off macOS)."""
    return {"cosine_min": None, "cosine_mean": None, "max_abs_diff": None, "n": 0, "status": reason}


def worst(figures: list[dict]) -> dict:
    """One tower's parity over its artifacts (one per batch size): the worst of each figure."""
    ran = [f for f in figures if f.get("cosine_min") is not None]
    if not ran:
        return dict(figures[0]) if figures else not_run()
    order = {"fail": 2, "warn": 1, "ok": 0}
    return {
        "cosine_min": min(f["cosine_min"] for f in ran),
        "cosine_mean": min(f["cosine_mean"] for f in ran),
        "max_abs_diff": max(f["max_abs_diff"] for f in ran),
        "n": sum(f["n"] for f in ran),
        "threshold": ran[0]["threshold"],
        "status": max((f["status"] for f in ran), key=lambda s: order.get(s, 0)),
    }
