"""The TUI's settings as typed data, built once by the command (or a test) and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edge_bench.runner.plan import RunPlan

SCREEN_NAMES = ("devices", "plan", "run", "results", "compare", "export")
"""The app's screens, in the order of their number keys (1-6)."""


@dataclass
class TuiSettings:
    """What the app starts with."""

    store_path: Path | None = None
    """The results store (SQLite); None = the user's (`<data dir>/results.sqlite`)."""
    plan: RunPlan = field(default_factory=RunPlan)
    """The plan the Plan screen starts from."""
    start_screen: str = "devices"
    """The first screen shown (one of SCREEN_NAMES)."""
    auto_probe: bool = True
    """Probe every device's reachability when the Devices screen opens."""
    probe_timeout: float = 5.0
    """Seconds to wait for each device when probing."""
    export_dir: Path = field(default_factory=lambda: Path.cwd() / "edge-bench-report")
    """Where the Export screen writes reports by default."""
    thermal_interval: float = 10.0
    """Seconds between temperature reads of the device during a run (profiles with thermal zones)."""
    lab_address: str | None = None
    """HEAD:PORT of a lab across hosts (Ray): the Devices screen shows its nodes and devices; None = no lab."""
    allow_shared_hardware: bool = False
    """A lab run whose devices are one machine runs anyway, its results marked as taken concurrently (else refused)."""
