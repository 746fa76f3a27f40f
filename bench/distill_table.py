"""What distillation bought: every built-in EdgeCLIP entry on the synthetic test split.

    python bench/distill_table.py [--zoo out/zoo] [--threads 2]

Per entry: parameters, host latency per image and per caption (PyTorch eager,
batch 1, median of timed runs after warm-up), Recall@1/5/10 both ways and the
binding score. Students are reported as mean ± sd over the seeds found in
--zoo (the checkpoints `tools/train-zoo` writes: NAME-seed{K}.safetensors);
the teacher, or an entry with no seed checkpoints, from its shipped weights.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

ENTRIES = ["edgeclip-teacher", "edgeclip-m-distilled", "edgeclip-m-scratch", "edgeclip-s-distilled", "edgeclip-s-scratch"]
METRICS = [("T>I R@1", "image_retrieval_recall@1"), ("R@5", "image_retrieval_recall@5"), ("R@10", "image_retrieval_recall@10"),
           ("I>T R@1", "text_retrieval_recall@1"), ("R@5", "text_retrieval_recall@5"), ("R@10", "text_retrieval_recall@10")]


def latency_ms(module, example, runs: int = 200, warmup: int = 20) -> float:
    """Median batch-1 latency of a tower in eager PyTorch, ms."""
    import torch

    with torch.inference_mode():
        for _ in range(warmup):
            module(example)
        samples = []
        for _ in range(runs):
            t = time.perf_counter_ns()
            module(example)
            samples.append((time.perf_counter_ns() - t) / 1e6)
    return statistics.median(samples)


def measure(name: str, weights: Path | None, ds) -> dict:
    from edge_bench.evaluate import evaluate
    from edge_bench.models import create_model

    model = create_model(name, weights)
    images, tokens = model.example_inputs(1)
    result = evaluate(model, ds)
    counts = model.parameter_counts()
    return {
        "params": counts["image"] + counts["text"],
        "image_ms": latency_ms(model.image_encoder, images),
        "text_ms": latency_ms(model.text_encoder, tokens),
        **result.recall,
        "binding": result.extra["binding_score"],
        "trained": model.weights.trained,
    }


def fmt(values: list[float], pct: bool = True) -> str:
    scale = 100 if pct else 1
    if len(values) == 1:
        return f"{scale * values[0]:.1f}"
    return f"{scale * np.mean(values):.1f}±{scale * np.std(values, ddof=1):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zoo", type=Path, default=Path("out/zoo"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch

    from edge_bench.data import load_dataset

    torch.set_num_threads(args.threads)
    ds = load_dataset("synthetic", "test")
    header = ["entry", "seeds", "params", "img ms", "txt ms", *[m[0] for m in METRICS], "binding"]
    print(f"synthetic test split: {ds.n_images} images, {ds.n_captions} captions; PyTorch eager, {args.threads} threads")
    print("| " + " | ".join(header) + " |")  # a Markdown table: the README quotes it as printed
    print("|" + "---|" * len(header))
    for name in ENTRIES:
        seeds = sorted(args.zoo.glob(f"{name}-seed*.safetensors")) or sorted(args.zoo.glob(f"{name}.safetensors"))
        rows = [measure(name, path, ds) for path in seeds] or [measure(name, None, ds)]
        cells = [name, str(len(rows)) if seeds else "shipped", f"{rows[0]['params'] / 1e6:.2f}M",
                 f"{statistics.median(r['image_ms'] for r in rows):.2f}", f"{statistics.median(r['text_ms'] for r in rows):.2f}"]
        cells += [fmt([r[key] for r in rows]) for _, key in METRICS]
        cells.append(fmt([r["binding"] for r in rows]))
        if not rows[0]["trained"]:
            cells[0] += " (UNTRAINED)"
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
