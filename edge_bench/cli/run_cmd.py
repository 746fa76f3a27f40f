"""`edge-bench run`: the main job, a retrieval benchmark of converted students on a device."""

from __future__ import annotations

from pathlib import Path

import typer

from edge_bench.cli import app


def _split(values: list[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for value in values or []:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return tuple(out)


@app.command("run")
def run_command(
    device: str = typer.Option("local", "--device", "-D", help="Device profile (see `edge-bench devices`)."),
    models: list[str] = typer.Option(None, "--models", "-m", help="Zoo entries, comma-separated (default: the built-in EdgeCLIP zoo)."),
    backends: list[str] = typer.Option(None, "--backends", "-b", help="executorch, tflite, coreml (default: all the device runs)."),
    precisions: list[str] = typer.Option(None, "--precisions", "-p", help="fp32, fp16, int8, int8-dynamic or all (default: fp32)."),
    dataset: str = typer.Option("synthetic", "--dataset", "-d", help="synthetic, flickr30k or mscoco (test split)."),
    data_dir: Path = typer.Option(None, "--data-dir", help="Folder with the Karpathy JSON and images."),
    n_images: int = typer.Option(None, "--n-images", min=1, help="Only the first N test images (and their captions)."),
    weights: list[str] = typer.Option(None, "--weights", help="MODEL=PATH: weights for a model (repeatable); MODEL=untrained: its random initialisation."),
    threads: int = typer.Option(None, "--threads", min=1, help="Inference threads (default: the profile's)."),
    gallery_batch: int = typer.Option(8, "--gallery-batch", min=1, help="Batch size of the gallery (throughput) artifacts."),
    warmup_runs: int = typer.Option(10, "--warmup-runs", min=0, help="Warm-up: at least this many runs ..."),
    warmup_seconds: float = typer.Option(1.0, "--warmup-seconds", min=0, help="... and at least this many seconds."),
    min_runs: int = typer.Option(50, "--min-runs", min=1, help="Timed: at least this many runs ..."),
    min_seconds: float = typer.Option(1.0, "--min-seconds", min=0, help="... and at least this many seconds."),
    max_runs: int = typer.Option(2000, "--max-runs", min=1, help="Cap on runs per loop."),
    max_seconds: float = typer.Option(30.0, "--max-seconds", min=0.01, help="Cap on seconds per loop."),
    resume: bool = typer.Option(False, "--resume", help="Run only what the newest run of the same plan is missing."),
) -> None:
    """Benchmark students on a device: latency, throughput, memory and Recall@K per backend and precision.

    With no options it runs the built-in zoo (the EdgeCLIP teacher and its
    students, distilled and from scratch) on this machine with ExecuTorch and
    LiteRT at fp32 over the synthetic test split. Every job is stored (see
    `edge-bench runs`, `edge-bench show RUN`).
    """
    from edge_bench.agent.spec import Protocol
    from edge_bench.runner import RunPlan, Runner
    from edge_bench.runner.plan import DEFAULT_MODELS, DEFAULT_PRECISIONS
    from edge_bench.cli.live import LiveRun
    from edge_bench.cli.results_view import accuracy_table, speed_table
    from edge_bench.cli.ui import console
    from edge_bench.errors import ConfigError
    from edge_bench.store import Store

    pairs = {}
    for item in weights or []:
        if "=" not in item:
            raise ConfigError(f"--weights takes MODEL=PATH, got {item!r}")
        name, path = item.split("=", 1)
        if path != "untrained" and not Path(path).expanduser().exists():
            raise ConfigError(f"--weights {name}: no such file {path!r}")
        pairs[name] = path if path == "untrained" else str(Path(path).expanduser().resolve())
    if min_runs > max_runs or min_seconds > max_seconds or warmup_seconds > max_seconds:
        raise ConfigError("the minimum runs or seconds exceed the caps (--max-runs / --max-seconds)")
    planned = _split(models) or DEFAULT_MODELS
    stray = sorted(set(pairs) - set(planned))
    if stray:  # a misspelt name would otherwise run the model's shipped weights without a word
        raise ConfigError(f"--weights names {', '.join(stray)}, not among the models to run ({', '.join(planned)})")
    plan = RunPlan(
        device=device, models=planned, backends=_split(backends),
        precisions=_split(precisions) or DEFAULT_PRECISIONS, dataset=dataset,
        data_dir=str(data_dir.expanduser().resolve()) if data_dir else None, n_images=n_images, weights=pairs,
        gallery_batch=gallery_batch, threads=threads,
        protocol=Protocol(warmup_runs, warmup_seconds, min_runs, min_seconds, max_runs, max_seconds),
    )
    store = Store()
    with LiveRun(console) as live:
        outcome = Runner(store, on_event=live.on_event).run(plan, resume=resume)
    rows = store.jobs(run_id=outcome.run_id)
    console.print(speed_table(rows, f"run {outcome.run_id} on {device} ({outcome.status}): speed and memory"))
    console.print(accuracy_table(rows, f"{dataset} test: recall % and fidelity"))
    console.print(f"stored in {store.path}; details: edge-bench show {outcome.run_id}")
    if outcome.counts.get("failed"):
        raise typer.Exit(1)
