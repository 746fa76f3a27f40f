"""Paired latency ratios between backends and precisions: interleaved in one process, so load drifts hit both.

For each model and tower, the batch-1 artifacts of every (backend, precision)
asked for are converted (or taken from the cache) and loaded into one process
(ExecuTorch's thread pool is process-wide: every runtime gets the same
threads). Then `--rounds` rounds: in each, every artifact runs a warm-up and
`--runs` timed inferences, in a rotated order. Each inference is timed as the
agent times it (its runtime's `invoke`, inputs set before, outputs not read:
the region a job reports); `--whole-call` times the host runner's numpy-in,
numpy-out call instead, whose copies and conversions weigh on towers under a
millisecond and differ between the runtimes' Python bindings. A round's median per artifact
is one sample; the ratio of two artifacts is the median over rounds of their
per-round ratio, with the 10th-90th percentile of those ratios. Asserts nothing.

    python bench/backend_ratio.py [--models edgeclip-teacher edgeclip-s-distilled]
        [--pairs executorch:fp32/tflite:fp32 executorch:int8/executorch:fp32 ...] [--threads 2] [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np
from bench_args import check_axes, positive, run

DEFAULT_PAIRS = ["executorch:fp32/tflite:fp32", "executorch:int8-dynamic/tflite:int8-dynamic", "executorch:int8/executorch:fp32",
                 "tflite:int8/tflite:fp32", "executorch:int8/executorch:int8-dynamic", "tflite:int8/tflite:int8-dynamic"]


def _input(clip, tower: str, shape) -> np.ndarray:
    if tower == "text":
        return np.asarray(clip.tokenizer(["a small red circle to the left of a large blue square"]), dtype=np.int32)
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


def _agent_region(model, x: np.ndarray):
    """One inference timed as the agent times it (seconds): inputs set untimed, then the runtime's invoke."""
    inputs = [np.ascontiguousarray(x)]

    def timed() -> float:
        model.set_inputs(inputs)
        t0 = time.perf_counter()
        model.invoke()
        return time.perf_counter() - t0

    return timed


def _whole_call(runner, x: np.ndarray):
    """One inference timed as the host runner's numpy-in, numpy-out call (seconds)."""

    def timed() -> float:
        t0 = time.perf_counter()
        runner(x)
        return time.perf_counter() - t0

    return timed


def _pair(text: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """'backend:precision/backend:precision' as two (backend, precision), or a one-line argparse error."""
    sides = [tuple(side.split(":")) for side in text.split("/")]
    if len(sides) != 2 or any(len(side) != 2 or not all(side) for side in sides):
        raise argparse.ArgumentTypeError(f"{text!r} is not A/B as backend:precision/backend:precision")
    return sides[0], sides[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["edgeclip-teacher", "edgeclip-s-distilled"])
    parser.add_argument("--pairs", nargs="+", type=_pair, default=[_pair(p) for p in DEFAULT_PAIRS],
                        help="A/B as backend:precision/backend:precision")
    parser.add_argument("--towers", nargs="+", choices=("image", "text"), default=["image", "text"])
    parser.add_argument("--threads", type=positive, default=2)
    parser.add_argument("--rounds", type=positive, default=15)
    parser.add_argument("--runs", type=positive, default=30, help="timed inferences per artifact per round")
    parser.add_argument("--whole-call", action="store_true", help="time the host runner's whole numpy call, not the agent's region")
    return run(parser, _run, parser.parse_args())


def _run(args) -> int:
    warnings.simplefilter("ignore")
    os.environ.setdefault("TQDM_DISABLE", "1")
    from executorch.extension.pybindings import portable_lib

    portable_lib._unsafe_reset_threadpool(args.threads)  # before any program loads
    from edge_bench.agent.runtimes.base import open_runtime
    from edge_bench.converters import convert, load_artifact
    from edge_bench.models import create_model

    pairs = args.pairs
    wanted = sorted({side for pair in pairs for side in pair})
    check_axes(args.models, {b for b, _ in wanted}, {p for _, p in wanted})
    region = "the host runner's whole call" if args.whole_call else "the agent's timed region (runtime invoke)"
    print(f"# threads {args.threads}, {args.rounds} rounds x {args.runs} runs per artifact, interleaved; timed: {region}", flush=True)
    # The agent's runtimes open before any conversion loads a program (ExecuTorch sizes its pool only before that).
    runtimes = {} if args.whole_call else {b: open_runtime(b, args.threads, {}) for b in sorted({side[0] for side in wanted})}
    print(f"{'model':<22} {'tower':<6} {'A':<24} {'B':<24} {'A ms':>8} {'B ms':>8} {'A/B':>6} {'p10-p90':>13}", flush=True)
    for name in args.models:
        clip = create_model(name)
        sets = {side: convert(clip, side[0], side[1], batch_sizes=(1,)) for side in wanted}
        for tower in args.towers:
            runners, x = {}, None
            for side, artifact_set in sets.items():
                spec = artifact_set.manifest["towers"][tower]["artifacts"][0]["inputs"][0]
                x = _input(clip, tower, spec["shape"])
                path = artifact_set.artifact(tower, 1)
                if args.whole_call:
                    runners[side] = _whole_call(load_artifact(path, side[0], threads=args.threads), x)
                else:
                    runners[side] = _agent_region(runtimes[side[0]].load(str(path)), x)
            rounds: dict[tuple, list[float]] = {side: [] for side in runners}
            order = list(runners)
            for r in range(args.rounds):
                for side in order[r % len(order):] + order[:r % len(order)]:
                    timed = runners[side]
                    for _ in range(5):  # warm-up
                        timed()
                    samples = [timed() for _ in range(args.runs)]
                    rounds[side].append(statistics.median(samples) * 1e3)
            for a, b in pairs:
                ratios = sorted(p / q for p, q in zip(rounds[a], rounds[b]))
                lo, hi = np.percentile(ratios, [10, 90])
                print(f"{name:<22} {tower:<6} {':'.join(a):<24} {':'.join(b):<24} {statistics.median(rounds[a]):>8.3f} "
                      f"{statistics.median(rounds[b]):>8.3f} {statistics.median(ratios):>6.2f} {lo:>6.2f}-{hi:<6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
