"""`edge-bench profile`: where the time goes, per operator and per block of the student, on a device."""

from __future__ import annotations

from pathlib import Path

import typer

from edge_bench.cli import app
from edge_bench.cli.checks import EXIT_CODES_HELP, bad_input_exits


@app.command("profile", epilog=EXIT_CODES_HELP)
@bad_input_exits
def profile_command(
    model: str = typer.Argument(..., help="Zoo entry (see `edge-bench models`)."),
    device: str = typer.Option("local", "--device", "-D", help="Device profile (see `edge-bench devices`)."),
    backend: str = typer.Option("executorch", "--backend", "-b", help="executorch (ETDump per operator, XNNPACK kernels included) "
                                "or tflite (LiteRT's profiler per operator, XNNPACK kernels included, and the placement: "
                                "partitions, delegated ops, quantize/dequantize counts)."),
    precision: str = typer.Option("fp32", "--precision", "-p", help="fp32, fp16, int8 or int8-dynamic."),
    runs: int = typer.Option(20, "--runs", min=1, help="Inferences of the profiling pass (after the timed loops, never in their latency)."),
    threads: int = typer.Option(None, "--threads", min=1, help="Inference threads (default: the profile's)."),
    n_images: int = typer.Option(None, "--n-images", min=1, help="Only the first N test images (and their captions)."),
    min_runs: int = typer.Option(50, "--min-runs", min=1, help="Timed runs: at least this many (the median the shares are of)."),
    min_seconds: float = typer.Option(1.0, "--min-seconds", min=0, help="... and at least this many seconds."),
    top: int = typer.Option(15, "--top", min=1, help="Operators shown per tower, slowest first (every row is stored)."),
    json_out: Path = typer.Option(None, "--json", help="Also write both towers' profiles (rows, roll-up, placement) to this JSON file."),
    csv_out: Path = typer.Option(None, "--csv", help="Also write every per-operator row (tower, operator, block, module, ms, share) to this CSV file."),
) -> None:
    """Profile one model on a device: a normal job (stored, see `edge-bench show`), then a profiling pass per tower.

    ExecuTorch: an ETDump of the pass, mapped on this host through the ETRecord
    written at conversion to the student's modules: a table per tower and a
    roll-up by block (patch or token embedding, attention, MLP, norms,
    residual, projection, layout ops, delegate and runtime overhead), each as
    a share of the timed median, with the time spent outside the delegate.
    LiteRT: the same table and roll-up from LiteRT's own profiler (libLiteRt's
    CompiledModel profiler, XNNPACK kernels included, times in whole
    microseconds), with where each op runs (XNNPACK partitions or TFLite's
    kernels); placement alone where that profiler is not available.
    """
    from edge_bench.agent.spec import Protocol
    from edge_bench.cli.checks import exit_code, validate_plan, writable_file
    from edge_bench.cli.live import LiveRun
    from edge_bench.cli.logs import OutputLog, new_log_path
    from edge_bench.cli.profile_view import profile_tables
    from edge_bench.cli.ui import console
    from edge_bench.runner import RunPlan, Runner
    from edge_bench.store import Store

    plan = RunPlan(device=device, models=(model,), backends=(backend,), precisions=(precision,), n_images=n_images,
                   threads=threads, protocol=Protocol(min_runs=min_runs, min_seconds=min_seconds), ceilings=False, profile=runs)
    validate_plan(plan)
    writable_file(json_out, "--json")
    writable_file(csv_out, "--csv")
    store = Store()
    log = OutputLog(new_log_path("profile"), title="profile")
    with log, LiveRun(console, quiet=False, log=log) as live:
        outcome = Runner(store, on_event=live.on_event).run(plan)
    rows = store.jobs(run_id=outcome.run_id)
    for row in rows:
        if row.status != "ok":
            console.print(f"{row.model} {row.backend} {row.precision}: {row.status}: {row.error}")
            continue
        for item in profile_tables(row, top=top):
            console.print(item)
    if json_out is not None:
        import json

        from edge_bench.records.codec import encode

        data = [{"job": row.id, "model": row.model, "backend": row.backend, "precision": row.precision,
                 "towers": {t: encode(row.record.tower(t).profile) for t in ("image", "text")}} for row in rows]
        json_out.expanduser().write_text(json.dumps(data, indent=2) + "\n")
    if csv_out is not None:
        from edge_bench.cli.profile_view import ops_csv

        csv_out.expanduser().write_text(ops_csv(rows))
    console.print(f"run {outcome.run_id} {outcome.status}; stored in {store.path}; log: {log.path}")
    code = exit_code(outcome)
    if code:
        raise typer.Exit(code)
