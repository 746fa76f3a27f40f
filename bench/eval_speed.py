"""Host evaluation wall time on the synthetic test split, split into preprocessing and inference.

    python bench/eval_speed.py [--model edgeclip-s-distilled] [--threads 2] [--repeat 3]

Preprocessing is measured cold (no cache: render, resize, crop) and warm (the
on-disk uint8 cache); inference is PyTorch eager over 1000 images and 5000
captions. Prints the figures; no assertions (speed targets live here, not in tests).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="edgeclip-s-distilled")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    os.environ["EDGE_BENCH_HOME"] = tempfile.mkdtemp(prefix="eval-speed-")

    import torch

    from edge_bench.data import load_dataset
    from edge_bench.data.preprocess import preprocess_images
    from edge_bench.evaluate import embed_dataset
    from edge_bench.models import create_model

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    ds = load_dataset("synthetic", "test")
    render_s = time.perf_counter() - t0
    model = create_model(args.model)
    t0 = time.perf_counter()
    preprocess_images(ds, model.preprocess, cache=True)
    cold_s = time.perf_counter() - t0
    rows = []
    for _ in range(args.repeat):
        _, _, timings = embed_dataset(model, ds, args.batch_size)
        rows.append(timings)
    warm = statistics.median(r["preprocess_s"] for r in rows)
    image = statistics.median(r["image_encode_s"] for r in rows)
    text = statistics.median(r["text_encode_s"] for r in rows)
    total = warm + image + text
    print(f"model {args.model}, synthetic test: {ds.n_images} images, {ds.n_captions} captions, "
          f"{args.threads} threads, batch {args.batch_size}, median of {args.repeat}")
    print(f"  drawing the split (first use, cached after): {render_s:7.2f} s")
    print(f"  preprocessing, cold (resize + crop, cached after): {cold_s:7.2f} s")
    print(f"  preprocessing, warm (cache + tokenise):   {warm:7.2f} s  ({100 * warm / total:.0f}% of the evaluation)")
    print(f"  image inference:                          {image:7.2f} s  ({ds.n_images / image:.0f} images/s)")
    print(f"  text inference:                           {text:7.2f} s  ({ds.n_captions / text:.0f} captions/s)")
    print(f"  evaluation wall time (warm):              {total:7.2f} s  (inference {100 * (image + text) / total:.0f}%)")


if __name__ == "__main__":
    main()
