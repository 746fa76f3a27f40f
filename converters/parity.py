"""Parity of an artifact against eager PyTorch, on real inputs.

Per tower: the cosine similarity of each artifact embedding to the eager one
(minimum and mean over the parity items) and the largest absolute difference.

Every precision has a floor on the minimum cosine (PARITY_FLOORS, the one
table the converters apply and the tests import): an artifact below its
precision's floor fails the conversion (ConversionError naming the cosine and
the floor) and leaves no file.

| precision    | floor  | why                                                        |
|--------------|--------|------------------------------------------------------------|
| fp32         | 0.999  | the same arithmetic in another order                       |
| fp16         | 0.995  | 11 significant bits: anything lower is a broken op         |
| int8-dynamic | 0.995  | zoo worst 0.9986 (activations stay float between layers)   |
| int8         | 0.90   | zoo worst 0.922 (calibrated int8 activations)              |

Core ML artifacts cannot run off macOS: there the spec is checked instead and
no floor applies.
"""

from __future__ import annotations

import numpy as np

from edge_bench.errors import ConversionError
from edge_bench.metrics.fidelity import cosine_stats

PARITY_FLOORS = {
    "fp32": 0.999,
    "fp16": 0.995,
    # The int8 floors sit a margin below the worst cosine_min measured on the built-in zoo
    # (edgeclip-teacher, -m-distilled, -m-scratch, -s-distilled, -s-scratch; shipped weights;
    # ExecuTorch and TFLite; both towers at batch 1 and 8; the default parity items):
    #   int8-dynamic: ExecuTorch 0.99874, TFLite 0.99862 (both edgeclip-m-scratch image, b1);
    #                 best 0.99995 (text towers)
    #   int8:         ExecuTorch 0.96820 (edgeclip-teacher image, b1), TFLite 0.92235
    #                 (edgeclip-s-scratch text, b1; 0.9355 / 0.9402 for edgeclip-s-distilled
    #                 image / text, 0.958 for the teacher's image tower); best 0.9994
    #   fp16 (TFLite): 1.00000 on every model, far above its 0.995
    "int8-dynamic": 0.995,
    "int8": 0.90,
}
"""Minimum cosine to eager PyTorch (worst parity item, worst batch size) per precision."""
THRESHOLDS = PARITY_FLOORS
"""The table's former name (edge_bench.converters exports it)."""
NOT_RUN = "not run (needs macOS)"


def compare(outputs: np.ndarray, reference: np.ndarray) -> dict:
    """Cosine (min, mean) and max abs diff of artifact vs eager embeddings."""
    a = np.asarray(outputs, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    if a.shape != b.shape:
        raise ConversionError(f"artifact output shape {a.shape} differs from eager {b.shape}")
    if not np.all(np.isfinite(a)):
        return {"cosine_min": 0.0, "cosine_mean": 0.0, "max_abs_diff": float("inf"), "n": int(len(a))}
    stats = cosine_stats(a, b)  # the one fidelity definition (edge_bench.metrics.fidelity)
    return {"cosine_min": stats["cosine_min"], "cosine_mean": stats["cosine_mean"], "max_abs_diff": stats["max_abs_diff"],
            "n": stats["n"]}


def judge(precision: str, figures: dict) -> dict:
    """Figures with a status, 'ok' or 'fail' (cosine_min below the precision's floor), and the
    floor applied as 'threshold'. The conversion raises on 'fail'."""
    floor = PARITY_FLOORS[precision]
    return dict(figures, threshold=floor, status="fail" if figures["cosine_min"] < floor else "ok")


def not_run(reason: str = NOT_RUN) -> dict:
    """Parity that could not run here (Core ML off macOS)."""
    return {"cosine_min": None, "cosine_mean": None, "max_abs_diff": None, "n": 0, "status": reason}


def worst(figures: list[dict]) -> dict:
    """One tower's parity over its artifacts (one per batch size): the worst of each figure."""
    ran = [f for f in figures if f.get("cosine_min") is not None]
    if not ran:
        return dict(figures[0]) if figures else not_run()
    order = {"fail": 2, "warn": 1, "ok": 0}  # 'warn': manifests written before int8 and fp16 had hard floors
    return {
        "cosine_min": min(f["cosine_min"] for f in ran),
        "cosine_mean": min(f["cosine_mean"] for f in ran),
        "max_abs_diff": max(f["max_abs_diff"] for f in ran),
        "n": sum(f["n"] for f in ran),
        "threshold": ran[0]["threshold"],
        "status": max((f["status"] for f in ran), key=lambda s: order.get(s, 0)),
    }
