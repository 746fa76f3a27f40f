"""Start-up time of the TUI: from process start to the first screen ready, and what the imports cost.

Each run is a fresh Python process that imports `edge_bench.tui.app` and runs
the app headless (`App.run_test`, 120x36) until the Devices screen is mounted
and then until its profile table is filled (the profile scan runs in a worker,
so the screen answers keys before that). Times are taken from the moment the
parent spawns the process, so interpreter start-up is included. Then
`python -X importtime` lists the slowest imports of `edge_bench.tui.app`.
Runs in a throwaway EDGE_BENCH_HOME (shipped device profiles only) and
without device probing unless asked. Prints figures; asserts nothing.

    python bench/tui_startup.py [--runs 7] [--probe]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, sys, time
imported_start = time.time()
from edge_bench.tui.app import EdgeBenchApp
from edge_bench.tui.settings import TuiSettings
marks = {"imported": time.time(), "import_s": time.time() - imported_start}

async def main():
    app = EdgeBenchApp(TuiSettings(auto_probe=PROBE, start_screen="devices"))
    async with app.run_test(size=(120, 36)) as pilot:
        while not (type(app.screen).__name__ == "DevicesScreen" and app.screen.is_mounted):
            await pilot.pause(0.005)
        marks["mounted"] = time.time()
        table = app.screen.query_one("DataTable")
        while table.row_count == 0:
            await pilot.pause(0.005)
        marks["listed"] = time.time()
        if PROBE:
            cells = lambda: [str(table.get_cell(k, "reachable")) for k in app.screen.profiles]
            while any(c in ("probing…", "") for c in cells()):
                await pilot.pause(0.05)
            marks["probed"] = time.time()
    print(json.dumps(marks))

import asyncio
asyncio.run(main())
"""
PHASES = (("imported", "edge_bench.tui.app imported"), ("mounted", "Devices screen mounted"),
          ("listed", "device profiles listed"), ("probed", "every device probed"))


def one_run(env: dict, probe: bool) -> dict[str, float]:
    """Seconds from spawning a process to each phase."""
    started = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD.replace("PROBE", str(probe))], env=env, capture_output=True,
                         text=True, check=True)
    marks = json.loads(out.stdout.strip().splitlines()[-1])
    figures = {name: marks[name] - started for name, _ in PHASES if name in marks}
    figures["import_s"] = marks["import_s"]
    return figures


def slowest_imports(env: dict, top: int = 12) -> list[tuple[float, str]]:
    """(cumulative seconds, module) of the slowest imports under edge_bench.tui.app, one process."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import edge_bench.tui.app"], env=env,
                         capture_output=True, text=True, check=True)
    rows = []
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]) / 1e6, parts[2].rstrip()))
    return sorted(rows, reverse=True)[:top]


def summary(label: str, values: list[float]) -> str:
    """median, min … max in milliseconds."""
    ms = [v * 1e3 for v in values]
    return (f"{label:<34} median {statistics.median(ms):7.0f} ms   "
            f"min {min(ms):7.0f} … max {max(ms):7.0f}   n={len(ms)}")


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--probe", action="store_true", help="also time probing every shipped device profile")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="eb-tui-bench-") as home:
        env = {**os.environ, "EDGE_BENCH_HOME": home}
        one_run(env, False)  # warm the file cache and bytecode
        runs = [one_run(env, args.probe) for _ in range(args.runs)]
        print(f"TUI start-up, {args.runs} fresh processes after one warm-up; load average "
              f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs\n")
        print("from process spawn to:")
        for name, label in PHASES:
            if all(name in r for r in runs):
                print("  " + summary(label, [r[name] for r in runs]))
        print("  " + summary("(of which: importing the app)", [r["import_s"] for r in runs]))
        print("\nslowest imports (cumulative, python -X importtime, one process):")
        for seconds, module in slowest_imports(env):
            print(f"  {seconds * 1e3:7.1f} ms  {module}")


if __name__ == "__main__":
    main()
