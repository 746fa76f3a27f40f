"""Recall@K: hand-computed cases and a naive full-matrix reference."""

from __future__ import annotations

import numpy as np
import pytest

from edge_bench.metrics import chance_recall, retrieval_recall


def naive_recall(image_emb, text_emb, caption_image, ks=(1, 5, 10)):
    """CLIP_benchmark's definition, written the slow obvious way (stable sort for ties)."""
    scores = text_emb @ image_emb.T
    out = {}
    for k in ks:
        hits = []
        for j in range(len(text_emb)):
            top = np.argsort(-scores[j], kind="stable")[:k]
            hits.append(caption_image[j] in top)
        out[f"image_retrieval_recall@{k}"] = float(np.mean(hits))
        hits = []
        for i in range(len(image_emb)):
            top = np.argsort(-scores[:, i], kind="stable")[:k]
            hits.append(any(caption_image[t] == i for t in top))
        out[f"text_retrieval_recall@{k}"] = float(np.mean(hits))
    return out


def test_perfect_and_reversed_hand_computed():
    # 3 images, 2 captions each; embeddings one-hot so scores are exact.
    images = np.eye(3)
    owner = np.array([0, 0, 1, 1, 2, 2])
    texts = images[owner]
    r = retrieval_recall(images, texts, owner, ks=(1, 2))
    assert r["image_retrieval_recall@1"] == 1.0
    assert r["text_retrieval_recall@1"] == 1.0
    # every caption points at the next image: R@1 = 0, R@2 (ties broken by index) computed by hand
    wrong = images[(owner + 1) % 3]
    r = retrieval_recall(images, wrong, owner, ks=(1, 2))
    assert r["image_retrieval_recall@1"] == 0.0
    # caption of image 0 scores [0,1,0]: ranking 1, then 0 (tie with 2, lower index first) -> hit at 2
    # caption of image 1 scores [0,0,1]: ranking 2, 0, 1 -> miss at 2
    # caption of image 2 scores [1,0,0]: ranking 0, 1, 2 -> miss at 2
    assert r["image_retrieval_recall@2"] == pytest.approx(2 / 6)


def test_ties_break_by_index():
    images = np.array([[1.0, 0.0], [1.0, 0.0]])  # two identical images
    texts = np.array([[1.0, 0.0], [1.0, 0.0]])
    owner = np.array([0, 1])
    r = retrieval_recall(images, texts, owner, ks=(1, 2))
    # caption 0 -> image 0 ranks first (lower index); caption 1 -> image 1 ranks second
    assert r["image_retrieval_recall@1"] == 0.5
    assert r["image_retrieval_recall@2"] == 1.0
    # image 0's captions: caption 0 first -> hit; image 1: caption 0 first -> miss at 1
    assert r["text_retrieval_recall@1"] == 0.5


def test_several_captions_any_hit_counts():
    images = np.eye(4)
    # image 0 has three captions, only the last one is close to it
    texts = np.array([images[1], images[2], images[0], images[3]])
    owner = np.array([0, 0, 0, 3])
    r = retrieval_recall(images, texts, owner, ks=(1,))
    # image->text: image 0 finds caption 2 first: hit; image 3 hit; images 1, 2 have no captions: misses
    assert r["text_retrieval_recall@1"] == pytest.approx(2 / 4)
    # text->image averaged over captions: captions 2 and 3 hit
    assert r["image_retrieval_recall@1"] == pytest.approx(2 / 4)


def test_image_without_caption_counts_as_miss():
    images = np.eye(3)
    texts = images[[0, 1]]
    owner = np.array([0, 1])
    r = retrieval_recall(images, texts, owner, ks=(1, 10))
    assert r["text_retrieval_recall@1"] == pytest.approx(2 / 3)
    assert r["text_retrieval_recall@10"] == pytest.approx(2 / 3)
    assert r["image_retrieval_recall@10"] == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_naive_reference_on_random_embeddings(seed):
    rng = np.random.default_rng(seed)
    n_images, per = 60, 5
    images = rng.normal(size=(n_images, 16)).astype(np.float32)
    images /= np.linalg.norm(images, axis=1, keepdims=True)
    owner = np.repeat(np.arange(n_images), per)
    texts = images[owner] + rng.normal(scale=1.2, size=(len(owner), 16)).astype(np.float32)
    texts /= np.linalg.norm(texts, axis=1, keepdims=True)
    fast = retrieval_recall(images, texts, owner, chunk=7)
    slow = naive_recall(images, texts, owner)
    for key, value in slow.items():
        assert abs(fast[key] - value) <= 1e-9, key
    assert 0 < fast["image_retrieval_recall@1"] < 1  # the case is not trivial


def test_chunking_does_not_change_results():
    rng = np.random.default_rng(5)
    images = rng.normal(size=(300, 8))
    owner = rng.integers(0, 300, size=900)
    texts = images[owner] + rng.normal(size=(900, 8))
    a = retrieval_recall(images, texts, owner, chunk=1)
    b = retrieval_recall(images, texts, owner, chunk=4096)
    assert a == b


def test_mean_recall_and_names():
    images = np.eye(3)
    r = retrieval_recall(images, images, np.arange(3))
    assert set(r) == {f"{d}_retrieval_recall@{k}" for d in ("image", "text") for k in (1, 5, 10)} | {"mean_recall"}
    assert r["mean_recall"] == 1.0


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        retrieval_recall(np.eye(2), np.eye(2), np.array([0]))


def test_chance_recall():
    c = chance_recall(1000, 5, 10)
    assert c["image_retrieval"] == pytest.approx(0.01)
    miss = np.prod([(4995 - i) / (5000 - i) for i in range(10)])
    assert c["text_retrieval"] == pytest.approx(1 - miss)
