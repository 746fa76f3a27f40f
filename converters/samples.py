"""Real inputs for calibration and parity, and static-shape batching.

Calibration and parity use real preprocessed images and real tokenized
captions (an artifact that looks fine on random inputs can collapse on real
ones). By default they come from the synthetic set's val split, so nothing
that calibrates an artifact is part of the test split recall is measured on.
Calibration takes the first items, parity the next ones: the two never overlap
unless the dataset is too small to hold both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from edge_bench.data import RetrievalSet, subset
from edge_bench.models import ClipModel

TOWERS = ("image", "text")
N_CALIBRATION = {"image": 32, "text": 64}
"""Items per tower that calibrate static int8."""
N_PARITY = {"image": 32, "text": 64}
"""Items per tower compared against eager PyTorch."""


@dataclass
class Samples:
    """Real model inputs per tower, split into calibration and parity items."""

    calibration: dict[str, np.ndarray]
    """tower -> (N, ...) inputs that calibrate static quantization."""
    parity: dict[str, np.ndarray]
    """tower -> (N, ...) inputs compared against eager PyTorch."""
    source: str
    """Which dataset and split they come from (recorded in the manifest)."""
    fingerprint: str
    """Identifies the inputs (part of the artifact cache key)."""


def default_dataset() -> RetrievalSet:
    """The slice of the synthetic val split a run on the synthetic set calibrates on (rendered once, cached)."""
    from edge_bench.data import load_dataset
    from edge_bench.data.calibration import CALIBRATION_IMAGES

    return load_dataset("synthetic", "val", n_images=CALIBRATION_IMAGES)


def _take(items: np.ndarray, start: int, n: int) -> np.ndarray:
    """n items from `start`, wrapping around when the array is shorter."""
    index = (start + np.arange(n)) % len(items)
    return items[index]


def real_samples(model: ClipModel, dataset: RetrievalSet) -> Samples:
    """Preprocessed pixels (float32, normalised) and tokens (int32) of a dataset."""
    from edge_bench.data.preprocess import normalize, preprocess_images

    needed = N_CALIBRATION["image"] + N_PARITY["image"]
    if dataset.n_images > needed:
        dataset = subset(dataset, needed)
    pp = model.preprocess
    pixels = normalize(preprocess_images(dataset, pp), pp.mean, pp.std).astype(np.float32)
    tokens = np.asarray(model.tokenizer(dataset.captions), dtype=np.int32)
    inputs = {"image": pixels, "text": tokens}
    calibration = {t: _take(inputs[t], 0, N_CALIBRATION[t]) for t in TOWERS}
    parity = {t: _take(inputs[t], N_CALIBRATION[t], N_PARITY[t]) for t in TOWERS}
    source = f"{dataset.name} {dataset.split}"
    fingerprint = f"{dataset.name}-{dataset.split}-{dataset.fingerprint}-{pp.size}-{pp.interpolation}-{pp.mean}-{pp.std}"
    return Samples(calibration, parity, source, fingerprint)


def batches(items: np.ndarray, batch: int) -> Iterator[tuple[np.ndarray, int]]:
    """Static-shape batches of `batch` rows; the last partial batch is padded by
    repeating its final row. Yields (batch array, number of real rows)."""
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        real = len(chunk)
        if real < batch:
            pad = np.repeat(chunk[-1:], batch - real, axis=0)
            chunk = np.concatenate([chunk, pad])
        yield np.ascontiguousarray(chunk), real


def run_batched(runner, items: np.ndarray, batch: int, on_batch=None) -> np.ndarray:
    """Run a static-shape runner over every item: (N, D) float32, padding dropped."""
    out = []
    for chunk, real in batches(items, batch):
        out.append(np.asarray(runner(chunk), dtype=np.float32)[:real])
        if on_batch is not None:
            on_batch(real)
    return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)
