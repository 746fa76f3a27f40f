"""`edge-bench run --device A,B,C`: one plan on several devices at once (a lab run on this host)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import typer

from edge_bench.runner.plan import RunPlan


def check_devices(devices: tuple[str, ...]) -> None:
    """Every named profile exists and reads cleanly; one PlanError listing each problem."""
    from edge_bench.cli.checks import device_problems
    from edge_bench.errors import ConfigError, PlanError

    if len(set(devices)) != len(devices):
        raise ConfigError(f"--device names a device twice: {', '.join(devices)}")
    problems = [line for device in devices for line in device_problems(device)]
    if problems:
        raise PlanError(problems)


def lab_summary(outcome, store) -> dict:
    """What `run --device A,B --json FILE` writes: the lab's status and counts, and each device's run summary."""
    from edge_bench.cli.checks import exit_code, run_summary

    return {"schema": 1, "lab_id": outcome.lab_id, "status": outcome.status, "exit_code": exit_code(outcome),
            "counts": dict(outcome.counts),
            "runs": {device: run_summary(run, store.jobs(run_id=run.run_id), device) for device, run in outcome.runs.items()}}


def run_lab(plan: RunPlan, devices: tuple[str, ...], resume: bool, allow_shared_hardware: bool, json_out: Path | None,
            quiet: bool, address: str | None = None) -> None:
    """Run the plan on every device at once (on this host, or on the Ray lab at `address`); print each device's
    tables and one closing line; exit like `run`."""
    from edge_bench.cli.checks import exit_code
    from edge_bench.cli.lab_live import LabLive
    from edge_bench.cli.logs import OutputLog, new_log_path
    from edge_bench.cli.results_view import accuracy_table, speed_table
    from edge_bench.cli.ui import console
    from edge_bench.runner.lab import LabRunner
    from edge_bench.store import Store

    if address is None:
        check_devices(devices)
    elif len(set(devices)) != len(devices):
        check_devices(devices)
    import threading

    from edge_bench.cli.interrupts import ctrl_c_sets

    store = Store()
    log = OutputLog(new_log_path("run"), title="lab run")
    with log, LabLive(console, quiet=quiet, log=log) as live, ctrl_c_sets(threading.Event()) as cancel:
        if address is None:
            runner = LabRunner(store, on_event=live.on_event, allow_shared_hardware=allow_shared_hardware, cancel=cancel)
        else:
            from edge_bench.runner.ray_lab import RayLabRunner

            runner = RayLabRunner(address, store, on_event=live.on_event, allow_shared_hardware=allow_shared_hardware,
                                  cancel=cancel)
        outcome = runner.run(replace(plan, device=devices[0]), devices, resume=resume)
    for device, run in outcome.runs.items():
        rows = store.jobs(run_id=run.run_id)
        console.print(speed_table(rows, f"{device}: run {run.run_id} ({run.status}): speed and memory"))
        console.print(accuracy_table(rows, f"{device}: {plan.dataset} test: recall % and fidelity"))
    if json_out is not None:
        json_out.expanduser().write_text(json.dumps(lab_summary(outcome, store), indent=2) + "\n")
    counts = ", ".join(f"{n} {k}" for k, n in outcome.counts.items() if n)
    console.print(f"lab run {outcome.lab_id} {outcome.status} on {len(devices)} devices ({counts}); stored in {store.path}; "
                  f"details: edge-bench show {outcome.lab_id}; log: {log.path}")
    code = exit_code(outcome)
    if code:
        raise typer.Exit(code)
