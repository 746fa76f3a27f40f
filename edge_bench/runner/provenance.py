"""Provenance and artifact facts of a job, from the model, the artifact set's manifest and the device."""

from __future__ import annotations

import platform

from edge_bench.records.codec import decode
from edge_bench.records.job import ArtifactInfo, Provenance


def provenance(model, manifest: dict, device_info: dict, device_name: str) -> Provenance:
    """Where every figure came from: artifact, model, runtimes, converter, device, edge-bench."""
    from edge_bench import __version__

    files = {t: [{"file": a["file"], "batch": a["batch"], "sha256": a["sha256"], "size_bytes": a.get("size_bytes")}
                 for a in tower["artifacts"]] for t, tower in manifest["towers"].items()}
    return decode(Provenance, {
        "edge_bench_version": __version__,
        "model": {"name": model.name, "family": model.family, "weights_status": model.weights.status,
                  "weights_sha256": model.weights.sha256, "weights_source": model.weights.source},
        "artifact": {"backend": manifest["backend"], "precision": manifest["precision"], "key": manifest.get("key"),
                     "files": files},
        "converter_versions": manifest.get("versions", {}),
        "device": {"name": device_name, "fingerprint": device_info},
        "host": {"machine": platform.machine(), "python": platform.python_version(), "node": platform.node()},
    })


def artifact_info(artifacts) -> ArtifactInfo:
    """Sizes, FLOPs and parity per tower of an artifact set."""
    towers = artifacts.manifest["towers"]
    return ArtifactInfo(
        dir=str(artifacts.dir),
        size_bytes={t: next(a.get("size_bytes") for a in towers[t]["artifacts"] if a["batch"] == 1) for t in towers},
        flops={t: towers[t].get("flops") for t in towers if towers[t].get("flops") is not None},
        parity={t: towers[t].get("parity") or {} for t in towers},
        samples=dict(artifacts.manifest.get("samples") or {}),
    )
