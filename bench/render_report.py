"""Render a device report in every format, screenshot the HTML in headless Chromium, and print the timings.

    python bench/render_report.py --device local --out /tmp/report     # from the user's results store
    python bench/render_report.py --demo --out /tmp/report             # a fresh store: a real tiny run first
    python bench/render_report.py --compare local rpi5 --out /tmp/cmp

Prints: seconds to build the report model, draw the plots and write each
format; file sizes; the Chromium render time and the PNG's path (look at it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def demo_records() -> None:
    """A real tiny run (teacher and a student, LiteRT fp32) on this host into a fresh EDGE_BENCH_HOME."""
    os.environ["EDGE_BENCH_HOME"] = tempfile.mkdtemp(prefix="edge-bench-report-demo-")
    from edge_bench.agent.spec import Protocol
    from edge_bench.runner import RunPlan, Runner
    from edge_bench.store import Store

    start = time.perf_counter()
    plan = RunPlan(models=("edgeclip-teacher", "edgeclip-s-scratch"), backends=("tflite",), n_images=60, gallery_batch=1,
                   protocol=Protocol(2, 0.0, 20, 0.2, 500, 5.0))
    outcome = Runner(Store()).run(plan)
    print(f"demo run {outcome.run_id}: {outcome.status} in {time.perf_counter() - start:.1f} s "
          f"(EDGE_BENCH_HOME={os.environ['EDGE_BENCH_HOME']})")


def timed(label: str, fn):
    start = time.perf_counter()
    value = fn()
    print(f"{label:<28} {time.perf_counter() - start:8.3f} s")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="local")
    parser.add_argument("--compare", nargs=2, metavar=("DEVICE_A", "DEVICE_B"))
    parser.add_argument("--runs", nargs="*")
    parser.add_argument("--out", type=Path, default=Path("report-out"))
    parser.add_argument("--demo", action="store_true", help="make records with a real tiny run in a fresh store first")
    parser.add_argument("--height", type=int, default=2400, help="screenshot height in pixels")
    args = parser.parse_args(argv)
    if args.demo:
        demo_records()

    from edge_bench.report.build import build_device_report
    from edge_bench.report.compare import build_compare_report
    from edge_bench.report.exporters import Subject, exporter_names, get_exporter
    from edge_bench.report.screenshot import find_browser, screenshot
    from edge_bench.store import Store

    store = Store()
    if args.compare:
        report = timed("build compare report", lambda: build_compare_report(store, args.compare, args.runs))
    else:
        report = timed("build device report", lambda: build_device_report(store, args.device, args.runs))
    subject = Subject(report)
    plots = timed("draw the plots", lambda: subject.plots)
    print(f"  {len(plots)} plots: {', '.join(p.name for p in plots)}")
    args.out.mkdir(parents=True, exist_ok=True)
    html = None
    for name in exporter_names():
        paths = timed(f"write {name}", lambda: get_exporter(name).write(subject, args.out))
        html = html or (paths[0] if name == "html" else None)
        for path in paths:
            print(f"  {path}  {path.stat().st_size / 1024:.1f} KiB")
    if find_browser() is None:
        print("no chromium: install Debian's chromium package to render the HTML", file=sys.stderr)
        return 1
    png = timed("chromium screenshot", lambda: screenshot(html, args.out / f"{html.stem}-screenshot.png", 1280, args.height))
    print(f"  {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
