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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from edge_bench.android.commands import InputFile, RunSettings, with_affinity
from edge_bench.android.device import AndroidDevice
from edge_bench.android.fidelity import measure_fidelity
from edge_bench.android.result import build_result, launch_problem
from edge_bench.android.runners import NativeRunner, runner_for
from edge_bench.android.settings import AndroidSettings, settings_from_profile
from edge_bench.android.tensors import ArtifactIO, TensorSpec, artifact_io, model_input, specs_from_entries, write_raw
from edge_bench.errors import JobError

EventFn = Callable[[str, dict], None]
"""Progress callback: `on_event(stage, details)`; stages are connect, fingerprint, install-runner,
push, run, gallery, fidelity, done."""

_PROTOCOL_DEFAULTS = {"warmup_min_runs": 10, "warmup_min_seconds": 1.0, "min_runs": 50, "min_seconds": 1.0,
                      "max_runs": 2000, "max_seconds": 30.0}


def _quiet(stage: str, details: dict) -> None:
    """The default progress callback: ignore."""


@dataclass
class JobContext:
    """What the steps of one Android job share."""

    job: dict
    local_root: Path
    device: AndroidDevice
    runner: NativeRunner
    runner_path: str
    fingerprint: dict
    version: str
    emit: EventFn
    extra_args: tuple[str, ...] = ()
    """The profile's extra flags for this runner."""
    reference: Callable[[list[np.ndarray]], np.ndarray] | None = None
    """Runs the artifact on the host for the fidelity check (None = this machine's runtime)."""
    raw_outputs: dict[str, str] = field(default_factory=dict)
    """Runner output texts written beside result.json."""

    @property
    def remote_dir(self) -> str:
        """The job's folder on the phone (the spec's output_dir under the workdir)."""
        return posixpath.join(self.device.workdir, self.job.get("output_dir") or f"runs/{self.job['job_id']}")

    @property
    def local_dir(self) -> Path:
        """The job's output folder on the host."""
        return self.local_root / (self.job.get("output_dir") or f"runs/{self.job['job_id']}")

    def protocol(self) -> dict:
        """The job's protocol with the defaults filled in."""
        return {**_PROTOCOL_DEFAULTS, **(self.job.get("protocol") or {})}


def run_android_job(transport: Any, profile: Any, job: dict, local_root: Path,
                    on_event: EventFn | None = None,
                    reference: Callable[[list[np.ndarray]], np.ndarray] | None = None) -> dict:
    """Run `job` on the phone behind `transport` with the profile's native runner; return the result record.

    `profile` is a DeviceProfile (its `[android]` table and workdir are read) or AndroidSettings.
    `reference` runs the same artifact on the host for the fidelity check (default: this
    machine's runtime for the backend).

    `job["artifact"]` and `job["gallery"]` may carry the artifact's tensors as
    `"inputs"` / `"outputs"` lists of `{"name", "shape", "dtype"}` (what
    `edge_bench.android.tensors.artifact_specs(path, manifest_entry)` returns, or the
    artifact's manifest entry); they name the runner's inputs (`--input_layer`,
    `--input_layer_shape`) before anything else (see `tensor_specs`). The result's
    `input_tensors` says which were used and where they came from.
    """
    settings = profile if isinstance(profile, AndroidSettings) else settings_from_profile(profile)
    emit = on_event or _quiet
    backend = job["backend"]
    emit("connect", {})
    transport.check()  # no device, unauthorised, offline: the first thing a user must fix
    runner = runner_for(backend)
    location = settings.runner(backend)
    device = AndroidDevice(transport, settings)
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


def _push_artifact(ctx: JobContext, entry: dict) -> tuple[Path, str, bool | None]:
    """Push an artifact (unless the phone has it already); its host path, phone path, sha256 check."""
    local = ctx.local_root / entry["path"]
    if not local.is_file():
        raise JobError(f"artifact not found on this machine: {local}", hint="convert the model first")
    remote = posixpath.join(ctx.device.workdir, entry["path"])
    expected = entry.get("sha256")
    if expected is None or ctx.device.sha256(remote) != expected:
        ctx.emit("push", {"file": entry["path"], "bytes": local.stat().st_size})
        ctx.device.push_file(local, remote)
    verified = None if expected is None else ctx.device.sha256(remote) == expected
    if verified is False:
        raise JobError(f"the artifact on the phone does not match its sha256 after the push: {remote}",
                       hint="check free space on the phone (adb shell df /data/local/tmp) and retry")
    return local, remote, verified


def _load_inputs(ctx: JobContext) -> np.ndarray:
    path = ctx.local_root / ctx.job["inputs"]["path"]
    if not path.is_file():
        raise JobError(f"job inputs not found on this machine: {path}")
    return np.load(path, mmap_mode="r")


def stage_input(ctx: JobContext, items: np.ndarray, spec: TensorSpec | None, name: str) -> tuple[InputFile, np.ndarray]:
    """Write one model input (normalised as the job says), push it to the job's folder on the phone;
    the phone's file and the tensor."""
    spec_in = ctx.job["inputs"]
    tensor = model_input(np.asarray(items), spec_in.get("kind", ""), spec_in.get("mean"), spec_in.get("std"))
    local = write_raw(tensor, ctx.local_dir / "inputs" / f"{name}.bin", spec)
    remote = posixpath.join(ctx.remote_dir, "inputs", f"{name}.bin")
    ctx.device.push_file(local, remote)
    return InputFile(spec.name if spec else PLACEHOLDER_INPUT, tuple(spec.shape if spec else tensor.shape), remote), tensor


PLACEHOLDER_INPUT = "input"
"""The input name used only when nothing says the artifact's own (recorded as a protocol deviation)."""


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


def run_settings(ctx: JobContext, model: str, inputs: tuple[InputFile, ...], protocol: dict,
                 output_base: str = "", peak_memory: bool = True) -> RunSettings:
    """RunSettings for the job's threads, with the given protocol, inputs and output dump."""
    return RunSettings(
        model=model, threads=int(ctx.job.get("threads") or 1),
        warmup_min_runs=int(protocol["warmup_min_runs"]), warmup_min_seconds=float(protocol["warmup_min_seconds"]),
        min_runs=int(protocol["min_runs"]), min_seconds=float(protocol["min_seconds"]),
        max_runs=int(protocol["max_runs"]), max_seconds=float(protocol["max_seconds"]),
        inputs=inputs, output_base=output_base, report_peak_memory=peak_memory,
        extra_args=ctx.extra_args)


def execute(ctx: JobContext, run: RunSettings, name: str) -> tuple[list[str], Any, Any]:
    """Run the runner once on the phone: (argv, capture, parsed report); raises when it cannot start."""
    affinity = ctx.job.get("affinity") or []
    use_taskset = ctx.device.settings.use_taskset
    argv = with_affinity(ctx.runner.argv(ctx.runner_path, run), affinity, ctx.device.taskset if use_taskset else None)
    timeout = min(ctx.device.settings.timeout_s, 2 * run.max_seconds + 120.0)
    capture = ctx.device.run(argv, posixpath.join(ctx.remote_dir, name), ctx.runner.logcat_tag, timeout)
    problem = launch_problem(capture, ctx.runner_path)
    if problem is not None:
        raise problem
    return argv, capture, ctx.runner.parse(capture.text())


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
    if result["status"] == "ok" and ctx.job.get("gallery"):
        result["gallery"] = _gallery(ctx, items)
        result["protocol_deviations"] += result["gallery"].pop("deviations", [])
    if result["status"] == "ok":
        result["fidelity"] = measure_fidelity(ctx, local, remote, items, specs_in, specs_out)
    return result


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
