"""The synthetic set as a RetrievalSet: scenes drawn once and cached as uint8."""

from __future__ import annotations

import numpy as np

from edge_bench.data.dataset import RetrievalSet
from edge_bench.data.render import render
from edge_bench.data.synthetic import NATIVE_SIZE, SPLIT_IDS, SPLIT_SIZES, Scene, scene_for
from edge_bench.errors import DataError

HARD_NEGATIVE_RATE = 0.5
"""Share of training image pairs whose second image swaps the first's colours."""


def scenes(split: str, n: int, seed: int = 0) -> list[Scene]:
    """The scenes of a split; in train, pairs (2k, 2k+1) are often colour-swapped twins."""
    out = []
    for i in range(n):
        if split == "train" and i % 2 == 1 and out[-1].swappable:
            rng = np.random.default_rng([seed, 99, i])
            if rng.random() < HARD_NEGATIVE_RATE:
                out.append(out[-1].swapped())
                continue
        out.append(scene_for(seed, split, i))
    return out


def render_all(items: list[Scene], progress=None) -> np.ndarray:
    """(N, 64, 64, 3) uint8 pixels of the scenes."""
    pixels = np.empty((len(items), NATIVE_SIZE, NATIVE_SIZE, 3), dtype=np.uint8)
    for i, scene in enumerate(items):
        pixels[i] = render(scene)
        if progress is not None:
            progress(1)
    return pixels


def _cached_pixels(split: str, items: list[Scene], seed: int, progress=None) -> np.ndarray:
    from edge_bench import paths

    path = paths.cache_dir() / "synthetic" / f"v1-seed{seed}-{split}-{len(items)}.npy"
    if path.is_file():
        return np.load(path)
    pixels = render_all(items, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = paths.partial_path(path)
    np.save(tmp, pixels)
    tmp.replace(path)
    return pixels


def load_synthetic(split: str = "test", n_images: int | None = None, seed: int = 0, progress=None) -> RetrievalSet:
    """A split of the built-in synthetic set (5 captions per image)."""
    if split not in SPLIT_IDS:
        raise DataError(f"unknown split {split!r} of the synthetic set", hint="use train, val or test")
    n = SPLIT_SIZES[split] if n_images is None else int(n_images)
    if n <= 0:
        raise DataError(f"the synthetic {split} split would be empty (n_images={n})")
    items = scenes(split, n, seed)
    pixels = _cached_pixels(split, items, seed, progress)
    captions, owner = [], []
    for i, scene in enumerate(items):
        for caption in scene.captions():
            captions.append(caption)
            owner.append(i)

    def load_image(i: int):
        from PIL import Image

        return Image.fromarray(pixels[i])

    return RetrievalSet(
        name="synthetic",
        split=split,
        image_ids=[f"{split}-{i:06d}" for i in range(n)],
        captions=captions,
        caption_image=np.asarray(owner, dtype=np.int64),
        load_image=load_image,
        fingerprint=f"v1-seed{seed}-{split}-{n}",
        meta={"scenes": items, "pixels": pixels, "seed": seed},
    )
