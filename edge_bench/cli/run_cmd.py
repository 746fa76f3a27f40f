"""`edge-bench run`: the main job, a retrieval benchmark of converted students on a device."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import typer

from edge_bench.cli import app
from edge_bench.cli.checks import EXIT_CODES_HELP, bad_input_exits


def _split(values: list[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for value in values or []:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return tuple(out)


@app.command("run", epilog=EXIT_CODES_HELP)
@bad_input_exits
def run_command(
    device: str = typer.Option("local", "--device", "-D", help="Device profile (see `edge-bench devices`); A,B,C runs the plan "
                               "on every listed device at once, one job at a time per device (a lab run, `show LAB_ID`)."),
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
    profile: int = typer.Option(0, "--profile", min=0, help="After each tower's timed loops, a profiling pass of N inferences "
                                "(ExecuTorch: ETDump; LiteRT: its profiler and placement; per operator and block), stored with the job; 0 = none."),
    resume: bool = typer.Option(False, "--resume", help="Run only what the newest run of the same plan is missing "
                                "(refused while another live process runs it; a killed run resumes)."),
    repeat: int = typer.Option(1, "--repeat", min=1, help="Timed loops of every tower in N fresh processes, interleaved "
                               "across jobs: replicability (MLPerf's 5% rule) and intervals in `compare`."),
    cooldown_seconds: float = typer.Option(0.0, "--cooldown-seconds", min=0, help="Idle time before each repeat's tower."),
    cooldown_temp: float = typer.Option(None, "--cooldown-temp", help="Before each repeat's tower, wait until the hottest "
                                        "thermal zone of the profile is below this many °C (at most --cooldown-max)."),
    cooldown_max: float = typer.Option(600.0, "--cooldown-max", min=0, help="The longest the temperature gate waits (s)."),
    ceilings: bool = typer.Option(True, "--ceilings/--no-ceilings", help="Measure the device's compute ceiling per "
                                  "backend and precision first (cached per device), for the compute shares."),
    json_out: Path = typer.Option(None, "--json", help="Also write the run's summary (status, counts, per job figures) to this JSON file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No per-job lines: only the final tables and the closing line."),
    lab: str = typer.Option(None, "--lab", metavar="HEAD:PORT", help="Run on devices of a lab across hosts (Ray; "
                            "`edge-bench lab serve`): each device's jobs on the node that owns it, artifacts converted here "
                            "and shipped, records stored here."),
    allow_shared_hardware: bool = typer.Option(False, "--allow-shared-hardware", help="A lab run whose devices are one machine "
                                               "(e.g. local and an ssh profile to 127.0.0.1) is refused, as each would disturb "
                                               "the other's timings; this runs them anyway and marks their results as taken concurrently."),
) -> None:
    """Benchmark students on a device: latency, throughput, memory and Recall@K per backend and precision.

    With no options it runs the built-in zoo (the EdgeCLIP teacher and its
    students, distilled and from scratch) on this machine with ExecuTorch and
    LiteRT at fp32 over the synthetic test split. Every job is stored (see
    `edge-bench runs`, `edge-bench show RUN`). Everything is checked before
    the first job; what converters and runtimes print goes to the run's log,
    named at the end.
    """
    from edge_bench.agent.spec import Protocol
    from edge_bench.runner import RunPlan, Runner
    from edge_bench.runner.plan import DEFAULT_MODELS, DEFAULT_PRECISIONS
    from edge_bench.cli.checks import exit_code, run_summary, validate_plan, writable_file
    from edge_bench.cli.live import LiveRun
    from edge_bench.cli.logs import OutputLog, new_log_path
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
    devices = _split([device]) or ("local",)
    plan = RunPlan(
        device=devices[0], models=planned, backends=_split(backends),
        precisions=_split(precisions) or DEFAULT_PRECISIONS, dataset=dataset,
        data_dir=str(data_dir.expanduser().resolve()) if data_dir else None, n_images=n_images, weights=pairs,
        gallery_batch=gallery_batch, threads=threads,
        protocol=Protocol(warmup_runs, warmup_seconds, min_runs, min_seconds, max_runs, max_seconds),
        repeat=repeat, cooldown_seconds=cooldown_seconds, cooldown_temp_c=cooldown_temp, cooldown_max_seconds=cooldown_max,
        ceilings=ceilings, profile=profile,
    )
    if cooldown_temp is not None and not math.isfinite(cooldown_temp):
        raise ConfigError(f"--cooldown-temp takes a temperature in °C, got {cooldown_temp}")
    validate_plan(replace(plan, device="local") if lab else plan)  # a lab's device profiles live on its hosts
    writable_file(json_out, "--json")
    if len(devices) > 1 or lab:
        from edge_bench.cli.lab_run import run_lab

        return run_lab(plan, devices, resume, allow_shared_hardware, json_out, quiet, lab)
    import threading

    from edge_bench.cli.interrupts import ctrl_c_sets

    store = Store()
    log = OutputLog(new_log_path("run"), title="run")
    with log, LiveRun(console, quiet=quiet, log=log) as live, ctrl_c_sets(threading.Event()) as cancel:
        outcome = Runner(store, on_event=live.on_event, cancel=cancel).run(plan, resume=resume)
    rows = store.jobs(run_id=outcome.run_id)
    console.print(speed_table(rows, f"run {outcome.run_id} on {device} ({outcome.status}): speed and memory"))
    console.print(accuracy_table(rows, f"{dataset} test: recall % and fidelity"))
    if profile:
        from edge_bench.cli.profile_view import profile_tables

        for row in rows:
            if row.status == "ok":
                for item in profile_tables(row, top=5):
                    console.print(item)
    if json_out is not None:
        import json

        json_out.expanduser().write_text(json.dumps(run_summary(outcome, rows, device), indent=2) + "\n")
    counts = ", ".join(f"{n} {k}" for k, n in outcome.counts.items() if n)
    console.print(f"run {outcome.run_id} {outcome.status} ({counts}); stored in {store.path}; "
                  f"details: edge-bench show {outcome.run_id}; log: {log.path}")
    code = exit_code(outcome)
    if code:
        raise typer.Exit(code)
