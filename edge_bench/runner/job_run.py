"""One job end to end: convert, push, the agent per tower, then statistics, recall and fidelity."""

from __future__ import annotations

import numpy as np

from edge_bench.agent.spec import FileRef, GalleryRef, InputsRef, JobSpec
from edge_bench.runner.device_run import CONNECTION_ERRORS, DeviceRun, save_embeddings
from edge_bench.runner.plan import PlannedJob
from edge_bench.runner.record import agreement_verdict, fidelity, provenance, tower_summary

TOWERS = ("image", "text")


def run_job(run: DeviceRun, job: PlannedJob, job_id: str, stage) -> dict:
    """The record of one job; failures are recorded, not raised (except before anything ran)."""
    from edge_bench.converters import convert

    model = run.model(job.model)
    meta = _meta(run, job)
    stage("convert", f"{job.backend} {job.precision}")
    artifacts = convert(model, job.backend, job.precision, batch_sizes=_batches(run), dataset=run.calibration())
    record = {"job": meta, "status": "ok", "reason": None, "phase": "done", "towers": {},
              "artifact": _artifact_info(artifacts), "provenance": provenance(model, artifacts.manifest, run.info, run.profile.name)}
    if run.android:
        from edge_bench.runner.android_job import run_android_towers

        embeddings = run_android_towers(run, artifacts, model, job_id, record, stage)
    else:
        embeddings = _agent_towers(run, artifacts, model, job_id, record, stage)
    if record["status"] == "ok":
        stage("recall")
        _accuracy(run, model, artifacts, embeddings, record, job_id)
    return record


def _meta(run: DeviceRun, job: PlannedJob) -> dict:
    plan, profile = run.plan, run.profile
    return {
        "key": job.key, "model": job.model, "backend": job.backend, "precision": job.precision,
        "device": profile.name, "dataset": plan.dataset, "split": "test",
        "n_images": run.dataset.n_images, "n_captions": run.dataset.n_captions,
        "threads": plan.threads or profile.threads, "affinity": list(profile.affinity),
        "gallery_batch": plan.gallery_batch, "protocol": plan.protocol.__dict__.copy(),
        "peak_gflops": profile.peak_gflops,
    }


def _batches(run: DeviceRun) -> tuple[int, ...]:
    return (1,) if run.plan.gallery_batch == 1 else (1, run.plan.gallery_batch)


def _artifact_info(artifacts) -> dict:
    towers = artifacts.manifest["towers"]
    return {
        "dir": str(artifacts.dir),
        "size_bytes": {t: next(a.get("size_bytes") for a in towers[t]["artifacts"] if a["batch"] == 1) for t in towers},
        "flops": {t: towers[t].get("flops") for t in towers},
        "parity": {t: towers[t].get("parity") for t in towers},
    }


def _agent_towers(run: DeviceRun, artifacts, model, job_id: str, record: dict, stage) -> dict:
    from edge_bench.runner.prepare import input_files

    images_npy, tokens_npy = input_files(model, run.dataset)
    inputs = {"image": (images_npy, "uint8_images"), "text": (tokens_npy, "int32_tokens")}
    embeddings = {}
    try:
        stage("push", "agent, artifacts, inputs")
        run.session.ensure_agent()
        for tower in TOWERS:
            if run.cancel.is_set():
                record.update(status="cancelled", phase=tower, reason=f"cancelled before the {tower} tower")
                return {}
            spec = _spec(run, artifacts, model, job_id, tower, *inputs[tower])
            stage(tower, "on the device")
            result, local, stderr = run.session.run_agent(spec.to_dict(), run.local_root / job_id / tower, cancel=run.cancel)
            if run.cancel.is_set() and (result is None or result.get("status") != "ok"):
                record.update(status="cancelled", phase=(result or {}).get("phase", tower),
                              reason=f"cancelled during the {tower} tower")
                if result is not None:
                    record["towers"][tower] = {"cancelled": True, "partial": {k: result.get(k) for k in ("latency_s", "memory")}}
                return {}
            if result is None or result.get("status") != "ok":
                if result is not None and "sha256 mismatch" in (result.get("error") or ""):
                    used = [spec.artifact.path, spec.inputs.path] + ([spec.gallery.path] if spec.gallery else [])
                    run.session.forget(used)
                return _tower_failed(record, tower, result, stderr)
            flops = artifacts.manifest["towers"][tower].get("flops")
            record["towers"][tower] = tower_summary(result, flops, run.profile.peak_gflops)
            embeddings[tower] = np.load(local / "out" / result["embeddings"]["file"])
    except CONNECTION_ERRORS as exc:
        record.update(status="failed", phase="connection", reason=f"connection to {run.profile.name} lost: {exc.one_line()}")
    return embeddings


def _spec(run: DeviceRun, artifacts, model, job_id: str, tower: str, inputs_path, kind: str) -> JobSpec:
    from edge_bench.converters.artifact import ArtifactSet  # noqa: F401  (type of `artifacts`)

    b1, b1_sha = run.session.ensure_file(artifacts.artifact(tower, 1), _sha(artifacts, tower, 1))
    gallery = None
    if run.plan.gallery_batch > 1:
        bb, bb_sha = run.session.ensure_file(artifacts.artifact(tower, run.plan.gallery_batch),
                                             _sha(artifacts, tower, run.plan.gallery_batch))
        gallery = GalleryRef(bb, bb_sha, run.plan.gallery_batch)
    remote_inputs, inputs_sha = run.session.ensure_file(inputs_path)
    pp = model.preprocess
    return JobSpec(
        tower=tower, backend=artifacts.backend, artifact=FileRef(b1, b1_sha),
        inputs=InputsRef(remote_inputs, inputs_sha, kind, tuple(pp.mean), tuple(pp.std)),
        output_dir=f"runs/{job_id}/{tower}", gallery=gallery, job_id=job_id,
        threads=run.plan.threads or run.profile.threads, affinity=tuple(run.profile.affinity),
        protocol=run.plan.protocol, thermal_zones=tuple(run.profile.thermal_zones),
        workdir="",
    )


def _sha(artifacts, tower: str, batch: int) -> str:
    for entry in artifacts.manifest["towers"][tower]["artifacts"]:
        if entry["batch"] == batch:
            return entry["sha256"]
    raise KeyError(batch)


def _tower_failed(record: dict, tower: str, result: dict | None, stderr: str) -> dict:
    if result is None:
        reason = f"{tower} tower: the agent left no result ({stderr or 'no output'})"
        phase = "agent"
    else:
        phase = result.get("phase")
        reason = f"{tower} tower failed in {phase}: {result.get('error')}"
        record["towers"][tower] = {"failed": True, "partial": {k: result.get(k) for k in ("latency_s", "memory", "load_s")}}
    record.update(status="failed", phase=phase, reason=reason)
    return {}


def _accuracy(run: DeviceRun, model, artifacts, embeddings: dict, record: dict, job_id: str) -> None:
    from edge_bench.runner.prepare import reference_embeddings
    from edge_bench.metrics import retrieval_recall

    ds = run.dataset
    ref_image, ref_text = reference_embeddings(model, ds)
    record["reference_recall"] = retrieval_recall(ref_image, ref_text, ds.caption_image)
    record["recall_label"] = "trained" if model.weights.trained else "untrained"
    if "image" in embeddings and "text" in embeddings:
        record["recall"] = retrieval_recall(embeddings["image"], embeddings["text"], ds.caption_image)
        record.setdefault("recall_source", "device embeddings")
        record["fidelity"] = {
            "vs_fp32_pytorch": {"image": fidelity(embeddings["image"], ref_image), "text": fidelity(embeddings["text"], ref_text)},
        }
        if run.remote:
            host = _host_embeddings(artifacts, ds)
            if host is not None:
                agreement = {"image": fidelity(embeddings["image"], host[0]), "text": fidelity(embeddings["text"], host[1])}
                record["fidelity"]["vs_host_artifact"] = agreement
                record["fidelity"]["verdict"] = agreement_verdict(agreement)
        from edge_bench.store import Store  # noqa: F401

        record["embeddings"] = save_embeddings(run.local_root / job_id / "embeddings", **embeddings)


def _host_embeddings(artifacts, dataset):
    """The same artifact run on this host (None where the host cannot run the backend)."""
    from edge_bench.converters import get_converter, host_embed

    if not get_converter(artifacts.backend).can_run_here():
        return None
    return host_embed(artifacts, dataset)
