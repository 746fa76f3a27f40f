"""Tables beside the plan form: the jobs a plan makes (and whether they are converted), and the cache."""

from __future__ import annotations

from rich.text import Text

from edge_bench.tui.artifacts import Converted
from edge_bench.tui.plan_form import PlanForm
from edge_bench.tui.widgets.table import Table


def job_state(model: str, backend: str, precision: str, device_backends: list[str] | None,
              offered: dict[str, tuple[str, ...]], converted: dict) -> Text:
    """What will happen to one job: skipped (and why), run from the cache, or converted first."""
    if device_backends is not None and backend not in device_backends:
        return Text("skipped: not on the device", style="yellow")
    if offered and precision not in offered.get(backend, ()):
        return Text(f"skipped: no {precision}", style="yellow")
    cached = converted.get((model, backend, precision))
    if cached is not None:
        batches = ", ".join(f"b{b}" for b in cached.batches)
        return Text(f"converted ({batches})", style="green")
    return Text("to convert", style="dim")


class PlanJobsTable(Table):
    """model x backend x precision of the plan, with what each job will need."""

    def on_mount(self) -> None:
        self.border_title = "Jobs in this plan"
        self.cursor_type = "row"
        self.add_columns("model", "backend", "precision", "artifact")

    def show(self, form: PlanForm, backends: list[str], device_backends: list[str] | None,
             offered: dict[str, tuple[str, ...]], converted: dict) -> None:
        """Refill from the form (backends already resolved to the device's when none is ticked)."""
        self.clear()
        for model in form.models:
            for backend in backends:
                for precision in form.precisions:
                    self.add_row(model, backend, precision,
                                 job_state(model, backend, precision, device_backends, offered, converted))
        self.border_subtitle = f"{self.row_count} job(s)"


class ConvertedTable(Table):
    """Every artifact set in the converter cache."""

    def on_mount(self) -> None:
        self.border_title = "Already converted"
        self.cursor_type = "row"
        self.add_columns("model", "backend", "precision", "batches", "weights", "MiB (b1)")

    def show(self, sets: list[Converted]) -> None:
        """Refill from the cache's manifests."""
        self.clear()
        for s in sets:
            self.add_row(s.model, s.backend, s.precision, ", ".join(map(str, s.batches)), s.weights,
                         f"{s.size_bytes / 2**20:.2f}")
        if not sets:
            self.border_subtitle = "nothing yet: a run converts what it needs"
        else:
            self.border_subtitle = f"{len(sets)} set(s)"
