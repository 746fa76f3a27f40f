"""`edge-bench show LAB_ID`: every device's run of one lab run."""

from __future__ import annotations

import json


def show_lab(store, lab_id: str, as_json: bool, figures: bool) -> None:
    """Per device of the lab run: its run line, its tables and its notes (or everything as JSON)."""
    from edge_bench.cli.results_view import job_json, print_run_details
    from edge_bench.cli.ui import console

    runs = store.lab_runs(lab_id)
    if as_json:
        out = {"lab_id": runs[0].lab_id, "runs": [
            {"run": run.__dict__, "jobs": [job_json(r) for r in store.jobs(run_id=run.id)]} for run in runs]}
        print(json.dumps(out, indent=2, default=str))
        return
    console.print(f"lab run {runs[0].lab_id}: {len(runs)} devices ({', '.join(r.device for r in runs)}), "
                  f"plan: {json.dumps({k: v for k, v in runs[0].plan.items() if k != 'device'})[:300]}")
    for run in runs:
        rows = store.jobs(run_id=run.id)
        console.print(f"{run.device}: run {run.id}, {run.created}, {run.status}, {len(rows)} job row(s)")
        if not rows:
            continue
        print_run_details(console, rows, run.plan.get("dataset"), figures, device=run.device)
