"""The agent's measurement overhead: its reported median over a bare timing loop on the same runtime.

For each backend, one artifact (the built-in EdgeCLIP-S tower, batch 1,
converted through `edge_bench.converters.convert` and cached) is timed in
fresh processes with the same threads, alternating: a bare loop written
straight against the runtime's API (set the input, perf_counter_ns,
invoke, perf_counter_ns), then --rounds times the agent as the device runs it
(`python -m edge_bench_agent JOB.json`) followed by a bare loop. The bare
loops use the agent's gates (warm-up: 50 runs and 1 s; timed: --runs and
--seconds, and at least as many runs as the agent just did). Alternating
keeps a busy shared machine's drift out of the ratio. Prints every
process's median and median(agent medians) / median(bare medians); the goal
is at most 1.01. On a shared machine other processes move medians by tens of
per cent between runs, so the ratios of minima and of 10th percentiles
(what the loop costs when nothing else interferes) are printed too.
Asserts nothing.

    python bench/harness_overhead.py [--backend executorch tflite] [--tower image] [--threads 1]
                                     [--runs 300] [--seconds 2] [--affinity 0] [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

BARE = {
    "executorch": """
        import torch
        from executorch.extension.pybindings import _C
        _C._unsafe_reset_threadpool(THREADS)
        program = _C._load_program(ARTIFACT, program_verification=_C.Verification.InternalConsistency)
        method = program.load_method("forward")
        inputs = [torch.from_numpy(x)]
        def run():
            method.set_inputs(inputs)
            t0 = time.perf_counter_ns()
            method.execute()
            return time.perf_counter_ns() - t0
    """,
    "tflite": """
        from ai_edge_litert.interpreter import Interpreter
        interpreter = Interpreter(model_path=ARTIFACT, num_threads=THREADS)
        interpreter.allocate_tensors()
        index = interpreter.get_input_details()[0]["index"]
        def run():
            interpreter.set_tensor(index, x)
            t0 = time.perf_counter_ns()
            interpreter.invoke()
            return time.perf_counter_ns() - t0
    """,
}
"""The bare loop per backend: the runtime's own API, no agent code. `x` is item 0, ready."""

PRELUDE = """
    import gc, json, os, sys, time
    import numpy as np
    ARTIFACT, INPUTS, KIND, THREADS = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    WARMUP, WARMUP_S, RUNS, SECONDS = int(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]), float(sys.argv[8])
    AFFINITY = json.loads(sys.argv[9])
    if AFFINITY:
        os.sched_setaffinity(0, set(AFFINITY))
    raw = np.load(INPUTS)[:1]
    if KIND == "uint8_images":
        m = np.full((1, 3, 1, 1), 0.5, np.float32); s = np.full((1, 3, 1, 1), 0.25, np.float32)
        x = np.ascontiguousarray(((raw.astype(np.float32) / 255.0) - m) / s)
    else:
        x = np.ascontiguousarray(raw.astype(np.int32))
"""

LOOP = """
    def gated(min_runs, min_seconds):
        out, start = [], time.perf_counter()
        while len(out) < min_runs or time.perf_counter() - start < min_seconds:
            out.append(run())
        return out
    gated(WARMUP, WARMUP_S)
    gc.disable()
    print(json.dumps(gated(RUNS, SECONDS)))
"""


WARMUP_RUNS, WARMUP_SECONDS = 50, 1.0
"""Warm-up gates of both the agent and the bare loops."""


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def artifact_and_inputs(backend: str, tower: str, tmp: Path) -> tuple[Path, Path, str]:
    """The batch-1 artifact (converted once, then cached) and the synthetic split's inputs."""
    from edge_bench.converters import convert
    from edge_bench.data import load_dataset
    from edge_bench.data.preprocess import preprocess_images
    from edge_bench.models import create_model

    model = create_model("edgeclip-s-scratch")
    artifacts = convert(model, backend, "fp32", batch_sizes=(1,))
    data = load_dataset("synthetic", n_images=8)
    inputs = tmp / f"{tower}.npy"
    if tower == "image":
        np.save(inputs, preprocess_images(data, model.preprocess))
    else:
        np.save(inputs, model.tokenizer(data.captions[:8]))
    return artifacts.artifact(tower, 1), inputs, "uint8_images" if tower == "image" else "int32_tokens"


def run_agent(artifact: Path, inputs: Path, kind: str, backend: str, args, tmp: Path) -> dict:
    """The agent, pushed as `edge_bench_agent` into tmp, run once; its result."""
    from edge_bench.agent import agent_files, agent_root

    for path in agent_files():
        target = tmp / "edge_bench_agent" / path.relative_to(agent_root())
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    job = {
        "schema": 1, "job_id": "overhead", "tower": "image" if kind == "uint8_images" else "text", "backend": backend,
        "artifact": {"path": str(artifact), "sha256": _sha(artifact)},
        "inputs": {"path": str(inputs), "sha256": _sha(inputs), "kind": kind, "mean": [0.5] * 3, "std": [0.25] * 3},
        "threads": args.threads, "affinity": args.affinity, "encode": False, "output_dir": str(tmp / f"out-{backend}"),
        "protocol": {"warmup_min_runs": WARMUP_RUNS, "warmup_min_seconds": WARMUP_SECONDS, "min_runs": args.runs,
                     "min_seconds": args.seconds, "max_runs": 100_000, "max_seconds": 120.0},
    }
    (tmp / "job.json").write_text(json.dumps(job))
    proc = subprocess.run([sys.executable, "-m", "edge_bench_agent", str(tmp / "job.json")], cwd=tmp,
                          capture_output=True, text=True)
    result = json.loads((tmp / f"out-{backend}" / "result.json").read_text())
    if proc.returncode != 0:
        raise SystemExit(f"agent failed: {result.get('error')}")
    return result


def run_bare(backend: str, artifact: Path, inputs: Path, kind: str, warmup: int, runs: int, args) -> list[int]:
    """The bare loop in a fresh process, with the agent's gates (runs and seconds); its samples in ns."""
    code = textwrap.dedent(PRELUDE) + textwrap.dedent(BARE[backend]) + textwrap.dedent(LOOP)
    gates = [warmup, WARMUP_SECONDS, runs, args.seconds]
    argv = [sys.executable, "-c", code, str(artifact), str(inputs), kind, str(args.threads), *map(str, gates),
            json.dumps(args.affinity)]
    proc = subprocess.run(argv, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    """Measure and print, per backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", nargs="+", default=["executorch", "tflite"])
    parser.add_argument("--tower", default="image", choices=["image", "text"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=300, help="the agent's min_runs")
    parser.add_argument("--seconds", type=float, default=2.0, help="the agent's min_seconds")
    parser.add_argument("--affinity", type=int, nargs="*", default=[])
    parser.add_argument("--rounds", type=int, default=3, help="agent runs, each followed by a bare loop")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}, threads: {args.threads}, "
          f"affinity: {args.affinity or 'none'}")
    for backend in args.backend:
        with tempfile.TemporaryDirectory(prefix="harness-overhead-") as tmp:
            artifact, inputs, kind = artifact_and_inputs(backend, args.tower, Path(tmp))
            bare = [run_bare(backend, artifact, inputs, kind, WARMUP_RUNS, args.runs, args)]
            agent = []
            for _ in range(args.rounds):
                result = run_agent(artifact, inputs, kind, backend, args, Path(tmp))
                agent.append([s * 1e9 for s in result["latency_s"]])
                bare.append(run_bare(backend, artifact, inputs, kind, result["warmup"]["n"], len(agent[-1]), args))
        report(backend, args.tower, artifact.name, result, bare, agent)


def report(backend: str, tower: str, name: str, result: dict, bare: list[list[int]], agent: list[list[float]]) -> None:
    """Per-process medians in run order, then median(agent medians) / median(bare medians)."""
    def ms(samples) -> float:
        return statistics.median(samples) / 1e6

    order = [f"bare {ms(bare[0]):.4f}"] + [f"agent {ms(a):.4f}, bare {ms(b):.4f}" for a, b in zip(agent, bare[1:])]
    ratio = statistics.median(map(ms, agent)) / statistics.median(map(ms, bare))
    runtime = result["runtime"]
    print(f"{backend} {tower} ({runtime['name']} {runtime['version']}, {name}, agent n={len(agent[-1])}, "
          f"warm-up {result['warmup']['n']})")
    print(f"  medians in run order (ms): {'; '.join(order)}")
    print(f"  agent/bare = {statistics.median(map(ms, agent)):.4f} / {statistics.median(map(ms, bare)):.4f} "
          f"= {ratio:.4f}  (goal <= 1.01)")
    low = min(map(min, agent)) / min(map(min, bare))
    p10 = statistics.median(np.percentile(a, 10) for a in agent) / statistics.median(np.percentile(b, 10) for b in bare)
    print(f"  less disturbed by other load: min agent/bare = {low:.4f}, p10 agent/bare = {p10:.4f}")

if __name__ == "__main__":
    main()
