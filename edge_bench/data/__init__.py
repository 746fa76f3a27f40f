"""Retrieval datasets: Flickr30k 1K and MSCOCO 5K from disk, and the synthetic set.

`RetrievalSet` loads on first use and this module imports none of its submodules
at import time: an __init__ that imported `dataset` would deadlock a thread importing
`edge_bench.data.dataset` by its full name (holding its lock, then importing this
package) against one importing this package (holding its lock, then waiting for
`dataset`'s; Python raises _DeadlockError). tests/test_import_threads.py imports the
two from two threads at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edge_bench.errors import DataError

if TYPE_CHECKING:
    from pathlib import Path

    from edge_bench.data.dataset import RetrievalSet

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

    from edge_bench.data.dataset import RetrievalSet

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
_LAZY = {"RetrievalSet": "dataset"}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (the package is fully imported by then: no lock is held)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
