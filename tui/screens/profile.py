"""The profile view of one job: per tower the roll-up by block (ms, share of the timed median) and a stacked bar."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from edge_bench.tui.profile_model import BAR_CHARS, block_rows, profiled_towers, stacked_bar, summary


class ProfileScreen(ModalScreen[None]):
    """Where one job's time goes (edge-bench profile / run --profile)."""

    CSS_PATH = "profile.tcss"
    BINDINGS = [Binding("escape,q,p", "dismiss", "Close")]

    def __init__(self, job) -> None:
        super().__init__()
        self.job = job

    def compose(self) -> ComposeResult:
        towers = profiled_towers(self.job.record)
        with Vertical(id="profile-dialog"):
            yield Static(f"{self.job.model} {self.job.backend} {self.job.precision} on {self.job.device}", id="profile-title")
            yield Static("\n".join(summary(t, p) for t, p in towers.items()), id="profile-summary")
            table = DataTable(id="profile-blocks", cursor_type="row", zebra_stripes=True)
            table.add_column("block")
            for tower in towers:
                table.add_column(f"{tower} ms")
                table.add_column("share")
            table.add_rows(block_rows(towers))
            yield table
            bars = [f"{t:>5} {stacked_bar(p)}" for t, p in towers.items() if p.blocks]
            legend = "  ".join(f"{c}={b}" for b, c in BAR_CHARS.items())
            yield Static("\n".join(bars + ([legend] if bars else [])), id="profile-bars")
            yield Static("escape closes", classes="hint")
