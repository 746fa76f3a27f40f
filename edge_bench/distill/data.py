"""Training batches: preprocessed images, one random caption each, twins kept together."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_bench.data import RetrievalSet
from edge_bench.models import ClipModel


@dataclass
class TrainArrays:
    """A training split as arrays, ready for batching."""

    pixels: np.ndarray
    """(N, 3, S, S) uint8 images at the student's input size."""
    tokens: np.ndarray
    """(M, L) int32 tokens of every caption, in the student's vocabulary."""
    first_caption: np.ndarray
    """Index of each image's first caption (captions of an image are contiguous)."""
    n_captions: np.ndarray
    """Captions per image."""

    @property
    def n_images(self) -> int:
        return len(self.pixels)


def arrays_for(model: ClipModel, dataset: RetrievalSet, progress=None) -> TrainArrays:
    """Preprocess a split for a model (cached on disk) and tokenise its captions."""
    from edge_bench.data.preprocess import preprocess_images

    owner = dataset.caption_image
    if len(owner) and np.any(np.diff(owner) < 0):
        raise ValueError("captions must be grouped by image")
    counts = np.bincount(owner, minlength=dataset.n_images)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        if progress:
            progress("preprocess", done[0], dataset.n_images)

    pixels = preprocess_images(dataset, model.preprocess, progress=tick)
    return TrainArrays(pixels, model.tokenizer(dataset.captions), first, counts)


def epoch_order(n_images: int, rng: np.random.Generator, keep_pairs: bool) -> np.ndarray:
    """A shuffled image order; with keep_pairs, images (2k, 2k+1) stay adjacent."""
    if not keep_pairs:
        return rng.permutation(n_images)
    pairs = rng.permutation(n_images // 2)
    order = np.stack([2 * pairs, 2 * pairs + 1], axis=1).reshape(-1)
    if n_images % 2:
        order = np.insert(order, rng.integers(0, len(order) + 1), n_images - 1)
    return order


def pick_captions(arrays: TrainArrays, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random caption index per image (images without captions are not allowed)."""
    offsets = (rng.random(len(images)) * arrays.n_captions[images]).astype(np.int64)
    return arrays.first_caption[images] + offsets
