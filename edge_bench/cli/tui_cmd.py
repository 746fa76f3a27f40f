"""`edge-bench tui`: the terminal UI (Textual loads only when the command runs)."""

from __future__ import annotations

import re
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
    lab: str = typer.Option(None, "--lab", metavar="HEAD:PORT", help="A lab across hosts (Ray, `edge-bench lab serve`): "
                            "the Devices screen shows its nodes, their devices and which are busy."),
    allow_shared_hardware: bool = typer.Option(False, "--allow-shared-hardware", help="Run a lab run (Plan: several "
                                               "devices) whose devices are one machine anyway, its results marked as "
                                               "taken concurrently (else refused, as with `run`)."),
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

    if lab is not None and not re.fullmatch(r"[^:\s]+:\d+", lab):
        raise ConfigError(f"--lab takes HEAD:PORT, got {lab!r}")
    settings = TuiSettings(start_screen=screen, auto_probe=not no_probe, lab_address=lab,
                           allow_shared_hardware=allow_shared_hardware)
    if device:
        settings.plan = RunPlan(device=device)
    if export_dir:
        settings.export_dir = export_dir.expanduser().resolve()
    EdgeBenchApp(settings).run()
