"""Retrieval datasets: Flickr30k 1K and MSCOCO 5K from disk, and the synthetic set."""

from __future__ import annotations

from pathlib import Path

from edge_bench.data.dataset import RetrievalSet
from edge_bench.errors import DataError

DATASETS = ("synthetic", "flickr30k", "mscoco")


def load_dataset(
    name: str, split: str = "test", data_dir: str | Path | None = None, n_images: int | None = None, seed: int = 0
) -> RetrievalSet:
    """A split of a dataset by name; Flickr30k and MSCOCO need `data_dir`."""
    if name == "synthetic":
        from edge_bench.data.synthetic_set import load_synthetic

        return load_synthetic(split, n_images=n_images, seed=seed)
    if name in ("flickr30k", "mscoco"):
        if data_dir is None:
            raise DataError(f"{name} needs --data-dir", hint="a folder with the Karpathy JSON and the images")
        from edge_bench.data.karpathy import load_karpathy

        dataset = load_karpathy(name, data_dir, split)
        if n_images is not None:
            dataset = subset(dataset, n_images)
        return dataset
    raise DataError(f"unknown dataset {name!r}", hint=f"use one of {', '.join(DATASETS)}")


def subset(dataset: RetrievalSet, n_images: int) -> RetrievalSet:
    """The first n images of a split with their captions."""
    import numpy as np

    keep = dataset.caption_image < n_images
    return RetrievalSet(
        name=dataset.name,
        split=dataset.split,
        image_ids=dataset.image_ids[:n_images],
        captions=[c for c, k in zip(dataset.captions, keep) if k],
        caption_image=np.asarray(dataset.caption_image[keep]),
        load_image=dataset.load_image,
        fingerprint=f"{dataset.fingerprint}-first{n_images}",
        meta=dataset.meta,
    )


__all__ = ["DATASETS", "RetrievalSet", "load_dataset", "subset"]
