"""Where calibration and parity inputs come from: never the images a run scores.

Static int8 is calibrated, and every artifact checked against PyTorch, on real
samples. They come from the dataset's `val` split; a Karpathy file without one
falls back to `train`, and one with neither to a held-out tail of `test`: the
last `n_images` test images, allowed only when the run scores fewer test
images than that leaves (a run scores the *first* N test images, `--n-images`).
The label says which, and is recorded with the artifact (the returned set's
`split` is the label, so the manifest's input source names it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_bench.data.dataset import RetrievalSet
from edge_bench.errors import ConfigError, DataError

CALIBRATION_IMAGES = 64
"""Images a run or a conversion takes: the first 32 calibrate static int8, the next 32 check parity
(converters.samples N_CALIBRATION, N_PARITY), so parity is never measured on the images that calibrated.
`edge-bench convert` and `edge-bench run` take the same ones, so a run finds what convert made in the cache."""
FALLBACK = ("val", "train")
"""Splits tried in order before a held-out part of test."""


def tail(dataset: RetrievalSet, n_images: int, split: str | None = None) -> RetrievalSet:
    """The last `n_images` images of a split with their captions (re-indexed from 0)."""
    start = max(dataset.n_images - n_images, 0)
    keep = dataset.caption_image >= start
    load = dataset.load_image
    return RetrievalSet(
        name=dataset.name,
        split=split or dataset.split,
        image_ids=dataset.image_ids[start:],
        captions=[c for c, k in zip(dataset.captions, keep) if k],
        caption_image=np.asarray(dataset.caption_image[keep] - start, dtype=np.int64),
        load_image=lambda i: load(i + start),
        fingerprint=f"{dataset.fingerprint}-last{dataset.n_images - start}",
        meta=dataset.meta,
    )


def karpathy_split_sizes(name: str, data_dir: str | Path) -> dict[str, int]:
    """Images per split of a Karpathy file (restval counts as train), read from its JSON only."""
    from edge_bench.data.karpathy import JSON_NAMES, _read_json

    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise DataError(f"data directory not found: {root}")
    sizes: dict[str, int] = {}
    for entry in _read_json(root / JSON_NAMES[name])["images"]:
        split = entry.get("split") if isinstance(entry, dict) else None
        split = "train" if split == "restval" else split
        if isinstance(split, str):
            sizes[split] = sizes.get(split, 0) + 1
    return sizes


def calibration_set(dataset_name: str, data_dir: str | Path | None, n_images: int = CALIBRATION_IMAGES,
                    scored_images: int | None = None) -> tuple[RetrievalSet, str]:
    """Calibration and parity inputs and their label: "val", "train" or "test[held-out: last 64 of N, not scored]".

    `scored_images` is how many (first) test images the run scores; None means
    the whole test split, which leaves nothing of it to hold out. When there is
    no val or train split and the test split cannot spare `n_images` unscored
    images, this is a ConfigError that says so.
    """
    from edge_bench.data import DATASETS, load_dataset

    if n_images < 1:
        raise ConfigError(f"calibration needs at least one image, not {n_images}")
    if dataset_name == "synthetic":
        return load_dataset("synthetic", "val", n_images=n_images), "val"
    if dataset_name not in DATASETS:
        raise DataError(f"unknown dataset {dataset_name!r}", hint=f"use one of {', '.join(DATASETS)}")
    if data_dir is None:
        raise DataError(f"{dataset_name} needs --data-dir", hint="a folder with the Karpathy JSON and the images")
    sizes = karpathy_split_sizes(dataset_name, data_dir)
    for split in FALLBACK:
        if sizes.get(split):
            return load_dataset(dataset_name, split, data_dir=data_dir, n_images=n_images), split
    total = sizes.get("test", 0)
    scored = total if scored_images is None else min(int(scored_images), total)
    spare = total - scored
    if total and spare >= n_images:
        label = f"test[held-out: last {n_images} of {total}, not scored]"
        return tail(load_dataset(dataset_name, "test", data_dir=data_dir), n_images, split=label), label
    what = "the whole test split" if scored_images is None or scored >= total else f"its first {scored}"
    most = total - n_images
    hint = ("add a val or train split to the Karpathy file"
            + (f", or score at most {most} test images (--n-images {most}) so the last {n_images} can be held out"
               if most >= 1 else ""))
    raise ConfigError(
        f"{dataset_name} in {data_dir} has no val or train split for calibration and parity inputs, and its "
        f"{total} test images cannot spare {n_images} unscored ones: the run scores {what}",
        hint=hint,
    )
