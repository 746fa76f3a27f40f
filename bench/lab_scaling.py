"""How a lab scales: 1, 2 and 3 devices of fixed scripted work, on one host (threads) and on Ray.

Every job is the same scripted work (each tower holds for --tower-seconds; no conversion, no runtime), so the
figures show the lab's own cost, not this machine's timing noise. For N devices: the lab's wall time (first
job started to last job finished) against the slowest of the same devices run alone (goal: at most 1.15x),
and on Ray the scheduling overhead per job, the round trip seen by the submitting host minus the time spent
inside the device's actor (goal: under 50 ms). The Ray cluster is one head node started here with
`edge-bench lab serve --head` (ended by its pid). The devices are three real sshd servers on loopback
(tests/sshd.py: each its own address, so its own device lock; needs root and openssh-server), profiles in a
throwaway edge-bench home; they share this machine, so the runs pass allow_shared_hardware. The window timed
is the job phase, from the first tower pushed to the last job finished: opening the devices and building the
model on the host are left out (printed apart). Prints figures; asserts nothing.

    python bench/lab_scaling.py [--tower-seconds 0.5] [--jobs 4] [--no-ray]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
HOME = Path(tempfile.mkdtemp(prefix="edge-bench-lab-scaling-"))
os.environ["EDGE_BENCH_HOME"] = str(HOME)

from ray_cluster import free_port, start_node  # noqa: E402  (the path and home are set up first)
from sshd import start_sshd  # noqa: E402

from edge_bench.agent.spec import Protocol  # noqa: E402
from edge_bench.executors.scripted import Script, ScriptedFactory  # noqa: E402
from edge_bench.runner import RunPlan  # noqa: E402
from edge_bench.runner.events import JobFinished, JobStage, JobStarted  # noqa: E402
from edge_bench.store import Store  # noqa: E402

DEVICES = ("lab-a", "lab-b", "lab-c")
PRECISIONS = ("fp32", "fp16", "int8-dynamic", "int8")
"""One small model, so the host's share of each job (building it, its fp32 reference) stays small; the jobs
differ by precision, which the scripted executor ignores."""


def start_devices() -> list:
    """One sshd per device, each with its profile in HOME."""
    servers = []
    for name in DEVICES:
        server = start_sshd(HOME / "sshd" / name)
        server.write_profile(HOME / "config", name, backends=["tflite"])
        servers.append(server)
    return servers


class Window:
    """The lab's job phase: the first tower pushed to the last job finished (opening devices and building the
    model on the host, before the first push, are left out)."""

    def __init__(self) -> None:
        self.started, self.first, self.last = None, None, None

    def __call__(self, event) -> None:
        now = time.perf_counter()
        if isinstance(event, JobStarted) and self.started is None:
            self.started = now
        if isinstance(event, JobStage) and event.stage in ("push", "remote") and self.first is None:
            self.first = now
        if isinstance(event, JobFinished):
            self.last = now

    @property
    def seconds(self) -> float:
        return (self.last or 0.0) - (self.first or 0.0)


def one(make_runner, plan: RunPlan, devices: tuple[str, ...]) -> tuple[Window, object]:
    store = Store(HOME / "data" / f"bench-{time.monotonic_ns()}.sqlite")
    window = Window()
    runner = make_runner(store, window)
    outcome = runner.run(plan, devices)
    errors = sorted({row.error for row in store.jobs() if row.status != "ok"})
    store.close()
    if outcome.status != "complete":  # a bench on a broken lab would print nonsense
        raise SystemExit(f"the lab run of {', '.join(devices)} was {outcome.status}: {errors}")
    return window, runner


def scaling(name: str, make_runner, plan: RunPlan) -> None:
    """1, 2 and 3 devices at once against each device alone, with the per-job overhead where the runner keeps it."""
    one(make_runner, plan, DEVICES)  # warm-up: caches (inputs, fp32 references) and, on Ray, the worker processes
    alone = {d: one(make_runner, plan, (d,))[0].seconds for d in DEVICES}
    for n in (1, 2, 3):
        devices = DEVICES[:n]
        window, runner = one(make_runner, plan, devices)
        wall, slowest = window.seconds, max(alone[d] for d in devices)
        line = (f"{name}: {n} device(s): lab wall {wall:.2f} s = {wall / slowest:.3f}x the slowest alone ({slowest:.2f} s); "
                f"setup before the first push {window.first - window.started:.2f} s")
        timings = getattr(runner, "timings", None)
        if timings:
            overhead = [(trip - inside) * 1e3 for _, trip, inside in timings]
            line += (f"; scheduling overhead per job: median {statistics.median(overhead):.1f} ms, "
                     f"max {max(overhead):.1f} ms over {len(overhead)} jobs")
        print(line, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tower-seconds", type=float, default=0.5, help="Scripted work per tower (two per job).")
    parser.add_argument("--jobs", type=int, default=4, choices=range(1, 5), help="Jobs per device (one precision each).")
    parser.add_argument("--no-ray", action="store_true", help="Only the lab on one host (threads).")
    args = parser.parse_args()
    servers = start_devices()
    try:
        return measure(args)
    finally:
        for server in servers:
            server.stop()


def measure(args) -> int:
    plan = RunPlan(models=("edgeclip-s-scratch",), precisions=PRECISIONS[:args.jobs], backends=("tflite",), n_images=8,
                   gallery_batch=1, ceilings=False,
                   protocol=Protocol(warmup_min_runs=1, warmup_min_seconds=0.0, min_runs=4, min_seconds=0.0))
    script = Script(delay_s=args.tower_seconds)
    print(f"fixed work: {args.jobs} job(s) per device, 2 towers x {args.tower_seconds} s each "
          f"({2 * args.jobs * args.tower_seconds:.1f} s per device); {os.cpu_count()} CPUs", flush=True)

    from edge_bench.runner.lab import LabRunner
    from edge_bench.runner.loop import Runner

    class Single:
        """One device alone, as `edge-bench run` runs it (the baseline of the threads lab)."""

        def __init__(self, store, window) -> None:
            self.runner = Runner(store, on_event=window, executor_factory=ScriptedFactory(script))

        def run(self, plan, devices):
            from dataclasses import replace

            return self.runner.run(replace(plan, device=devices[0]))

    def threads(store, window):
        return LabRunner(store, on_event=window, executor_factory=ScriptedFactory(script), allow_shared_hardware=True)

    one(threads, plan, DEVICES)  # warm-up
    alone = {d: one(lambda s, w: Single(s, w), plan, (d,))[0].seconds for d in DEVICES}
    for n in (2, 3):
        window, _ = one(threads, plan, DEVICES[:n])
        wall, slowest = window.seconds, max(alone[d] for d in DEVICES[:n])
        print(f"one host (threads): {n} devices: lab wall {wall:.2f} s = {wall / slowest:.3f}x the slowest alone "
              f"({slowest:.2f} s); setup before the first push {window.first - window.started:.2f} s", flush=True)
    if args.no_ray:
        return 0

    from edge_bench.runner.ray_lab import RayLabRunner

    address = f"127.0.0.1:{free_port()}"
    head = start_node(HOME, address, DEVICES, head=True)
    try:
        def on_ray(store, window):
            return RayLabRunner(address, store, on_event=window, executor_factory=ScriptedFactory(script),
                                allow_shared_hardware=True)

        scaling("Ray", on_ray, plan)
    finally:
        import ray

        ray.shutdown()
        head.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
