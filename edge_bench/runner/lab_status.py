"""What a lab across hosts looks like now: its nodes, the devices each owns, which are busy (Ray's view).

One source for `edge-bench lab status` and the TUI's Devices screen. A device is busy while a run's actor holds
its resource. A node's address is Ray's `NodeManagerAddress`: the address Ray registered the node under, which
for a node started with `--node-ip-address=127.0.0.1` is the machine's routable address (Ray replaces a loopback
node address with it, `ray._private.services.resolve_ip_for_localhost`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LabNode:
    """One node of the lab as Ray reports it."""

    node_id: str
    address: str
    """Ray's NodeManagerAddress."""
    hostname: str
    alive: bool
    devices: tuple[str, ...] = ()
    """The device profiles this node advertises (one resource each)."""
    busy: tuple[str, ...] = ()
    """Its devices held by a run's actor now."""


def lab_nodes(ray) -> list[LabNode]:
    """The nodes of the cluster `ray` is connected to: alive ones first, then by address."""
    from edge_bench.runner.ray_lab import device_of, resource_name

    available = ray.available_resources()
    nodes = []
    for node in ray.nodes():
        alive = bool(node.get("Alive"))
        owned = tuple(sorted(d for d in (device_of(r) for r in node.get("Resources", {})) if d))
        busy = tuple(d for d in owned if alive and available.get(resource_name(d), 0) < 1)
        nodes.append(LabNode(node["NodeID"], str(node.get("NodeManagerAddress", "")),
                             str(node.get("NodeManagerHostname", "")), alive, owned, busy))
    return sorted(nodes, key=lambda n: (not n.alive, n.address, n.node_id))


def lab_status(address: str) -> list[LabNode]:
    """The lab at HEAD:PORT now (joins as a driver, and leaves again unless this process was already in it)."""
    from edge_bench.runner.ray_lab import connect, ray_module

    joined = not ray_module().is_initialized()
    ray = connect(address)
    try:
        return lab_nodes(ray)
    finally:
        if joined:
            ray.shutdown()
