"""`edge-bench lab serve` and `lab status`: the hosts of a lab across machines, on Ray.

`lab serve` makes this host a node of the cluster that advertises one custom resource per device profile it
owns (each checked first: a device that does not answer is left out, with its reason); the node runs in the
foreground as `ray start ... --block` (the command becomes it), so stopping it is Ctrl-C or ending its pid.
A device plugged in later needs the node restarted: Ray fixes a node's resources when it starts.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
from pathlib import Path

import typer

from edge_bench.cli import app
from edge_bench.errors import ConfigError

lab_app = typer.Typer(help="A lab of devices on several hosts (Ray): serve this host's devices, see the lab's state.",
                      no_args_is_help=True)
app.add_typer(lab_app, name="lab")


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = (address or "").rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--address takes HEAD:PORT, got {address!r}")
    return host, int(port)


def node_ip_towards(host: str) -> str:
    """This host's address on the route to the head (127.0.0.1 for a head on loopback; `ray start` then registers
    the node under the machine's routable address anyway: Ray 2.60's `resolve_ip_for_localhost` replaces a
    loopback --node-ip-address, so `lab status` shows that address, as Ray's NodeManagerAddress)."""
    if host in ("127.0.0.1", "localhost"):
        return "127.0.0.1"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect((host, 9))
            return sock.getsockname()[0]
        except OSError as exc:
            raise ConfigError(f"no route from this host to the lab head {host}: {exc.strerror}") from None


def owned_devices(names: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    """({device: resource} that answer, {device: why not}) among the named profiles, or the user's own and `local`."""
    from edge_bench.devices import load_profile, open_transport
    from edge_bench.devices.loader import user_profiles_dir
    from edge_bench.errors import EdgeBenchError
    from edge_bench.runner.ray_lab import resource_name

    names = names or ("local", *sorted(p.stem for p in user_profiles_dir().glob("*.toml") if p.stem != "local"))
    ok, bad = {}, {}
    for name in names:
        try:
            with open_transport(load_profile(name)) as transport:
                transport.check()
            ok[name] = resource_name(name)
        except ConfigError:
            raise
        except EdgeBenchError as exc:
            bad[name] = exc.one_line()
    return ok, bad


def ray_start_argv(address: str, head: bool, resources: dict[str, int], node_ip: str, num_cpus: int | None = None,
                   object_store_mb: int | None = None) -> list[str]:
    """The `ray start` command of this node."""
    host, port = _host_port(address)
    ray = shutil.which("ray", path=str(Path(sys.executable).parent)) or shutil.which("ray") or "ray"
    argv = [ray, "start", f"--node-ip-address={node_ip}", f"--resources={json.dumps(resources)}", "--block",
            "--disable-usage-stats"]
    argv += ["--head", f"--port={port}", "--include-dashboard=false"] if head else [f"--address={host}:{port}"]
    if num_cpus is not None:
        argv.append(f"--num-cpus={num_cpus}")
    if object_store_mb is not None:
        argv.append(f"--object-store-memory={object_store_mb * 2**20}")
    return argv


@lab_app.command("serve")
def serve_command(
    address: str = typer.Option(..., "--address", "-a", help="The lab's head, HEAD:PORT (Ray's GCS port; 6379 is Ray's default)."),
    devices: str = typer.Option("", "--devices", "-D", help="Device profiles this host owns, comma-separated "
                                "(default: `local` and every profile in the user's config dir). Each is checked first."),
    head: bool = typer.Option(False, "--head", help="Start the lab's head here (listening on PORT of --address) instead of joining it."),
    node_ip: str = typer.Option(None, "--node-ip", help="This node's address as the others reach it (default: the one routing to HEAD)."),
    num_cpus: int = typer.Option(None, "--num-cpus", min=0, help="CPUs this node gives Ray (default: all). Device actors take none."),
    object_store_mb: int = typer.Option(None, "--object-store-mb", min=75, help="Memory of this node's object store, where "
                                        "shipped artifacts land (default: Ray's, 30% of RAM)."),
    ray_args: list[str] = typer.Option(None, "--ray-arg", help="One more `ray start` option, as --ray-arg=--node-manager-port=6380 "
                                       "(repeatable): to pin the ports a firewall must open."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check the devices and print the `ray start` command, but do not start it."),
) -> None:
    """Join the lab (or start its head) as a node advertising one resource per device it owns, in the foreground."""
    from edge_bench.cli.ui import console, err_console

    _host_port(address)
    from edge_bench.runner.ray_lab import ray_module

    ray_module()  # the `lab` extra is installed
    wanted = tuple(d.strip() for d in devices.split(",") if d.strip())
    ok, bad = owned_devices(wanted)
    for name, reason in bad.items():
        err_console.print(f"edge-bench: {name} left out of the lab: {reason}")
    if not ok:
        raise ConfigError("none of this host's devices answers, so it has nothing to serve" +
                          (f" ({', '.join(bad)})" if bad else ""))
    argv = ray_start_argv(address, head, {resource: 1 for resource in ok.values()}, node_ip or node_ip_towards(_host_port(address)[0]),
                          num_cpus, object_store_mb) + list(ray_args or [])
    console.print(f"serving {', '.join(ok)} to the lab at {address}{' (head)' if head else ''}")
    if dry_run:
        print(" ".join(argv))
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)  # the node is this process from here on: its pid is the node's


@lab_app.command("status")
def status_command(
    address: str = typer.Option(..., "--address", "-a", help="The lab's head, HEAD:PORT."),
) -> None:
    """The lab's nodes, the devices each owns, and which devices are busy (held by a run's actor)."""
    from rich.table import Table

    from edge_bench.cli.ui import console
    from edge_bench.runner.lab_status import lab_status

    table = Table(title=f"lab at {address}")
    for column in ("node", "address", "alive", "devices", "busy"):
        table.add_column(column)
    for node in lab_status(address):
        table.add_row(node.node_id[:12], f"{node.address} ({node.hostname})", "yes" if node.alive else "no (lost)",
                      ", ".join(node.devices) or "-", ", ".join(node.busy) or "-")
    console.print(table)
