"""`edge-bench runs`, `show` and `compare`: what the results store holds."""

from __future__ import annotations

import json

import typer

from edge_bench.cli import app


@app.command("runs")
def runs_command(
    device: str = typer.Option(None, "--device", "-D", help="Only runs on this device."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="How many runs, newest first."),
) -> None:
    """List stored runs: id, time, device, status and job counts."""
    from rich.table import Table

    from edge_bench.cli.ui import console
    from edge_bench.store import Store

    store = Store()
    table = Table(title=f"runs in {store.path}")
    for column in ("run", "created (UTC)", "device", "status", "ok", "failed", "skipped", "models", "lab"):
        table.add_column(column)
    for run in store.runs(device=device, limit=limit):
        jobs = store.jobs(run_id=run.id)
        count = lambda s: str(sum(1 for j in jobs if j.status == s))  # noqa: E731  (a one-line local helper reads better as a lambda)
        models = ", ".join(run.plan.get("models", []))
        table.add_row(run.id, run.created.replace("+00:00", ""), run.device, run.status, count("ok"), count("failed"),
                      count("skipped"), models, run.lab_id or "")
    console.print(table)


@app.command("show")
def show_command(
    run_id: str = typer.Argument(..., help="Run id (or a unique prefix), from `edge-bench runs`; a lab id (L...) shows "
                                 "every device's run of that lab run."),
    as_json: bool = typer.Option(False, "--json", help="Print every job's full record as JSON."),
    figures: bool = typer.Option(False, "--figures", help="Also print every figure of both towers, per job."),
) -> None:
    """Details of one run: speed, memory, recall and fidelity per job; notes, failures and provenance."""
    from edge_bench.cli.results_view import job_json, print_run_details
    from edge_bench.cli.ui import console
    from edge_bench.store import Store

    store = Store()
    if run_id.startswith("L"):
        from edge_bench.cli.lab_view import show_lab

        return show_lab(store, run_id, as_json, figures)
    run = store.run(run_id)
    rows = store.jobs(run_id=run.id)
    if as_json:
        jobs = [job_json(r) for r in rows]
        print(json.dumps({"run": run.__dict__, "jobs": jobs}, indent=2, default=str))
        return
    console.print(f"run {run.id} on {run.device}, {run.created}, {run.status}; plan: {json.dumps(run.plan)[:300]}")
    if run.lab_id:
        others = [f"{r.device} ({r.id})" for r in store.lab_runs(run.lab_id) if r.id != run.id]
        console.print(f"part of lab run {run.lab_id}, with {', '.join(others) or 'no other run'}: edge-bench show {run.lab_id}")
    if not rows:
        console.print("this run has no jobs")
        return
    print_run_details(console, rows, run.plan.get("dataset"), figures)


@app.command("compare")
def compare_command(
    run_a: str = typer.Argument(..., help="Baseline run."),
    run_b: str = typer.Argument(..., help="Run compared with it."),
    fail_if_slower: float = typer.Option(None, "--fail-if-slower", metavar="PCT", min=0,
                                         help="Exit 1 when a shared job's latency is significantly slower in B, by more than PCT percent."),
) -> None:
    """Ratios between two runs for the jobs they share (same model, backend, precision, dataset).

    Per tower: B's median latency over A's with a 95% interval and a verdict (faster, slower, or no
    significant difference); over the repeats where both runs have them (`run --repeat N`).
    Exit status: 0, or 1 with --fail-if-slower when a regression beyond PCT is significant.
    """
    from edge_bench.cli.compare_view import compare_table, regressions
    from edge_bench.cli.ui import console, err_console
    from edge_bench.store import Store

    store = Store()
    a, b = store.run(run_a), store.run(run_b)
    rows_a, rows_b = store.jobs(run_id=a.id), store.jobs(run_id=b.id)
    console.print(compare_table(a, rows_a, b, rows_b))
    if fail_if_slower is not None:
        slower = regressions(rows_a, rows_b, fail_if_slower)
        for line in slower:
            err_console.print(f"edge-bench: regression beyond {fail_if_slower:g}%: {line}")
        if slower:
            raise typer.Exit(1)
