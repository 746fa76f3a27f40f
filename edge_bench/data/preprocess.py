"""Images to model inputs: resize, centre crop, and a uint8 cache on disk.

The cache holds (N, 3, S, S) uint8 arrays keyed by dataset, split, size and
filter; normalisation to float happens at the last moment (on the device, in
the agent), so one cached array serves every model of that input size.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from edge_bench.data.dataset import RetrievalSet
from edge_bench.models.base import Preprocess

_FILTERS = {"bicubic": 3, "bilinear": 2}  # PIL.Image.Resampling values


def resize_crop(image, size: int, interpolation: str = "bicubic") -> np.ndarray:
    """Shortest side to `size`, centre crop to a square: (3, size, size) uint8."""
    from PIL import Image

    width, height = image.size
    scale = size / min(width, height)
    new = (max(size, round(width * scale)), max(size, round(height * scale)))
    if new != (width, height):
        image = image.resize(new, Image.Resampling(_FILTERS[interpolation]))
    left = (new[0] - size) // 2
    top = (new[1] - size) // 2
    image = image.crop((left, top, left + size, top + size))
    return np.asarray(image, dtype=np.uint8).transpose(2, 0, 1)


def normalize(pixels: np.ndarray, mean, std) -> np.ndarray:
    """uint8 (N, 3, S, S) -> float32, scaled to [0, 1] then standardised per channel."""
    mean = np.asarray(mean, dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.asarray(std, dtype=np.float32).reshape(1, 3, 1, 1)
    return ((pixels.astype(np.float32) / 255.0) - mean) / std


def preprocess_images(
    dataset: RetrievalSet, preprocess: Preprocess, progress: Callable[[int], None] | None = None, cache: bool = True
) -> np.ndarray:
    """Every image of the split as (N, 3, S, S) uint8, from the cache when present."""
    from edge_bench import paths

    key = f"{dataset.name}-{dataset.fingerprint}-{preprocess.size}-{preprocess.interpolation}.npy"
    path = paths.cache_dir() / "preprocessed" / key
    if cache and path.is_file():
        if progress is not None:
            progress(dataset.n_images)
        return np.load(path)
    out = np.empty((dataset.n_images, 3, preprocess.size, preprocess.size), dtype=np.uint8)
    for i in range(dataset.n_images):
        out[i] = resize_crop(dataset.load_image(i), preprocess.size, preprocess.interpolation)
        if progress is not None:
            progress(1)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = paths.partial_path(path)
        np.save(tmp, out)
        tmp.replace(path)
    return out
