"""A real Ray cluster on 127.0.0.1 for tests: each node is `edge-bench lab serve` (which becomes `ray start --block`).

`start_node(home, address, devices, head=...)` starts one node as a subprocess with its own edge-bench home
(its device profiles) and returns a `Node`; `Node.stop()` ends it by its pid (SIGTERM, then SIGKILL to what is
left of its tree), `Node.kill()` kills its whole tree at once (a host lost mid-run). Never `ray stop`: it
would end every Ray process on the machine.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Node:
    """One Ray node this test started."""

    process: subprocess.Popen
    home: Path
    log: Path
    devices: tuple[str, ...] = ()
    _tree: list = field(default_factory=list, repr=False)

    def _processes(self) -> list:
        import psutil

        try:
            parent = psutil.Process(self.process.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kill(self) -> None:
        """SIGKILL the node and everything under it at once: the host is gone."""
        import psutil

        for proc in self._processes():
            try:
                proc.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """End the node by its pid (ray start tears its processes down on SIGTERM); SIGKILL what is left."""
        import psutil

        tree = self._processes()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        for proc in tree:
            try:
                proc.wait(timeout=5)
            except psutil.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def start_node(home: Path, address: str, devices: tuple[str, ...], head: bool = False) -> Node:
    """A node serving `devices` (profiles under `home`), started in the background; returns once it is up."""
    home.mkdir(parents=True, exist_ok=True)
    log = home / ("head.log" if head else "node.log")
    env = {**os.environ, "EDGE_BENCH_HOME": str(home), "RAY_DISABLE_USAGE_STATS": "1"}
    argv = [sys.executable, "-m", "edge_bench.cli", "lab", "serve", "--address", address, "--devices", ",".join(devices),
            "--num-cpus", "1", "--object-store-mb", "150", *(["--head"] if head else [])]
    with open(log, "ab") as out:
        process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    node = Node(process, home, log, devices)
    _wait_for(node, "Ray runtime started" if head else "Ray runtime started", 120)
    return node


def _wait_for(node: Node, text: str, deadline_s: float) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if text in node.log.read_text(errors="replace"):
            return
        if node.process.poll() is not None:
            raise RuntimeError(f"the Ray node exited: {node.log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.5)
    node.stop()
    raise RuntimeError(f"the Ray node did not start: {node.log.read_text(errors='replace')[-3000:]}")


def wait_devices(ray, devices: set[str], deadline_s: float = 60) -> None:
    """Until the cluster's alive nodes advertise exactly `devices`."""
    from edge_bench.runner.ray_lab import lab_devices

    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if set(lab_devices(ray)) == devices:
            return
        time.sleep(0.5)
    raise RuntimeError(f"the lab advertises {sorted(lab_devices(ray))}, not {sorted(devices)}")
