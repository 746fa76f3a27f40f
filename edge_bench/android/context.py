"""What the steps of one Android job share: the job's context, staging an input, one run of the runner.

`edge_bench.android.job` (the timed job, the gallery) and `edge_bench.android.fidelity`
(the on-device sample) both use these steps; neither imports the other.
"""

from __future__ import annotations

import posixpath
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from edge_bench.agent.spec import Protocol
from edge_bench.android.commands import InputFile, RunSettings, with_affinity
from edge_bench.android.device import AndroidDevice
from edge_bench.android.result import launch_problem
from edge_bench.android.runners import NativeRunner
from edge_bench.android.tensors import TensorSpec, model_input, write_raw

EventFn = Callable[[str, dict], None]
"""Progress callback: `on_event(stage, details)`; stages are connect, fingerprint, install-runner,
push, run, gallery, fidelity, done."""


PROTOCOL_DEFAULTS = asdict(Protocol())
"""The measurement protocol's defaults: the one source (edge_bench.agent.spec.Protocol)."""


def quiet(stage: str, details: dict) -> None:
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
        return {**PROTOCOL_DEFAULTS, **(self.job.get("protocol") or {})}


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
