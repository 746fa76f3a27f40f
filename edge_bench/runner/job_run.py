"""One job end to end: artifacts, both towers through the device's executor, then recall and fidelity."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from edge_bench.executors.base import ArtifactFile, TowerFailed, TowerRequest
from edge_bench.metrics.fidelity import cosine_stats
from edge_bench.records.codec import decode
from edge_bench.records.job import HOST_COMPUTED, Accuracy, CosineStats, Fidelity, JobIdentity, JobRecord, Verdict
from edge_bench.records.tower import TowerResult
from edge_bench.runner.device_run import CONNECTION_ERRORS, DeviceRun, save_embeddings
from edge_bench.runner.plan import PlannedJob
from edge_bench.runner.prepare import input_files, reference_embeddings
from edge_bench.runner.provenance import artifact_info, provenance

TOWERS = ("image", "text")
AGREEMENT_MIN_COSINE = 0.999
"""Device output whose cosine to the host's run of the same artifact falls below this disagrees with the host."""


def identity(run: DeviceRun, job: PlannedJob) -> JobIdentity:
    """The job's axes and the plan settings that shape its figures."""
    plan, profile = run.plan, run.profile
    return JobIdentity(
        key=job.key, model=job.model, backend=job.backend, precision=job.precision, device=profile.name,
        dataset=plan.dataset, split="test", n_images=run.dataset.n_images, n_captions=run.dataset.n_captions,
        threads=plan.threads or profile.threads, affinity=tuple(profile.affinity), gallery_batch=plan.gallery_batch,
        protocol=plan.protocol, peak_gflops=profile.peak_gflops,
    )


def run_job(run: DeviceRun, job: PlannedJob, job_id: str, stage) -> JobRecord:
    """The record of one job; failures are recorded, not raised (except before anything ran)."""
    model = run.model(job.model)
    stage("convert", f"{job.backend} {job.precision}")
    artifacts = run.artifacts(model, job)
    record = JobRecord(job=identity(run, job), status="ok", artifact=artifact_info(artifacts),
                       provenance=provenance(model, artifacts.manifest, run.info, run.profile.name))
    inputs = dict(zip(TOWERS, input_files(model, run.dataset)))
    reference = dict(zip(TOWERS, reference_embeddings(model, run.dataset)))
    towers: dict[str, TowerResult] = {}
    embeddings: dict[str, np.ndarray] = {}
    tower = TOWERS[0]
    try:
        stage("push", f"{run.executor.name}: artifacts, inputs")
        run.executor.prepare()
        for tower in TOWERS:
            if run.cancel.is_set():
                return replace(record, towers=towers).failed("cancelled", tower, f"cancelled before the {tower} tower")
            request = _request(run, artifacts, model, job, job_id, tower, inputs[tower], reference[tower])
            stage(tower, f"on the device ({run.executor.name})")
            outcome = run.executor.run_tower(request, run.cancel)
            towers[tower] = outcome.result
            if outcome.embeddings is not None:
                embeddings[tower] = outcome.embeddings
    except TowerFailed as exc:
        if exc.partial:
            towers[tower] = TowerResult(status=exc.status, partial=exc.partial)
        return replace(record, towers=towers).failed(exc.status, exc.phase, exc.one_line())
    except CONNECTION_ERRORS as exc:
        return replace(record, towers=towers).failed(
            "failed", "connection", f"connection to {run.profile.name} lost: {exc.one_line()}")
    stage("recall", "" if run.executor.returns_embeddings else HOST_COMPUTED)
    return _accuracy(run, model, artifacts, embeddings, reference, replace(record, towers=towers), job_id)


def repeat_towers(run: DeviceRun, job: PlannedJob, job_id: str, record: JobRecord, round_no: int, stage) -> JobRecord:
    """One more fresh process per tower (timed loops only, no encoding): its latency joins the tower's repeats.

    A repeat that fails ends the repeats of that job with a note; the job keeps what it measured.
    """
    model = run.model(job.model)
    artifacts = run.artifacts(model, job)
    inputs = dict(zip(TOWERS, input_files(model, run.dataset)))
    reference = dict(zip(TOWERS, reference_embeddings(model, run.dataset)))
    towers = dict(record.towers)
    for tower in TOWERS:
        stage(f"repeat {round_no}/{run.plan.repeat}", tower)
        waited = cooldown(run)
        request = replace(_request(run, artifacts, model, job, job_id, tower, inputs[tower], reference[tower]),
                          job_id=f"{job_id}-r{round_no}", local_dir=run.local_root / f"{job_id}-r{round_no}" / tower,
                          encode=False, profile=0)
        request = replace(request, extra={**request.extra, "round": round_no})
        current = towers[tower]
        try:
            outcome = run.executor.run_tower(request, run.cancel)
        except (TowerFailed, *CONNECTION_ERRORS) as exc:
            note = f"repeat {round_no} failed: {exc.one_line()}"
            towers[tower] = replace(current, notes=current.notes + (note,))
            return replace(record, towers=towers)
        towers[tower] = replace(current, repeats=current.repeats + (outcome.result.latency,),
                                cooldown_waited_s=current.cooldown_waited_s + (waited,))
    return replace(record, towers=towers)


def cooldown(run: DeviceRun) -> float:
    """The cool-down gate before a repeat: a fixed idle time, then (optionally) until the device is cool; seconds waited."""
    import time

    from edge_bench.devices.thermal import read_zones

    plan, start = run.plan, time.monotonic()
    if plan.cooldown_seconds > 0:
        run.cancel.wait(plan.cooldown_seconds)
    if plan.cooldown_temp_c is not None and run.profile.thermal_zones:
        while time.monotonic() - start < plan.cooldown_max_seconds and not run.cancel.is_set():
            temps = read_zones(run.transport, run.profile.thermal_zones)
            if not temps or max(temps.values()) < plan.cooldown_temp_c:
                break
            run.cancel.wait(2.0)
    return time.monotonic() - start


def first_repeat(record: JobRecord) -> JobRecord:
    """With --repeat: the first run's latency is the first repeat of each tower."""
    return replace(record, towers={t: replace(r, repeats=(r.latency,), cooldown_waited_s=(0.0,)) if r.ok else r
                                   for t, r in record.towers.items()})


def _file(artifacts, tower: str, batch: int) -> ArtifactFile:
    for entry in artifacts.manifest["towers"][tower]["artifacts"]:
        if entry["batch"] == batch:
            return ArtifactFile(artifacts.dir / entry["file"], entry["sha256"], batch,
                                tuple(entry.get("inputs") or ()), tuple(entry.get("outputs") or ()))
    raise KeyError(f"{tower} tower has no artifact at batch {batch}")


def _request(run: DeviceRun, artifacts, model, job: PlannedJob, job_id: str, tower: str, inputs, reference) -> TowerRequest:
    plan, profile, pp = run.plan, run.profile, model.preprocess
    return TowerRequest(
        job_id=job_id, tower=tower, backend=job.backend, artifact=_file(artifacts, tower, 1),
        gallery=_file(artifacts, tower, plan.gallery_batch) if plan.gallery_batch > 1 else None,
        inputs=inputs, input_kind="uint8_images" if tower == "image" else "int32_tokens",
        mean=tuple(pp.mean), std=tuple(pp.std), threads=plan.threads or profile.threads,
        affinity=tuple(profile.affinity), protocol=plan.protocol, thermal_zones=tuple(profile.thermal_zones),
        local_dir=run.local_root / job_id / tower, flops=artifacts.manifest["towers"][tower].get("flops"),
        peak_gflops=profile.peak_gflops or None,
        ceiling_gflops=(run.ceilings.get(f"{job.backend}/{job.precision}") or {}).get("gflops"),
        extra={"model": job.model, "precision": job.precision, "reference": reference}, profile=plan.profile,
    )


def _cosines(a: dict, b: dict) -> dict[str, CosineStats]:
    return {t: decode(CosineStats, cosine_stats(a[t], b[t])) for t in TOWERS if t in a and t in b}


def agreement_verdict(agreement: dict[str, CosineStats]) -> Verdict:
    """Whether the device computes what the host computes with the same artifact."""
    worst = min((c.cosine_min for c in agreement.values() if c.cosine_min is not None), default=None)
    if worst is None:
        return Verdict()
    ok = worst >= AGREEMENT_MIN_COSINE
    return Verdict(
        status="agrees" if ok else "DISAGREES", worst_cosine=worst, threshold=AGREEMENT_MIN_COSINE,
        message=None if ok else (
            f"the device's outputs disagree with the host's run of the same artifact (worst cosine {worst:.4f} < "
            f"{AGREEMENT_MIN_COSINE}): a device or runtime fault, not a property of the model; its recall is not comparable"),
    )


def _accuracy(run: DeviceRun, model, artifacts, embeddings: dict, reference: dict, record: JobRecord,
              job_id: str) -> JobRecord:
    from edge_bench.metrics import recall_with_ties, retrieval_recall

    ds = run.dataset
    source = "device embeddings"
    if not run.executor.returns_embeddings:
        embeddings = dict(zip(TOWERS, _host_embeddings(artifacts, ds)))
        source = HOST_COMPUTED
    label = "trained" if model.weights.trained else "untrained"
    reference_recall = retrieval_recall(reference["image"], reference["text"], ds.caption_image)
    result = recall_with_ties(embeddings["image"], embeddings["text"], ds.caption_image)
    recall = result.metrics
    ties = ({k: v for k, v in result.to_dict().items() if k in ("optimistic", "pessimistic", "tie_dependent", "n_queries")}
            if result.ties_matter else {})
    fidelity = Fidelity(vs_fp32_pytorch=_cosines(embeddings, reference))
    if run.remote and run.executor.returns_embeddings and not run.executor.provides_artifacts and _host_can_run(artifacts):
        host = dict(zip(TOWERS, _host_embeddings(artifacts, ds)))
        agreement = _cosines(embeddings, host)
        fidelity = replace(fidelity, vs_host_artifact=agreement, verdict=agreement_verdict(agreement))
    files = save_embeddings(run.local_root / job_id / "embeddings", **embeddings)
    return replace(record, accuracy=Accuracy(recall=recall, reference=reference_recall, label=label, source=source,
                                                 ties=ties),
                   fidelity=fidelity, embeddings=files)


def _host_can_run(artifacts) -> bool:
    from edge_bench.converters import get_converter

    return get_converter(artifacts.backend).can_run_here()


def _host_embeddings(artifacts, dataset):
    """The same artifact run on this host: the one host reference (the converters' own loader)."""
    from edge_bench.converters import host_embed

    return host_embed(artifacts, dataset)
