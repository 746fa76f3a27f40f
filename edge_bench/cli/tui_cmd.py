"""`edge-bench tui`: the terminal UI (Textual loads only when the command runs)."""

from __future__ import annotations

from pathlib import Path

import typer

from edge_bench.cli import app
from edge_bench.tui.settings import SCREEN_NAMES


@app.command("tui")
def tui_command(
    device: str = typer.Option(None, "--device", "-D", help="Device the Plan screen starts with (default: local)."),
    screen: str = typer.Option("devices", "--screen", help=f"First screen: {', '.join(SCREEN_NAMES)}."),
    no_probe: bool = typer.Option(False, "--no-probe", help="Do not probe every device when the Devices screen opens."),
    export_dir: Path = typer.Option(None, "--export-dir", help="Default folder of the Export screen's reports."),
) -> None:
    """Open the terminal UI: devices, plan, live run, results, compare, export.

    Keyboard-first: 1-6 switch screens, ? explains the one in front, q quits.
    It runs over the same runner, store and device profiles as the other commands.
    """
    from edge_bench.errors import ConfigError

    if screen not in SCREEN_NAMES:
        raise ConfigError(f"unknown screen {screen!r}", hint=f"one of {', '.join(SCREEN_NAMES)}")
    from edge_bench.runner.plan import RunPlan
    from edge_bench.tui.app import EdgeBenchApp
    from edge_bench.tui.settings import TuiSettings

    settings = TuiSettings(start_screen=screen, auto_probe=not no_probe)
    if device:
        settings.plan = RunPlan(device=device)
    if export_dir:
        settings.export_dir = export_dir.expanduser().resolve()
    EdgeBenchApp(settings).run()
