"""What the host prepares for a job: the split's inputs and the fp32 PyTorch reference."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from edge_bench import paths
from edge_bench.data import RetrievalSet
from edge_bench.models import ClipModel


def _save_content_addressed(array: np.ndarray, folder: Path, prefix: str) -> Path:
    digest = hashlib.sha256(array.tobytes() + str(array.shape).encode() + str(array.dtype).encode()).hexdigest()[:16]
    path = folder / f"{prefix}-{digest}.npy"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = paths.partial_path(path)
        np.save(tmp, array)
        tmp.replace(path)
    return path


def input_files(model: ClipModel, dataset: RetrievalSet) -> tuple[Path, Path]:
    """(uint8 images .npy, int32 tokens .npy) of the split for a model, content-addressed in the cache."""
    from edge_bench import paths
    from edge_bench.data.preprocess import preprocess_images

    folder = paths.cache_dir() / "inputs"
    images = preprocess_images(dataset, model.preprocess)
    tokens = model.tokenizer(dataset.captions).astype(np.int32)
    return _save_content_addressed(images, folder, "images"), _save_content_addressed(tokens, folder, "tokens")


def reference_embeddings(model: ClipModel, dataset: RetrievalSet) -> tuple[np.ndarray, np.ndarray]:
    """fp32 PyTorch eager embeddings of the split (cached by model weights and dataset)."""
    from edge_bench import paths
    from edge_bench.evaluate import embed_dataset

    key = f"{model.name}-{model.weights.sha256[:16] or 'untrained'}-{dataset.name}-{dataset.fingerprint}"
    path = paths.cache_dir() / "reference" / f"{key}.npz"
    if path.is_file():
        data = np.load(path)
        return data["image"], data["text"]
    image, text, _ = embed_dataset(model, dataset)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = paths.partial_path(path)
    np.savez(tmp, image=image, text=text)
    tmp.replace(path)
    return image, text
