"""Run one agent job (docs/ARCHITECTURE.md, "Agent job spec") on an Android phone with a native runner.

`run_android_job` is the one entry point the runner (edge_bench.runner) calls for
adb devices. It takes the same job spec as the Python agent, with the job's
relative paths resolved under `local_root` on the host, and returns (and writes to
`<local_root>/<output_dir>/result.json`) a result record with the agent's keys.

Problems the user must fix before anything can be measured raise: no device,
unauthorised or offline (the transport's `check`), no runner configured, runner
missing, not executable, built for another ABI. A runner that starts and then fails
does not raise: its record has status "error", the phase it stopped in, and every
figure parsed before the failure.
"""

from __future__ import annotations

import json
import posixpath
from pathlib import Path
from typing import Any, Callable

import numpy as np

from edge_bench.android.context import PLACEHOLDER_INPUT, EventFn, JobContext, execute, quiet, run_settings, stage_input
from edge_bench.android.device import AndroidDevice
from edge_bench.android.fidelity import measure_fidelity
from edge_bench.android.result import build_result
from edge_bench.android.runners import runner_for
from edge_bench.android.settings import AndroidSettings, settings_from_profile
from edge_bench.android.tensors import ArtifactIO, TensorSpec, artifact_io, specs_from_entries
from edge_bench.errors import JobError

def run_android_job(transport: Any, profile: Any, job: dict, local_root: Path,
                    on_event: EventFn | None = None,
                    reference: Callable[[list[np.ndarray]], np.ndarray] | None = None,
                    fingerprint: dict | None = None) -> dict:
    """Run `job` on the phone behind `transport` with the profile's native runner; return the result record.

    `profile` is a DeviceProfile (its `[android]` table and workdir are read) or AndroidSettings.
    `reference` runs the same artifact on the host for the fidelity check (default: this
    machine's runtime for the backend). `fingerprint` is the phone's, when the caller read it
    already (the native executor reads it once per run); else it is read here.

    `job["artifact"]` and `job["gallery"]` may carry the artifact's tensors as
    `"inputs"` / `"outputs"` lists of `{"name", "shape", "dtype"}` (what
    `edge_bench.android.tensors.artifact_specs(path, manifest_entry)` returns, or the
    artifact's manifest entry); they name the runner's inputs (`--input_layer`,
    `--input_layer_shape`) before anything else (see `tensor_specs`). The result's
    `input_tensors` says which were used and where they came from.
    """
    settings = profile if isinstance(profile, AndroidSettings) else settings_from_profile(profile)
    emit = on_event or quiet
    backend = job["backend"]
    emit("connect", {})
    transport.check()  # no device, unauthorised, offline: the first thing a user must fix
    runner = runner_for(backend)
    location = settings.runner(backend)
    device = AndroidDevice(transport, settings)
    if fingerprint is None:
        emit("fingerprint", {})
        fingerprint = device.fingerprint()
    emit("install-runner", {"backend": backend})
    runner_path = device.install_runner(backend, location, fingerprint["abilist"])
    ctx = JobContext(job, Path(local_root), device, runner, runner_path, fingerprint, location.version, emit,
                     extra_args=location.extra_args, reference=reference)
    result = _timed_job(ctx)
    _write(ctx, result)
    emit("done", {"status": result["status"]})
    return result


def _push_artifact(ctx: JobContext, entry: dict) -> tuple[Path, str, bool]:
    """Push an artifact (unless the phone has it already); its host path, phone path, sha256 check (always made)."""
    local = ctx.local_root / entry["path"]
    if not local.is_file():
        raise JobError(f"artifact not found on this machine: {local}", hint="convert the model first")
    expected = entry.get("sha256")
    if not expected or not isinstance(expected, str):
        raise JobError(f"the job gives no sha256 for {entry['path']}: nothing runs unverified",
                       hint="build jobs with edge_bench.executors.native (it hashes every artifact)")
    remote = posixpath.join(ctx.device.workdir, entry["path"])
    if ctx.device.sha256(remote) != expected:
        ctx.emit("push", {"file": entry["path"], "bytes": local.stat().st_size})
        ctx.device.push_file(local, remote)
    verified = ctx.device.sha256(remote) == expected
    if not verified:
        raise JobError(f"the artifact on the phone does not match its sha256 after the push: {remote}",
                       hint="check free space on the phone (adb shell df /data/local/tmp) and retry")
    return local, remote, verified


def _load_inputs(ctx: JobContext) -> np.ndarray:
    path = ctx.local_root / ctx.job["inputs"]["path"]
    if not path.is_file():
        raise JobError(f"job inputs not found on this machine: {path}")
    return np.load(path, mmap_mode="r")


def _reconcile(kind: str, given: list[TensorSpec], declared: list[TensorSpec], file: str) -> tuple[list[TensorSpec], list[str]]:
    """The job's specs checked against the artifact's own: shapes and dtypes must agree (JobError),
    names the artifact declares replace the job's (what the runners compare with), noted."""
    if len(given) != len(declared) or any(g.shape != d.shape or g.dtype != d.dtype for g, d in zip(given, declared)):
        def show(specs: list[TensorSpec]) -> str:
            return ", ".join(f"{s.name} {list(s.shape)} {s.dtype}" for s in specs) or "none"

        raise JobError(f"the job's {kind} for {file} ({show(given)}) are not the artifact's ({show(declared)})",
                       hint="pass the specs edge_bench.android.tensors.artifact_specs(path, manifest_entry) returns, "
                            "or convert the model again")
    notes = [f"{file}: the job names {kind[:-1]} {g.name!r}, the artifact declares {d.name!r}; the command line uses "
             f"{d.name!r}" for g, d in zip(given, declared) if g.name != d.name]
    return (declared if notes else given), notes


def tensor_specs(entry: dict, local: Path) -> tuple[ArtifactIO, list[str]]:
    """The inputs and outputs the native runner's command line gives for one artifact of the job, and notes.

    The job's own `inputs` / `outputs` lists (`[{name, shape, dtype}]`, e.g. the artifact's
    manifest entry, in `job["artifact"]` and `job["gallery"]`) come first. When this machine
    can also read the artifact (edge_bench.android.tensors.artifact_io), they must agree with
    it in shape and dtype (else JobError), and the artifact's names win over stale ones (noted).
    Without lists in the job: the artifact itself, then a manifest.json beside it; `source`
    "none" (empty lists) when nothing says.
    """
    declared = artifact_io(local)
    if not entry.get("inputs"):
        return declared, []
    inputs = specs_from_entries(entry["inputs"], "input")
    outputs = specs_from_entries(entry.get("outputs") or [], "output")
    if declared.source != "artifact":
        return ArtifactIO(inputs, outputs or declared.outputs, "job"), []
    inputs, notes = _reconcile("inputs", inputs, declared.inputs, local.name)
    if outputs:
        outputs, more = _reconcile("outputs", outputs, declared.outputs, local.name)
        notes += more
    else:
        outputs = declared.outputs
    return ArtifactIO(inputs, outputs, "artifact" if notes else "job"), notes


def _one_input(ctx: JobContext, io: ArtifactIO, file: str) -> tuple[TensorSpec | None, list[str]]:
    """The single input a tower takes, and a deviation when it is unknown (the placeholder is used)."""
    if len(io.inputs) > 1:
        raise JobError(f"{file} has {len(io.inputs)} inputs; the Android path feeds one input per tower")
    if io.inputs:
        return io.inputs[0], []
    return None, [f"{file}: input tensor unknown (this machine cannot read the artifact and the job lists no "
                  f"inputs): {ctx.runner.module} is given the placeholder name {PLACEHOLDER_INPUT!r} and the shape "
                  "of the job's items, not checked against the artifact"]


def _tensors_record(io: ArtifactIO) -> dict:
    """The tensors the command line used, for the result record."""
    def rows(specs: list[TensorSpec]) -> list[dict]:
        return [{"name": s.name, "shape": list(s.shape), "dtype": s.dtype} for s in specs]

    return {"source": io.source, "inputs": rows(io.inputs), "outputs": rows(io.outputs)}


def _timed_job(ctx: JobContext) -> dict:
    """The timed run of the batch-1 artifact, then the gallery artifact and the fidelity sample."""
    local, remote, verified = _push_artifact(ctx, ctx.job["artifact"])
    io, notes = tensor_specs(ctx.job["artifact"], local)
    spec_in, unknown = _one_input(ctx, io, local.name)
    specs_in, specs_out = io.inputs, io.outputs
    items = _load_inputs(ctx)
    first, _ = stage_input(ctx, items[0:1], spec_in, "item-0")
    run = run_settings(ctx, remote, (first,), ctx.protocol())
    before = ctx.device.state()
    ctx.emit("run", {"artifact": ctx.job["artifact"]["path"]})
    argv, capture, report = execute(ctx, run, "timed")
    after = ctx.device.state()
    ctx.raw_outputs["runner_output.txt"] = capture.text()
    result = build_result(job=ctx.job, runner=ctx.runner, run=run, report=report, capture=capture,
                          device=ctx.fingerprint, before=before, after=after, argv=argv,
                          runtime_version=ctx.version, sample_interval=ctx.device.settings.sample_interval_s,
                          sha256_verified=verified)
    result["protocol_deviations"] = [*result.get("protocol_deviations", []), *unknown, *notes]
    result["input_tensors"] = _tensors_record(io)
    if result["status"] == "ok" and ctx.job.get("profile") and ctx.runner.profile_source:
        result["profile"] = _profile(ctx, remote, first)
    if result["status"] == "ok" and ctx.job.get("gallery"):
        result["gallery"] = _gallery(ctx, items)
        result["protocol_deviations"] += result["gallery"].pop("deviations", [])
    if result["status"] == "ok":
        result["fidelity"] = measure_fidelity(ctx, local, remote, items, specs_in, specs_out)
    return result


def _profile(ctx: JobContext, remote: str, first) -> dict:
    """The profiling pass after the timed run: the runner again, `profile` runs with its profiler on; its file pulled.

    A pass that fails is recorded in the block (status "failed"), never failing the job's measurements."""
    import time
    from dataclasses import replace

    runs = int(ctx.job.get("profile") or 0)
    name = f"profile{ctx.runner.profile_suffix}"
    phone = posixpath.join(ctx.remote_dir, name)
    protocol = {**ctx.protocol(), "warmup_min_runs": 1, "warmup_min_seconds": 0.0, "min_runs": runs, "min_seconds": 0.0}
    run = run_settings(ctx, remote, (first,), protocol, peak_memory=False)
    run = replace(run, extra_args=(*run.extra_args, *ctx.runner.profile_args(phone)))
    ctx.emit("profile", {"artifact": ctx.job["artifact"]["path"], "runs": runs})
    start = time.perf_counter()
    argv, capture, report = execute(ctx, run, "profile")
    ctx.raw_outputs["profile_output.txt"] = capture.text()
    failed = ctx.runner.failure(report)
    block = {"source": ctx.runner.profile_source, "runs": runs, "command": argv}
    if failed or capture.exit_code != 0:
        return {**block, "status": "failed", "reason": failed[1] if failed else f"exit status {capture.exit_code}"}
    try:
        ctx.device.pull(phone, ctx.local_dir / name)
    except Exception as exc:  # a runner built without its profiler writes no file
        return {**block, "status": "failed", "reason": f"no {name} on the phone ({' '.join(str(exc).split())}): "
                                                       f"is {ctx.runner.module} built with its profiler?"}
    return {**block, "status": "ok", "file": name, "wall_s": time.perf_counter() - start}


def _gallery(ctx: JobContext, items: np.ndarray) -> dict:
    """Batch latency of the gallery artifact, same protocol; samples or the tool's statistics."""
    entry = ctx.job["gallery"]
    batch = int(entry.get("batch") or 1)
    local, remote, _ = _push_artifact(ctx, entry)
    io, notes = tensor_specs(entry, local)
    spec_in, unknown = _one_input(ctx, io, local.name)
    if len(items) < batch:
        return {"batch": batch, "status": "not-run", "reason": f"only {len(items)} inputs for batch {batch}"}
    staged, _ = stage_input(ctx, items[0:batch], spec_in, f"batch-{batch}")
    run = run_settings(ctx, remote, (staged,), ctx.protocol())
    ctx.emit("gallery", {"artifact": entry["path"]})
    argv, capture, report = execute(ctx, run, "gallery")
    ctx.raw_outputs["gallery_output.txt"] = capture.text()
    timing = ctx.runner.timing_fields(report, run)
    failed = ctx.runner.failure(report)
    out = {"batch": batch, "status": "error" if failed or capture.exit_code != 0 else "ok",
           "error": failed[1] if failed else None, "batch_latency_s": timing["latency_s"], "command": argv,
           "input_tensors": _tensors_record(io), "deviations": [f"gallery: {note}" for note in unknown + notes]}
    if "latency_stats_from_tool" in timing:
        out["latency_stats_from_tool"] = timing["latency_stats_from_tool"]
    return out


def _write(ctx: JobContext, result: dict) -> None:
    ctx.local_dir.mkdir(parents=True, exist_ok=True)
    for name, text in ctx.raw_outputs.items():
        (ctx.local_dir / name).write_text(text)
    (ctx.local_dir / "result.json").write_text(json.dumps(result, indent=1, default=str))
