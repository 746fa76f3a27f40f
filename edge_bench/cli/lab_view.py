"""`edge-bench show LAB_ID`: every device's run of one lab run."""

from __future__ import annotations

import json


def show_lab(store, lab_id: str, as_json: bool, figures: bool) -> None:
    """Per device of the lab run: its run line, its tables and its notes (or everything as JSON)."""
    from edge_bench.cli.results_view import accuracy_table, figures_table, job_notes, speed_table
    from edge_bench.cli.ui import console

    runs = store.lab_runs(lab_id)
    if as_json:
        out = {"lab_id": runs[0].lab_id, "runs": [
            {"run": run.__dict__, "jobs": [{**{k: v for k, v in r.__dict__.items() if k != "record"}, "record": r.record.to_json()}
                                           for r in store.jobs(run_id=run.id)]} for run in runs]}
        print(json.dumps(out, indent=2, default=str))
        return
    console.print(f"lab run {runs[0].lab_id}: {len(runs)} devices ({', '.join(r.device for r in runs)}), "
                  f"plan: {json.dumps({k: v for k, v in runs[0].plan.items() if k != 'device'})[:300]}")
    for run in runs:
        rows = store.jobs(run_id=run.id)
        console.print(f"{run.device}: run {run.id}, {run.created}, {run.status}, {len(rows)} job row(s)")
        if not rows:
            continue
        console.print(speed_table(rows, f"{run.device}: speed and memory"))
        console.print(accuracy_table(rows, f"{run.device}: {run.plan.get('dataset')} test: recall % and fidelity"))
        for line in job_notes(rows):
            console.print(line)
        if figures:
            for row in rows:
                if row.status == "ok":
                    console.print(figures_table(row))
