"""Host evaluation: a zoo model in PyTorch eager over a retrieval split.

Returns a plain record (the CLI prints it, `--json` writes it); progress goes
through a callback, so nothing prints here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from edge_bench.data import RetrievalSet
from edge_bench.models import ClipModel
from edge_bench.models.encode import encode

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total)."""


@dataclass
class EvalResult:
    """What a host evaluation measured."""

    model: str
    weights: str
    dataset: str
    split: str
    n_images: int
    n_captions: int
    recall: dict[str, float]
    preprocess_s: float
    image_encode_s: float
    text_encode_s: float
    batch_size: int
    threads: int
    extra: dict = field(default_factory=dict)

    @property
    def images_per_s(self) -> float:
        return self.n_images / self.image_encode_s if self.image_encode_s > 0 else float("nan")

    @property
    def texts_per_s(self) -> float:
        return self.n_captions / self.text_encode_s if self.text_encode_s > 0 else float("nan")

    def as_dict(self) -> dict:
        """The JSON record (CLIP_benchmark's metric names under `metrics`)."""
        from dataclasses import asdict

        out = asdict(self)
        out["metrics"] = out.pop("recall")
        out["images_per_s"] = self.images_per_s
        out["texts_per_s"] = self.texts_per_s
        return out


def embed_dataset(
    model: ClipModel, dataset: RetrievalSet, batch_size: int = 64, progress: Progress | None = None
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """(image embeddings, text embeddings, timings) of a split in PyTorch eager."""
    from edge_bench.data.preprocess import normalize, preprocess_images

    done = [0]

    def on_image(n: int) -> None:
        done[0] += n
        if progress:
            progress("preprocess", done[0], dataset.n_images)

    t0 = time.perf_counter()
    pixels = preprocess_images(dataset, model.preprocess, progress=on_image)
    tokens = model.tokenizer(dataset.captions)
    t1 = time.perf_counter()
    pp = model.preprocess
    image_emb = encode(
        model.image_encoder, pixels, batch_size, lambda x: normalize(x, pp.mean, pp.std),
        (lambda d, n: progress("images", d, n)) if progress else None,
    )
    t2 = time.perf_counter()
    text_emb = encode(
        model.text_encoder, tokens, batch_size, lambda x: x, (lambda d, n: progress("captions", d, n)) if progress else None
    )
    t3 = time.perf_counter()
    return image_emb, text_emb, {"preprocess_s": t1 - t0, "image_encode_s": t2 - t1, "text_encode_s": t3 - t2}


def evaluate(
    model: ClipModel, dataset: RetrievalSet, batch_size: int = 64, threads: int | None = None, progress: Progress | None = None
) -> EvalResult:
    """Recall@1/5/10 both ways and encode throughput of a model on a split."""
    import torch

    from edge_bench.metrics import retrieval_recall

    if threads:
        torch.set_num_threads(threads)
    image_emb, text_emb, timings = embed_dataset(model, dataset, batch_size, progress)
    recall = retrieval_recall(image_emb, text_emb, dataset.caption_image)
    extra = {}
    if dataset.name == "synthetic":
        from edge_bench.metrics.binding import binding_score

        extra["binding_score"] = binding_score(model, dataset, batch_size)
    return EvalResult(
        model=model.name,
        weights=model.weights.status,
        dataset=dataset.name,
        split=dataset.split,
        n_images=dataset.n_images,
        n_captions=dataset.n_captions,
        recall=recall,
        batch_size=batch_size,
        threads=torch.get_num_threads(),
        extra=extra,
        **timings,
    )
