"""`edge-bench devices`: the device profiles, whether each is reachable, and fingerprints."""

from __future__ import annotations

import json

import typer

from edge_bench.cli import app

devices_app = typer.Typer(
    help="Device profiles: list them and probe reachability, or print one device's fingerprint.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(devices_app, name="devices")


@devices_app.callback()
def devices_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    timeout: float = typer.Option(5.0, "--timeout", min=0.5, help="Seconds to wait for each device."),
) -> None:
    """List the device profiles (shipped and yours) and probe each one in parallel."""
    if ctx.invoked_subcommand is not None:
        return
    from edge_bench.cli.ui import console
    from edge_bench.devices import scan_profiles
    from edge_bench.devices.probe import probe_all

    profiles, errors = scan_profiles()
    probes = probe_all(profiles, timeout=timeout)
    if as_json:
        rows = [_row(profile) | {"probe": result.as_dict()} for profile, result in zip(profiles, probes)]
        typer.echo(json.dumps({"devices": rows, "errors": [e.one_line() for e in errors]}, indent=2))
    else:
        console.print(_table(profiles, probes))
    for error in errors[:-1]:
        typer.echo(f"edge-bench: error: {error.one_line()}", err=True)  # one line each, never wrapped
    if errors:
        raise errors[-1]  # the CLI prints it the same way and exits non-zero


def _row(profile) -> dict:
    return {"name": profile.name, "transport": profile.transport, "address": profile.address,
            "backends": profile.backends, "threads": profile.threads, "peak_gflops": profile.peak_gflops,
            "description": profile.description, "source": profile.source}


def _table(profiles, probes):
    from rich.table import Table
    from rich.text import Text

    from edge_bench.devices import user_profiles_dir

    table = Table(title="edge-bench devices", caption=f"your own profiles go in {user_profiles_dir()}")
    for column in ("name", "transport", "address", "backends", "threads", "peak GFLOP/s", "reachable", "detail"):
        table.add_column(column, justify="right" if column in ("threads", "peak GFLOP/s") else "left",
                         overflow="fold")
    for profile, result in zip(profiles, probes):
        reachable = "[green]yes[/]" if result.reachable else "[red]no[/]"
        peak = f"{profile.peak_gflops:.1f}" if profile.peak_gflops else "-"
        table.add_row(profile.name, profile.transport, profile.address, ", ".join(profile.backends),
                      str(profile.threads), peak, reachable, Text(result.detail))
    return table


@devices_app.command("info")
def info_command(
    name: str = typer.Argument(..., help="Device profile name (see `edge-bench devices`), or a .toml file."),
    as_json: bool = typer.Option(False, "--json", help="Print the raw fingerprint as JSON."),
    ceilings: bool = typer.Option(False, "--ceilings", help="Measure (or read the cached) compute ceilings: a "
                                  "GEMM-shaped artifact per backend and precision the device runs, with its own runtime."),
    precisions: str = typer.Option("fp32,int8-dynamic,int8", "--precisions", help="Precisions for --ceilings."),
) -> None:
    """Print a device's fingerprint: CPU, frequencies and governor, RAM, OS, temperatures, runtimes, ceilings."""
    from edge_bench.cli.ui import console
    from edge_bench.devices import load_profile, open_transport

    profile = load_profile(name)
    with open_transport(profile) as transport:
        info = transport.info()
        if ceilings:
            info["ceilings"] = _ceilings(profile, transport, info, [p.strip() for p in precisions.split(",") if p.strip()])
    if as_json:
        typer.echo(json.dumps({"device": profile.name, "fingerprint": info}, indent=2))
        return
    console.print(fingerprint_table(profile, info))


def _ceilings(profile, transport, info: dict, precisions: list[str]) -> dict:
    """The device's compute ceilings for its backends x precisions (cached per device, edge_bench.runner.ceiling)."""
    import threading
    from types import SimpleNamespace

    from edge_bench.converters import get_converter
    from edge_bench.executors.choose import executor_for
    from edge_bench.runner.ceiling import device_ceilings
    from edge_bench.runner.device_run import default_local_root

    from edge_bench.converters.base import check_precision

    for precision in precisions:
        check_precision(precision)  # an unknown name is one line, not a silently empty list
    pairs = [(b, p) for b in profile.backends for p in precisions if p in get_converter(b).precisions]
    run = SimpleNamespace(profile=profile, transport=transport, info=info, plan=SimpleNamespace(threads=None),
                          executor=executor_for(profile, transport, default_local_root()), local_root=default_local_root(),
                          cancel=threading.Event())
    return device_ceilings(run, pairs)


def _gib(value: int | None) -> str:
    return "-" if not value else f"{value / 2**30:.1f} GiB"


def _mhz(value: int | None) -> str:
    return "-" if not value else f"{value} MHz"


def fingerprint_rows(profile, info: dict) -> list[tuple[str, str]]:
    """(label, value) pairs of a fingerprint, in reading order."""
    cpu, memory = info.get("cpu", {}), info.get("memory", {})
    clocks = f"{_mhz(cpu.get('min_mhz'))} … {_mhz(cpu.get('max_mhz'))}"
    if not cpu.get("max_mhz") and cpu.get("reported_mhz"):
        clocks = f"{cpu['reported_mhz']} MHz (reported; no cpufreq)"
    temps = ", ".join(f"{z['type'] or z['zone']} {z['celsius']:.1f} °C" for z in info.get("thermal") or []) or "-"
    python = info.get("python") or {}
    found = {name: version for name, version in (info.get("runtimes") or {}).items() if version}
    rows = [
        ("device", f"{profile.name} ({profile.transport}, {profile.address})"),
        ("board", info.get("board") or "-"),
        ("cpu", f"{cpu.get('model', '?')}, {cpu.get('cores', '?')} cores ({info.get('machine', '?')})"),
        ("clocks", clocks),
        ("governor", cpu.get("governor") or "-"),
        ("memory", f"{_gib(memory.get('total_bytes'))} total, {_gib(memory.get('available_bytes'))} available"),
        ("os", f"{info.get('os', '?')}, kernel {info.get('kernel', '?')}"),
        ("temperature", temps),
        ("throttled", info.get("throttled") or "-"),
        ("load average", " ".join(str(x) for x in info.get("load_average") or []) or "-"),
        ("python", f"{python.get('version')} ({python.get('executable')})" if python else "none (shell fingerprint)"),
        ("runtimes", ", ".join(f"{name} {version}" for name, version in found.items()) or "none found"),
        ("peak fp32", f"{profile.peak_gflops:g} GFLOP/s: {profile.peak_gflops_derivation}" if profile.peak_gflops else "unknown"),
    ]
    for key, ceiling in (info.get("ceilings") or {}).items():
        value = (f"{ceiling['gflops']:.1f} GFLOP/s measured ({ceiling.get('shape')}, {ceiling.get('threads')} threads, "
                 f"{ceiling.get('runtime')})" if ceiling.get("gflops") else f"not measured: {ceiling.get('error')}")
        rows.append((f"ceiling {key}", value))
    return rows


def fingerprint_table(profile, info: dict):
    """The fingerprint as a two-column table."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{profile.name}: {profile.description}" if profile.description else profile.name,
                  show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    for label, value in fingerprint_rows(profile, info):
        table.add_row(label, Text(value))
    return table
