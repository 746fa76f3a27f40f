"""Recall@K for image-text retrieval, identical to CLIP_benchmark's, ties included.

CLIP_benchmark 1.6.2 (`clip_benchmark/metrics/zeroshot_retrieval.py`) scores
every caption against every image with ``scores = texts_emb @ images_emb.t()``,
takes ``torch.topk(scores, k, dim=1)`` per caption (text-to-image,
"image_retrieval") and ``torch.topk(scores.T, k, dim=1)`` per image
(image-to-text, "text_retrieval"), and counts a query as a hit when any of its
correct items is among those k indices; it then averages the hits with
``.float().mean().item()`` (a float32 mean). An image with no caption is a miss.

When scores tie (identical captions give identical text embeddings; the
synthetic, Flickr30k and MSCOCO test splits all repeat captions), which of the
tied items are in the top k is decided by torch.topk's CPU kernel
(``ATen/native/TopKImpl.h``), and that is not "the lower index first":

* if ``64 * k <= n`` (n = items per query), it runs ``std::partial_sort``,
  a heap select: the first k items fill a heap, a later item gets in only if
  it is strictly greater than the heap's smallest, and which of several tied
  smallest items it evicts depends on the heap's layout. k = 1 keeps the
  lowest index among equal maxima, but for k = 5 on ``[0] * 4999 + [1]`` the
  top 5 are items 4999, 0, 1, 3, 4: item 2 is out, item 4 is in;
* otherwise it runs ``std::nth_element`` (introselect), whose choice among
  ties follows its partitioning: all-equal scores over 10 items give a top 1
  of item 8.

The choice is a deterministic function of one query's scores (their values
in order) and of k, and of nothing else: neither the other rows nor the
memory layout. So this module calls the same ``torch.topk`` on bit-identical
scores, one k at a time as CLIP_benchmark does (under ties the top 1 is not
always inside the top 5, nor the top 5 inside the top 10), and gets
CLIP_benchmark's hits exactly:

* the scores are the same op in the same dtype: ``texts @ images.T`` in torch,
  in the embeddings' floating dtype (float32 for edge-bench's embeddings;
  integer input becomes float32); image-to-text uses columns of that same
  product (``texts @ images[a:b].T``), never ``images @ texts.T``;
* the matrix is built whole when it has at most `max_block` entries (Flickr30k
  1K and the synthetic split: 5000 x 1000), i.e. the very call CLIP_benchmark
  makes. Above that (MSCOCO 5K: 25k captions x 5k images) it is built in
  equal blocks of at least 64 rows (the last block overlaps its
  predecessor). torch 2.13's MKL (2024.2, AVX2) computes such a block bit for
  bit like the same rows of the whole product (checked up to 25k x 5k); a
  product thinner than 12 rows or columns goes through other kernels whose
  last bit can differ, hence the floor.
* queries are averaged with the same float32 mean, so every
  ``*_recall@k`` equals CLIP_benchmark's value, not merely to 1e-9 but
  exactly (and so differs from the exact fraction by up to ~3e-8; `hits` in
  :class:`RecallResult` has the exact counts).

Unlike CLIP_benchmark (whose torch.topk raises), a k larger than the gallery
counts every item as retrieved.

Beyond that number, :func:`recall_with_ties` says how much of it is the tie
rule: per query, with ``s`` the k-th largest score (whatever the tie order,
the top k are all items scoring above ``s`` plus some of those scoring ``s``):

* optimistic hit: some correct item scores ``>= s`` (some tie order puts it
  in the top k);
* pessimistic hit: some correct item scores ``> s``, or correct items tie at
  ``s`` and the wrong items tied at ``s`` are fewer than the places left for
  ties (``k - #above``), so every tie order lets a correct one in;
* tie-dependent: optimistic but not pessimistic.

CLIP_benchmark's hit always lies between the two. NaN scores rank first, as
in torch.topk; for the bounds they count as tied with +inf (which only widens
the bounds).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DEFAULT_KS = (1, 5, 10)
DIRECTIONS = ("image_retrieval", "text_retrieval")
"""image_retrieval: text-to-image, one query per caption; text_retrieval: image-to-text, one per image."""
DEFAULT_MAX_BLOCK = 1 << 25
"""Score entries held at once (32M: 128 MB of float32); below it the matrix is built whole."""
MIN_BLOCK = 64
"""Fewest queries per block: thinner matrix products may round differently from the whole one."""


@dataclass(frozen=True)
class RecallResult:
    """Recall@k both ways, CLIP_benchmark's value and how far ties could move it.

    `metrics`: CLIP_benchmark's values (``image_retrieval_recall@k``,
    ``text_retrieval_recall@k``) plus ``mean_recall``, the mean of those.
    `optimistic` / `pessimistic`: the same keys, a hit if under some / every
    tie order a correct item is in the top k. `tie_dependent`: per
    ``*_recall@k``, the number of queries whose hit depends on the tie order
    (optimistic minus pessimistic hits). `hits`: per ``*_recall@k``, the
    number of hits behind `metrics`. `n_queries`: per direction
    (``image_retrieval``: captions, ``text_retrieval``: images).
    """

    metrics: dict[str, float]
    optimistic: dict[str, float]
    pessimistic: dict[str, float]
    tie_dependent: dict[str, int]
    n_queries: dict[str, int]
    hits: dict[str, int] = field(default_factory=dict)

    @property
    def ties_matter(self) -> bool:
        """Whether any recall would change under another tie order."""
        return any(self.tie_dependent.values())

    def bounds(self, name: str) -> tuple[float, float]:
        """(pessimistic, optimistic) value of a metric."""
        return self.pessimistic[name], self.optimistic[name]

    def to_dict(self) -> dict:
        """A JSON-ready dict; `from_dict` reads it back."""
        return {
            "metrics": dict(self.metrics),
            "optimistic": dict(self.optimistic),
            "pessimistic": dict(self.pessimistic),
            "tie_dependent": dict(self.tie_dependent),
            "n_queries": dict(self.n_queries),
            "hits": dict(self.hits),
        }

    @classmethod
    def from_dict(cls, data: dict) -> RecallResult:
        return cls(
            metrics={k: float(v) for k, v in data["metrics"].items()},
            optimistic={k: float(v) for k, v in data["optimistic"].items()},
            pessimistic={k: float(v) for k, v in data["pessimistic"].items()},
            tie_dependent={k: int(v) for k, v in data["tie_dependent"].items()},
            n_queries={k: int(v) for k, v in data["n_queries"].items()},
            hits={k: int(v) for k, v in data.get("hits", {}).items()},
        )


def _score_dtype(a: np.ndarray, b: np.ndarray):
    dtype = np.result_type(a.dtype, b.dtype)
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float32)


def _spans(n: int, size: int):
    """Equal spans of `size` covering range(n); the last one overlaps its predecessor."""
    if n <= size:
        yield 0, n
        return
    for start in range(0, n - size, size):
        yield start, start + size
    yield n - size, n


def _key(t):
    """Scores as torch.topk orders them: NaN above everything (here: as +inf)."""
    import torch

    return torch.where(torch.isnan(t), torch.full_like(t, float("inf")), t)


def _float32_mean(hits) -> float:
    """CLIP_benchmark's average: ``(hits).float().mean().item()``; 0.0 without queries."""
    return float(hits.float().mean().item()) if len(hits) else 0.0


class _Direction:
    """Per-query hits of one direction, filled block by block."""

    def __init__(self, n_queries: int, ks):
        import torch

        self.ks = ks
        self.actual = {k: torch.zeros(n_queries, dtype=torch.bool) for k in ks}
        self.optimistic = {k: torch.zeros(n_queries, dtype=torch.bool) for k in ks}
        self.pessimistic = {k: torch.zeros(n_queries, dtype=torch.bool) for k in ks}

    def add(self, start: int, scores, positive_of, positive_scores, positive_valid) -> None:
        """Queries start..start+r: `scores` (r, n) their whole rows; `positive_of(indices)` marks correct items;
        `positive_scores` (r, p) the scores of each query's correct items where `positive_valid`."""
        import torch

        rows, n = scores.shape
        stop = start + rows
        if n == 0 or rows == 0:
            return
        # the best min(max k + 1, n) scores, sorted (the values, unlike the indices, do not depend on ties)
        best = torch.sort(_key(torch.topk(scores, min(max(self.ks) + 1, n), dim=1).values), dim=1, descending=True).values
        keyed = _key(scores) if bool(torch.isinf(best[:, 0]).any()) else scores  # NaN ranks first: any NaN is in best
        pos_key = _key(positive_scores)
        any_positive = positive_valid.any(dim=1)
        for k in self.ks:
            kk = min(k, n)
            indices = torch.topk(scores, kk, dim=1).indices  # CLIP_benchmark's call, hence its tie order
            self.actual[k][start:stop] = positive_of(indices).any(dim=1)
            if kk == n:  # every item is retrieved: no tie can matter
                self.optimistic[k][start:stop] = any_positive
                self.pessimistic[k][start:stop] = any_positive
                continue
            kth = best[:, kk - 1 : kk]  # the k-th largest score
            above = (best[:, :kk] > kth).sum(dim=1)  # fewer than k items score above it, all in `best`
            n_tied = (best[:, :kk] == kth).sum(dim=1)  # ties inside the top k ...
            more = (best[:, kk] == kth[:, 0]).nonzero().flatten()  # ... and rows with ties beyond it: count them all
            if len(more):
                n_tied[more] = (keyed[more] == kth[more]).sum(dim=1)
            pos_above = ((pos_key > kth) & positive_valid).sum(dim=1)
            pos_tied = ((pos_key == kth) & positive_valid).sum(dim=1)
            self.optimistic[k][start:stop] = (pos_above > 0) | (pos_tied > 0)
            # every tie order takes k - above of the n_tied: some correct one gets in unless the wrong ones fill them
            self.pessimistic[k][start:stop] = (pos_above > 0) | ((pos_tied > 0) & (n_tied - pos_tied < kk - above))


def recall_with_ties(
    image_emb: np.ndarray,
    text_emb: np.ndarray,
    caption_image: np.ndarray,
    ks=DEFAULT_KS,
    max_block: int = DEFAULT_MAX_BLOCK,
) -> RecallResult:
    """Recall@k both ways exactly as CLIP_benchmark computes it, and its range under other tie orders.

    `image_emb` (N, D), `text_emb` (M, D) as the towers gave them (CLIP_benchmark
    L2-normalises before scoring; so should the caller); `caption_image[j]` is
    the image index of caption j. `max_block`: most score entries held at once.
    """
    import torch

    image_emb = np.asarray(image_emb)
    text_emb = np.asarray(text_emb)
    owner = np.asarray(caption_image, dtype=np.int64).reshape(-1)
    if len(owner) != len(text_emb):
        raise ValueError(f"{len(text_emb)} caption embeddings but {len(owner)} caption owners")
    n_images, n_texts = len(image_emb), len(text_emb)
    if len(owner) and (owner.min() < 0 or owner.max() >= n_images):
        raise ValueError(f"caption owners must be image indices in [0, {n_images})")
    ks = tuple(int(k) for k in ks)
    if any(k < 1 for k in ks):
        raise ValueError(f"recall@k needs k >= 1, got {ks}")
    dtype = _score_dtype(image_emb, text_emb)
    images = torch.from_numpy(np.ascontiguousarray(image_emb, dtype=dtype))
    texts = torch.from_numpy(np.ascontiguousarray(text_emb, dtype=dtype))
    owner_t = torch.from_numpy(owner)

    with torch.inference_mode():
        # text -> image: rows of texts @ images.T; each caption has exactly one correct image
        t2i = _Direction(n_texts, ks)
        rows = max(MIN_BLOCK, max_block // max(n_images, 1))
        whole = None
        for a, b in _spans(n_texts, rows):
            scores = texts[a:b] @ images.t()
            if b - a == n_texts:
                whole = scores  # the whole matrix, CLIP_benchmark's very call: reused below
            own = owner_t[a:b, None]
            t2i.add(a, scores, lambda idx, own=own: idx == own,
                    torch.gather(scores, 1, own) if n_images else scores[:, :0], torch.ones_like(own, dtype=torch.bool))

        scores = None
        # image -> text: columns of the same product, (texts @ images[a:b].T).T
        i2t = _Direction(n_images, ks)
        order = torch.from_numpy(np.argsort(owner, kind="stable"))
        counts = np.bincount(owner, minlength=n_images)
        first = np.concatenate([[0], np.cumsum(counts)])
        cols = max(MIN_BLOCK, max_block // max(n_texts, 1))
        for a, b in _spans(n_images, cols):
            block = whole[:, a:b] if whole is not None else texts @ images[a:b].t()
            scores = block.t().contiguous()  # topk's choice is layout-blind; contiguous rows are 6x faster
            widest = int(counts[a:b].max()) if b > a else 0
            slot = torch.arange(widest)[None, :]
            valid = slot < torch.from_numpy(counts[a:b])[:, None]
            where = torch.from_numpy(first[a:b])[:, None] + slot
            caption = torch.where(valid, order[where.clamp(max=n_texts - 1)], 0) if widest else where
            ids = torch.arange(a, b)[:, None]
            i2t.add(a, scores, lambda idx, ids=ids: owner_t[idx] == ids, torch.gather(scores, 1, caption), valid)

    def table(hits_of) -> dict[str, float]:
        out = {}
        for k in ks:
            out[f"image_retrieval_recall@{k}"] = _float32_mean(hits_of(t2i)[k])
            out[f"text_retrieval_recall@{k}"] = _float32_mean(hits_of(i2t)[k])
        out["mean_recall"] = float(np.mean([out[f"{d}_recall@{k}"] for d in DIRECTIONS for k in ks]))
        return out

    tie_dependent, hits = {}, {}
    for k in ks:
        for name, d in ((f"image_retrieval_recall@{k}", t2i), (f"text_retrieval_recall@{k}", i2t)):
            tie_dependent[name] = int((d.optimistic[k] & ~d.pessimistic[k]).sum())
            hits[name] = int(d.actual[k].sum())
    return RecallResult(
        metrics=table(lambda d: d.actual),
        optimistic=table(lambda d: d.optimistic),
        pessimistic=table(lambda d: d.pessimistic),
        tie_dependent=tie_dependent,
        n_queries={"image_retrieval": n_texts, "text_retrieval": n_images},
        hits=hits,
    )


def retrieval_recall(
    image_emb: np.ndarray,
    text_emb: np.ndarray,
    caption_image: np.ndarray,
    ks=DEFAULT_KS,
    max_block: int = DEFAULT_MAX_BLOCK,
) -> dict[str, float]:
    """Recall@k both ways, named and computed as CLIP_benchmark does (ties included), plus mean recall.

    `image_emb` (N, D) and `text_emb` (M, D) should be L2-normalised;
    `caption_image[j]` is the image index of caption j.
    """
    return recall_with_ties(image_emb, text_emb, caption_image, ks, max_block).metrics


def chance_recall(n_images: int, captions_per_image: float, k: int) -> dict[str, float]:
    """What a random ranking scores on average: k/N text-to-image; image-to-text for c captions of M."""
    n_texts = n_images * captions_per_image
    t2i = min(1.0, k / n_images)
    # P(at least one of c positives in top k of M) under a random order
    miss = 1.0
    for i in range(int(k)):
        miss *= max(0.0, (n_texts - captions_per_image - i) / (n_texts - i))
    return {"image_retrieval": t2i, "text_retrieval": 1 - miss}
