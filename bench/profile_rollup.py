"""Where the time goes: per-block roll-up of profiled jobs on this host, with coverage and the pass's overhead.

Runs each model x backend at fp32 through the normal runner with a profiling
pass (`run --profile N`) and prints, per tower: the roll-up by block (ms and
share of the timed median), the sum of per-operator times against the timed
median (coverage), the time outside the delegate, the delegate calls or
partitions, and the profiling pass's wall time against the tower job's.
LiteRT's times come from its own C profiler (libLiteRt, whole microseconds);
where that is missing its placement is printed. Asserts nothing.

    python bench/profile_rollup.py [--models edgeclip-teacher edgeclip-s-distilled] [--backends executorch tflite]
                                   [--threads 2] [--runs 20] [--n-images 64] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from bench_args import check_axes, positive, run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["edgeclip-teacher", "edgeclip-s-distilled"])
    parser.add_argument("--backends", nargs="+", default=["executorch", "tflite"])
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--threads", type=positive, default=2)
    parser.add_argument("--runs", type=positive, default=20, help="inferences of the profiling pass")
    parser.add_argument("--n-images", type=positive, default=None)
    parser.add_argument("--json", default=None)
    return run(parser, _run, parser.parse_args())


def _run(args) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    check_axes(args.models, args.backends, [args.precision])

    from edge_bench.agent.spec import Protocol
    from edge_bench.cli.profile_view import coverage
    from edge_bench.records.codec import encode
    from edge_bench.runner import RunPlan, Runner
    from edge_bench.store import Store

    plan = RunPlan(models=tuple(args.models), backends=tuple(args.backends), precisions=(args.precision,), threads=args.threads,
                   n_images=args.n_images, protocol=Protocol(), ceilings=False, profile=args.runs)
    store = Store()
    outcome = Runner(store).run(plan)
    out = []
    for row in store.jobs(run_id=outcome.run_id):
        print(f"\n== {row.model} {row.backend} {row.precision} ({row.status}) threads={args.threads}")
        if row.error:  # a job that failed or was skipped says why, in one line
            print(f"  {' '.join(str(row.error).split())}")
        for tower in ("image", "text"):
            t = row.record.tower(tower)
            p = t.profile
            if p is None:
                print(f"  {tower}: no profile")
                continue
            if p.status != "ok":
                print(f"  {tower}: profile {p.status}: {p.reason}")
                continue
            med = t.latency.median * 1e3 if t.latency.median else None
            if not p.blocks:  # LiteRT without its C profiler: placement only
                pl = p.placement
                print(f"  {tower}: timed median {med:.3f} ms; placement only: {pl.get('partitions')} partition(s), "
                      f"{pl.get('delegated_nodes')}/{pl.get('nodes')} nodes delegated, QUANTIZE {pl.get('quantize')}, "
                      f"DEQUANTIZE {pl.get('dequantize')}, not delegated {pl.get('not_delegated_ops')}; pass {p.wall_s:.2f} s "
                      f"of the tower job's {p.job_wall_s:.2f} s = overhead {_pct(p.overhead_share)}")
                continue
            print(f"  {tower}: timed median {med:.3f} ms; profiled execute {p.execute_ms or 0:.3f} ms "
                  f"({_pct(p.explained)} of each profiled run in operator events); "
                  f"sum of operators {p.op_total_ms or 0:.3f} ms = coverage {coverage(p)}; "
                  f"outside the delegate {p.outside_delegate_ms or 0:.3f} ms; delegate calls/partitions {p.delegate_calls}; "
                  f"pass {p.wall_s:.2f} s of the tower job's {p.job_wall_s:.2f} s = overhead {_pct(p.overhead_share)}")
            for b in p.blocks:
                print(f"    {b.block:18s} {b.ms:8.3f} ms {_pct(b.share):>7s}  ({b.ops} rows, outside the delegate {b.outside_delegate_ms:.3f} ms)")
        out.append({"model": row.model, "backend": row.backend, "precision": row.precision, "status": row.status,
                    "towers": {tw: {"timed_median_s": row.record.tower(tw).latency.median, "profile": encode(row.record.tower(tw).profile)}
                               for tw in ("image", "text")}})
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(out, handle, indent=2)
    return 0


def _pct(value) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


if __name__ == "__main__":
    sys.exit(main())
