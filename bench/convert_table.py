"""Conversion table: per model x backend x precision, what the artifact costs and computes.

For each set (converted through `edge_bench.converters.convert`, cached):
size of both towers' batch-1 files, conversion time, host latency per tower
(median of timed batch-1 runs after warm-up, each thread count in a fresh
process: ExecuTorch's thread pool is process-wide), parity cosine (minimum
over the real parity inputs) and Recall@1 both ways on the synthetic test
split, computed from the artifacts' own embeddings on this machine, next to
eager PyTorch. Core ML runs need macOS: its latency and recall print '-'.
Asserts nothing.

    python bench/convert_table.py [--models edgeclip-s-distilled MobileCLIP2-S0] [--backends all]
                                  [--precisions all] [--threads 1 2] [--recall-images N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

DEFAULT_MODELS = ["edgeclip-s-distilled", "edgeclip-m-distilled"]
OPEN_CLIP_RECALL_IMAGES = 200
"""open_clip students run the test split's first 200 images (1000 captions) on the host by default."""


def latency_worker(path: str, backend: str, threads: int, warmup_s: float, seconds: float) -> dict:
    """Median batch-1 latency of one artifact in this (fresh) process."""
    from edge_bench.converters import ArtifactSet, load_artifact

    manifest = ArtifactSet.load(Path(path).parent).manifest
    tower = Path(path).name.split("-")[0]
    spec = manifest["towers"][tower]["artifacts"][0]["inputs"][0]
    if spec["dtype"] == "int32":
        from edge_bench.converters.host import manifest_tokenizer

        caption = ["a small red circle to the left of a large blue square"] * spec["shape"][0]
        x = np.asarray(manifest_tokenizer(manifest)(caption), dtype=np.int32)
    else:
        x = np.random.default_rng(0).standard_normal(spec["shape"]).astype(np.float32)
    run = load_artifact(Path(path), backend, threads=threads)
    start, n = time.perf_counter(), 0
    while n < 10 or time.perf_counter() - start < warmup_s:
        run(x)
        n += 1
    samples: list[float] = []
    start = time.perf_counter()
    while (len(samples) < 30 or time.perf_counter() - start < seconds) and len(samples) < 5000:
        t0 = time.perf_counter()
        run(x)
        samples.append(time.perf_counter() - t0)
    return {"median_ms": 1e3 * statistics.median(samples), "n": len(samples)}


def latency(path: Path, backend: str, threads: int, args) -> float | None:
    """Run the latency worker in a fresh process; None when it fails."""
    argv = [sys.executable, __file__, "--latency-worker", str(path), backend, str(threads), str(args.warmup), str(args.seconds)]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"  latency of {path.name} failed: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])["median_ms"]


def recall_at_1(image: np.ndarray, text: np.ndarray, ds) -> tuple[float, float]:
    """(text->image R@1, image->text R@1) in per cent."""
    from edge_bench.metrics import retrieval_recall

    recall = retrieval_recall(image, text, ds.caption_image, ks=(1,))
    return 100 * recall["image_retrieval_recall@1"], 100 * recall["text_retrieval_recall@1"]


def eager_row(clip, ds) -> dict:
    """The reference: eager PyTorch recall on the same images and captions."""
    from edge_bench.evaluate import embed_dataset

    image, text, _ = embed_dataset(clip, ds, batch_size=32)
    t2i, i2t = recall_at_1(image, text, ds)
    return {"model": clip.name, "backend": "eager", "precision": "fp32", "t2i_r1": t2i, "i2t_r1": i2t}


def set_row(clip, backend: str, precision: str, ds, args) -> dict:
    """Convert (or take from the cache) and measure one artifact set."""
    from edge_bench.converters import convert, get_converter, host_embed

    started = time.perf_counter()
    artifact_set = convert(clip, backend, precision, out_root=args.out, batch_sizes=(1,))
    towers = artifact_set.manifest["towers"]
    row = {
        "model": clip.name, "backend": backend, "precision": precision, "weights": clip.weights.status,
        "mb": sum(t["artifacts"][0]["size_bytes"] for t in towers.values()) / 1e6,
        "convert_s": sum(_convert_seconds(t) for t in towers.values()),
        "wall_s": time.perf_counter() - started,
        "gflop": {tower: towers[tower]["flops"] / 1e9 for tower in towers},
        "cosine": {tower: towers[tower]["parity"].get("cosine_min") for tower in towers},
        "delegation": {tower: towers[tower]["delegation"].get("not_delegated_ops") for tower in towers},
        "dir": str(artifact_set.dir),
    }
    if not get_converter(backend).can_run_here():
        return row
    for tower in towers:
        for threads in args.threads:
            row[f"{tower}_ms_{threads}t"] = latency(artifact_set.artifact(tower, 1), backend, threads, args)
    image, text = host_embed(artifact_set, ds, threads=1)  # the pool size parity used: no resize after loading
    row["t2i_r1"], row["i2t_r1"] = recall_at_1(image, text, ds)
    return row


def _convert_seconds(tower: dict) -> float:
    """Conversion seconds of the batch-1 artifact, counting a reused TFLite float model."""
    record = tower["artifacts"][0]
    reused = record["delegation"].get("float_model", {})
    return record["convert_s"] + (reused["convert_s"] if reused.get("reused") else 0.0)


def _fmt(value, spec: str) -> str:
    return format("-", spec.split(".")[0]) if value is None else format(value, spec)


def print_table(rows: list[dict], threads: list[int]) -> None:
    """The table, one line per model x backend x precision (eager first per model)."""
    cols = ["model", "backend", "prec", "MB", "conv s"]
    cols += [f"{t} ms {n}t" for t in ("img", "txt") for n in threads]
    cols += ["cos img", "cos txt", "R@1 t2i", "R@1 i2t"]
    print("  ".join(f"{c:>10}" if i > 2 else f"{c:<22}" if i == 0 else f"{c:<12}" for i, c in enumerate(cols)))
    for r in rows:
        cells = [f"{r['model']:<22}", f"{r['backend']:<12}", f"{r['precision']:<12}", _fmt(r.get("mb"), ">10.2f"), _fmt(r.get("convert_s"), ">10.1f")]
        cells += [_fmt(r.get(f"{t}_ms_{n}t"), ">10.3f") for t in ("image", "text") for n in threads]
        cosine = r.get("cosine", {})
        cells += [_fmt(cosine.get("image"), ">10.5f"), _fmt(cosine.get("text"), ">10.5f")]
        cells += [_fmt(r.get("t2i_r1"), ">10.2f"), _fmt(r.get("i2t_r1"), ">10.2f")]
        print("  ".join(cells), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    parser.add_argument("--backends", nargs="+", default=["all"])
    parser.add_argument("--precisions", nargs="+", default=["all"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--recall-images", type=int, default=None, help="test-split images for R@1 (default: all for EdgeCLIP)")
    parser.add_argument("--warmup", type=float, default=0.5, help="warm-up seconds per latency process")
    parser.add_argument("--seconds", type=float, default=1.0, help="timed seconds per latency process")
    parser.add_argument("--out", type=Path, default=None, help="artifact folder (default: the cache)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    os.environ.setdefault("TQDM_DISABLE", "1")  # coremltools' pass-by-pass progress bars
    from edge_bench.converters import plan_conversions
    from edge_bench.data import load_dataset
    from edge_bench.models import create_model

    jobs = [job for b in args.backends for p in args.precisions for job in plan_conversions(b, p).jobs]
    rows: list[dict] = []
    for name in args.models:
        clip = create_model(name)
        n = args.recall_images or (None if clip.family == "edgeclip" else OPEN_CLIP_RECALL_IMAGES)
        ds = load_dataset("synthetic", "test", n_images=n)
        print(f"# {name} ({clip.weights.status}), R@1 on {ds.describe()}", flush=True)
        rows.append(eager_row(clip, ds))
        for backend, precision in dict.fromkeys(jobs):
            rows.append(set_row(clip, backend, precision, ds, args))
            print(f"  {backend} {precision}: {rows[-1]['wall_s']:.0f} s", file=sys.stderr, flush=True)
    print_table(rows, args.threads)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--latency-worker":
        path, backend, threads, warmup, seconds = sys.argv[2:7]
        print(json.dumps(latency_worker(path, backend, int(threads), float(warmup), float(seconds))))
        sys.exit(0)
    sys.exit(main())
