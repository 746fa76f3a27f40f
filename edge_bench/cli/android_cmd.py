"""`edge-bench android`: get a phone ready for the native runners."""

from __future__ import annotations

import json

import typer

from edge_bench.cli import app

android_app = typer.Typer(help="Android phones over adb: check a phone and its native runners (benchmark_model, executor_runner).",
                          no_args_is_help=True)
app.add_typer(android_app, name="android")


@android_app.command("check")
def check_command(
    device: str = typer.Argument(..., help="Device profile name (an adb profile, e.g. pixel-8)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Check the phone answers over adb, show its fingerprint, and check (and push) each configured runner."""
    from edge_bench.android.check import check_phone
    from edge_bench.android.settings import settings_from_profile
    from edge_bench.devices import load_profile, open_transport
    from edge_bench.errors import ConfigError

    profile = load_profile(device)
    if profile.transport != "adb":
        raise ConfigError(f"device {device} uses the {profile.transport} transport, not adb",
                          hint="`edge-bench android check` is for Android phones; see `edge-bench devices info`")
    settings = settings_from_profile(profile)
    with open_transport(profile) as transport:
        report = check_phone(transport, settings)
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
    else:
        _print(device, report)
    if not report["runners"] or not all(item["ok"] for item in report["runners"].values()):
        raise typer.Exit(1)


def _print(name: str, report: dict) -> None:
    from rich.table import Table

    from edge_bench.cli.ui import console

    fp, state = report["device"], report["device"].get("state", {})
    facts = Table(title=f"{name}: {fp.get('manufacturer') or ''} {fp.get('model') or ''}".strip(), show_header=False)
    cores = ", ".join(f"{n}x {kind}" for kind, n in fp.get("cpu", {}).get("core_types", {}).items())
    battery = state.get("battery", {})
    for key, value in (("SoC", fp.get("soc")), ("Android", f"{fp.get('android_version')} (SDK {fp.get('sdk')})"),
                       ("ABIs", ", ".join(fp.get("abilist") or [])), ("cores", cores),
                       ("governor", state.get("governor")), ("taskset", report.get("taskset") or "not found"),
                       ("temperatures", ", ".join(f"{k} {v:.1f}°C" for k, v in state.get("thermal", {}).items())),
                       ("battery", f"{battery.get('level_pct')}% at {battery.get('temperature_c')}°C" if battery else None)):
        facts.add_row(key, str(value) if value else "-")
    console.print(facts)
    runners = Table(title="native runners", caption="configure them in the profile's [android.runners.*] tables (docs/android.md)")
    for column in ("backend", "ready", "path or problem", "version"):
        runners.add_column(column, overflow="fold")
    for backend, item in report["runners"].items():
        runners.add_row(backend, "yes" if item["ok"] else "no", item.get("path") or item.get("error"), item.get("version") or "-")
    console.print(runners)
