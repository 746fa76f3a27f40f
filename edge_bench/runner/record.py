"""Job records: the agent's raw figures turned into what the store keeps and reports show.

A record keeps the raw samples (inside the statistics), per-tower timing and
memory, throughput, achieved GFLOP/s against the device's peak, recall with
its label, fidelity, and full provenance.
"""

from __future__ import annotations

import platform

import numpy as np

from edge_bench.records.stats import Stats

AGREEMENT_MIN_COSINE = 0.999
"""Device output whose cosine to the host's run of the same artifact falls below this disagrees with the host."""


def tower_summary(result: dict, flops: float | None, peak_gflops: float | None) -> dict:
    """Statistics, throughput and hardware share of one tower's agent result."""
    latency = Stats.of(result.get("latency_s") or [], first=result.get("first_inference_s"))
    gallery = result.get("gallery") or {}
    batches = Stats.of(gallery.get("batch_latency_s") or [])
    achieved = flops / latency.median / 1e9 if flops and latency.n else None
    return {
        "latency": latency.as_dict(),
        "notes": latency.warnings(),
        "load_s": result.get("load_s"),
        "first_inference_s": result.get("first_inference_s"),
        "warmup": result.get("warmup"),
        "timed": result.get("timed"),
        "gallery": {
            "batch": gallery.get("batch"),
            "n_items": gallery.get("n_items"),
            "items_per_s": gallery.get("items_per_s"),
            "wall_s": gallery.get("wall_s"),
            "load_s": gallery.get("load_s"),
            "batch_latency": batches.as_dict(),
        },
        "memory": result.get("memory") or {},
        "thermal": result.get("thermal") or {},
        "runtime": result.get("runtime") or {},
        "flops": flops,
        "achieved_gflops": achieved,
        "peak_share": achieved / peak_gflops if achieved and peak_gflops else None,
        "agent": {k: result.get(k) for k in ("agent_version", "platform", "threads", "affinity_applied", "sha256_verified", "protocol")},
    }


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of matching rows."""
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return np.sum(a * b, axis=1)


def fidelity(device: np.ndarray, reference: np.ndarray) -> dict:
    """Cosine of each device embedding to a reference embedding of the same input."""
    if device.shape != reference.shape:
        return {"error": f"shape {list(device.shape)} vs reference {list(reference.shape)}"}
    cos = cosine_rows(device.astype(np.float64), reference.astype(np.float64))
    return {"cosine_mean": float(cos.mean()), "cosine_min": float(cos.min()), "cosine_p01": float(np.percentile(cos, 1)),
            "max_abs_diff": float(np.abs(device - reference).max()), "n": int(len(cos))}


def agreement_verdict(agreement: dict) -> dict:
    """Whether the device computes what the host computes with the same artifact."""
    worst = min((v["cosine_min"] for v in agreement.values() if "cosine_min" in v), default=None)
    if worst is None:
        return {"status": "not checked", "worst_cosine": None}
    ok = worst >= AGREEMENT_MIN_COSINE
    return {
        "status": "agrees" if ok else "DISAGREES",
        "worst_cosine": worst,
        "threshold": AGREEMENT_MIN_COSINE,
        "message": None if ok else (
            f"the device's outputs disagree with the host's run of the same artifact (worst cosine {worst:.4f} < "
            f"{AGREEMENT_MIN_COSINE}): a device or runtime fault, not a property of the model; its recall is not comparable"
        ),
    }


def provenance(model, manifest: dict, device_info: dict, device_name: str) -> dict:
    """Where every figure came from: artifact, model, runtimes, converter, device, edge-bench."""
    from edge_bench import __version__

    artifacts = {t: [{"file": a["file"], "batch": a["batch"], "sha256": a["sha256"], "size_bytes": a.get("size_bytes")}
                     for a in tower["artifacts"]] for t, tower in manifest["towers"].items()}
    return {
        "edge_bench_version": __version__,
        "model": {"name": model.name, "family": model.family, "weights_status": model.weights.status,
                  "weights_sha256": model.weights.sha256, "weights_source": model.weights.source},
        "artifact": {"backend": manifest["backend"], "precision": manifest["precision"], "key": manifest.get("key"),
                     "files": artifacts},
        "converter_versions": manifest.get("versions", {}),
        "device": {"name": device_name, "fingerprint": device_info},
        "host": {"machine": platform.machine(), "python": platform.python_version(), "node": platform.node()},
    }
