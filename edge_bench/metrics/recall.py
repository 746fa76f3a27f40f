"""Recall@K for image-text retrieval, with CLIP_benchmark's definition.

A query is a hit at k when any of its correct items is among the k best
scores. Text-to-image ("image_retrieval") averages over every caption;
image-to-text ("text_retrieval") over every image, so an image with no
caption counts as a miss, as in CLIP_benchmark. Ties are broken by index
(a stable sort: among equal scores, the lower index ranks first), so results
are exact and repeatable. Scores are computed in chunks of queries: MSCOCO's
25k captions x 5k images never builds more than a chunk of the matrix.
"""

from __future__ import annotations

import numpy as np

DEFAULT_KS = (1, 5, 10)


def _ranks_of_first_positive(scores: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Position of each row's first positive in a stable descending sort (inf if none)."""
    masked = np.where(positive, scores, -np.inf)
    best = masked.max(axis=1)
    has_positive = positive.any(axis=1)
    # index of the best positive; among equal best positives, the lowest index
    first = np.argmax(positive & (scores == best[:, None]), axis=1)
    above = (scores > best[:, None]).sum(axis=1)
    cols = np.arange(scores.shape[1])[None, :]
    tied_before = ((scores == best[:, None]) & (cols < first[:, None])).sum(axis=1)
    ranks = (above + tied_before).astype(np.float64)
    ranks[~has_positive] = np.inf
    return ranks


def _query_ranks(queries: np.ndarray, gallery: np.ndarray, positive_of, chunk: int) -> np.ndarray:
    ranks = np.empty(len(queries), dtype=np.float64)
    for start in range(0, len(queries), chunk):
        stop = min(start + chunk, len(queries))
        scores = queries[start:stop] @ gallery.T
        ranks[start:stop] = _ranks_of_first_positive(scores, positive_of(start, stop))
    return ranks


def retrieval_recall(
    image_emb: np.ndarray,
    text_emb: np.ndarray,
    caption_image: np.ndarray,
    ks=DEFAULT_KS,
    chunk: int = 1024,
) -> dict[str, float]:
    """Recall@k both ways, named as CLIP_benchmark names them, plus mean recall.

    `image_emb` (N, D) and `text_emb` (M, D) should be L2-normalised;
    `caption_image[j]` is the image index of caption j.
    """
    image_emb = np.asarray(image_emb)
    text_emb = np.asarray(text_emb)
    owner = np.asarray(caption_image, dtype=np.int64)
    if len(owner) != len(text_emb):
        raise ValueError(f"{len(text_emb)} caption embeddings but {len(owner)} caption owners")
    n_images = len(image_emb)
    image_ids = np.arange(n_images)

    t2i = _query_ranks(text_emb, image_emb, lambda a, b: owner[a:b, None] == image_ids[None, :], chunk)
    i2t = _query_ranks(image_emb, text_emb, lambda a, b: image_ids[a:b, None] == owner[None, :], chunk)

    out: dict[str, float] = {}
    for k in ks:
        out[f"image_retrieval_recall@{k}"] = float(np.mean(t2i < k)) if len(t2i) else 0.0
        out[f"text_retrieval_recall@{k}"] = float(np.mean(i2t < k)) if len(i2t) else 0.0
    out["mean_recall"] = float(np.mean([out[f"{d}_retrieval_recall@{k}"] for d in ("image", "text") for k in ks]))
    return out


def chance_recall(n_images: int, captions_per_image: float, k: int) -> dict[str, float]:
    """What a random ranking scores on average: k/N text-to-image; image-to-text for c captions of M."""
    n_texts = n_images * captions_per_image
    t2i = min(1.0, k / n_images)
    # P(at least one of c positives in top k of M) under a random order
    miss = 1.0
    for i in range(int(k)):
        miss *= max(0.0, (n_texts - captions_per_image - i) / (n_texts - i))
    return {"image_retrieval": t2i, "text_retrieval": 1 - miss}
