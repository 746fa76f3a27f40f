"""On-device fidelity: a sample of inputs run one by one on the phone, outputs compared with the host's.

Recall needs the embeddings of the whole test split; the native runners take one
input per process, so recall is computed on the host from the same artifact (the
result says so in `accuracy_source`). What the phone can show cheaply is whether
it computes the same thing: for `fidelity_samples` inputs the runner writes its
outputs (`--output_file` / `--output_filepath`), they are pulled, and compared with
the same artifact run by this machine's runtime: cosine per embedding and max |diff|.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edge_bench.android.context import execute, run_settings, stage_input
from edge_bench.android.tensors import TensorSpec, cosine_fidelity, host_reference, read_raw_output
from edge_bench.errors import EdgeBenchError

if TYPE_CHECKING:
    from edge_bench.android.context import JobContext

SOURCE = "on-device outputs of the artifact vs the same artifact run on the host"

_ONE_RUN = {"warmup_min_runs": 0, "warmup_min_seconds": 0.0, "min_runs": 1, "min_seconds": 0.0,
            "max_runs": 1, "max_seconds": 60.0}


def _not_run(reason: str, **extra: Any) -> dict:
    return {"status": "not-run", "reason": reason, "source": SOURCE, **extra}


def _reference(ctx: JobContext, artifact: Path):
    return ctx.reference if ctx.reference is not None else host_reference(artifact, ctx.runner.backend)


def _device_output(ctx: JobContext, index: int, tensor_input, out_spec: TensorSpec | None, model: str) -> np.ndarray | str:
    """The runner's output for one staged input, pulled from the phone; a reason string when it has none."""
    base = posixpath.join(ctx.remote_dir, "outputs", f"item-{index}")
    ctx.device.mkdir(posixpath.dirname(base))
    run = run_settings(ctx, model, (tensor_input,), _ONE_RUN, output_base=base, peak_memory=False)
    _, capture, report = execute(ctx, run, f"fidelity-{index}")
    failed = ctx.runner.failure(report)
    if failed or capture.exit_code != 0:
        return f"sample {index} failed in the {failed[0] if failed else 'exit'} phase: {failed[1] if failed else capture.exit_code}"
    remote = ctx.runner.output_files(base, 1)[0]
    present = ctx.device.sh('[ -f "$1" ] && echo "@@eb present"', remote)
    if "@@eb present" not in present:
        return (f"{ctx.runner.module} wrote no output file ({remote}); "
                "benchmark_model builds older than --output_filepath ignore the flag")
    local = ctx.device.pull(remote, ctx.local_dir / "outputs" / posixpath.basename(remote))
    return read_raw_output(local, out_spec)


def measure_fidelity(ctx: JobContext, artifact: Path, model: str, items: np.ndarray,
                     specs_in: list[TensorSpec], specs_out: list[TensorSpec]) -> dict:
    """Fidelity figures for the first `fidelity_samples` inputs, or why they could not be measured."""
    count = min(ctx.device.settings.fidelity_samples, len(items))
    if count <= 0:
        return _not_run("fidelity_samples is 0 in the profile")
    try:
        reference = _reference(ctx, artifact)
    except (ImportError, EdgeBenchError) as exc:
        return _not_run(f"no host runtime to compare with: {exc}")
    ctx.emit("fidelity", {"samples": count})
    device_rows, host_rows = [], []
    spec_in = specs_in[0] if specs_in else None
    for index in range(count):
        staged, tensor = stage_input(ctx, items[index:index + 1], spec_in, f"item-{index}")
        output = _device_output(ctx, index, staged, specs_out[0] if specs_out else None, model)
        if isinstance(output, str):
            return _not_run(output, n=index)
        host_rows.append(np.asarray(reference([tensor])).reshape(1, -1))
        device_rows.append(output.reshape(1, -1))
    figures = cosine_fidelity(np.concatenate(device_rows), np.concatenate(host_rows))
    return {"status": "ok", "source": SOURCE, **figures}
