"""The Android path of a job: the phone's native runners instead of the Python agent.

The phone returns timings and memory but not the split's embeddings, so recall
is computed on the host from the same artifact and labelled so.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from edge_bench.runner.device_run import CONNECTION_ERRORS, DeviceRun
from edge_bench.runner.record import tower_summary

HOST_COMPUTED = "host-computed from the device's artifact"


def _stage_file(src: Path, folder: Path) -> str:
    """Hard-link (or copy) a file under the job's local root; returns its relative path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / src.name
    if not target.exists():
        try:
            os.link(src, target)
        except OSError:
            shutil.copy2(src, target)
    return target.name


def run_android_towers(run: DeviceRun, artifacts, model, job_id: str, record: dict, stage) -> dict:
    """Both towers through `edge_bench.android.run_android_job`; returns host-computed embeddings."""
    from edge_bench.android import run_android_job
    from edge_bench.runner.job_run import _spec
    from edge_bench.runner.prepare import input_files

    root = run.local_root / job_id / "android"
    images_npy, tokens_npy = input_files(model, run.dataset)
    inputs = {"image": (images_npy, "uint8_images"), "text": (tokens_npy, "int32_tokens")}
    try:
        for tower in ("image", "text"):
            stage(tower, "on the phone")
            spec = _spec(_LocalFiles(run, root), artifacts, model, job_id, tower, *inputs[tower]).to_dict()
            result = run_android_job(run.transport, run.profile, spec, root)
            if result.get("status") != "ok":
                record.update(status="failed", phase=result.get("phase"), reason=f"{tower} tower: {result.get('error')}")
                return {}
            flops = artifacts.manifest["towers"][tower].get("flops")
            record["towers"][tower] = tower_summary(result, flops, run.profile.peak_gflops)
            record["towers"][tower]["android"] = {k: result.get(k) for k in ("latency_stats_from_tool", "fidelity", "protocol_deviations")}
    except CONNECTION_ERRORS as exc:
        record.update(status="failed", phase="connection", reason=f"connection to {run.profile.name} lost: {exc.one_line()}")
        return {}
    stage("recall", HOST_COMPUTED)
    from edge_bench.converters import host_embed

    image, text = host_embed(artifacts, run.dataset)
    record["recall_source"] = HOST_COMPUTED
    return {"image": image, "text": text}


class _LocalFiles:
    """Stands in for a DeviceRun in `_spec`: files are staged on the host, the Android job pushes them."""

    def __init__(self, run: DeviceRun, root: Path) -> None:
        self.plan, self.profile, self.root = run.plan, run.profile, root
        self.session = self

    def ensure_file(self, local: Path, sha256: str | None = None) -> tuple[str, str]:
        from edge_bench.models.weights import file_sha256

        return _stage_file(local, self.root), sha256 or file_sha256(local)
