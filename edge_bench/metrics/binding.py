"""Binding score on the synthetic set: colours bound to the right shapes.

For every image with two groups of different colours, its twin with the two
colours exchanged is drawn; the score is the share of (caption, image) pairs
where the caption ranks its own image above the twin. Chance is 0.5; a model
that only sees a bag of attributes cannot beat it.
"""

from __future__ import annotations

import numpy as np


def swapped_twins(dataset) -> tuple[list[int], np.ndarray]:
    """Indices of swappable images and their colour-swapped twins as (N, 64, 64, 3) uint8."""
    from edge_bench.data.render import render

    scenes = dataset.meta.get("scenes")
    if scenes is None:
        raise ValueError("the binding score needs the synthetic set")
    index = [i for i, s in enumerate(scenes) if s.swappable]
    twins = np.stack([render(scenes[i].swapped()) for i in index]) if index else np.zeros((0, 64, 64, 3), np.uint8)
    return index, twins


def binding_from_embeddings(own: np.ndarray, twin: np.ndarray, text: np.ndarray, caption_image: np.ndarray, index) -> float:
    """Share of captions of the listed images whose own image outscores the twin."""
    wins, total = 0, 0
    for row, image in enumerate(index):
        caps = text[caption_image == image]
        wins += int(np.sum(caps @ own[row] > caps @ twin[row]))
        total += len(caps)
    return wins / total if total else float("nan")


def binding_score(model, dataset, batch_size: int = 64) -> float:
    """The binding score of a zoo model on a synthetic split, in PyTorch eager."""
    from PIL import Image

    from edge_bench.data.preprocess import normalize, resize_crop
    from edge_bench.models.encode import encode

    index, twins = swapped_twins(dataset)
    if not index:
        return float("nan")
    pp = model.preprocess
    pixels = dataset.meta["pixels"]

    def prep(images: np.ndarray) -> np.ndarray:
        arr = np.stack([resize_crop(Image.fromarray(im), pp.size, pp.interpolation) for im in images])
        return normalize(arr, pp.mean, pp.std)

    own = encode(model.image_encoder, pixels[index], batch_size, prep)
    twin = encode(model.image_encoder, twins, batch_size, prep)
    keep = np.isin(dataset.caption_image, index)
    text = np.zeros((dataset.n_captions, own.shape[1]), dtype=np.float32)
    text[keep] = encode(model.text_encoder, model.tokenizer([c for c, k in zip(dataset.captions, keep) if k]), batch_size, lambda x: x)
    return binding_from_embeddings(own, twin, text, dataset.caption_image, index)
