"""Recall@K: hand-computed cases (ties included), its tie bounds, and a naive full-matrix reference.

CLIP_benchmark itself is compared in test_recall_clip_benchmark.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge_bench.metrics import RecallResult, chance_recall, recall_with_ties, retrieval_recall


def naive_hits(image_emb, text_emb, caption_image, ks=(1, 5, 10)):
    """Hits per metric by definition (any correct item among the k best), for scores without ties."""
    scores = text_emb @ image_emb.T
    out = {}
    for k in ks:
        out[f"image_retrieval_recall@{k}"] = sum(
            caption_image[j] in np.argsort(-scores[j])[:k] for j in range(len(text_emb)))
        out[f"text_retrieval_recall@{k}"] = sum(
            any(caption_image[t] == i for t in np.argsort(-scores[:, i])[:k]) for i in range(len(image_emb)))
    return out


def float32_mean(hits: int, n: int) -> float:
    """CLIP_benchmark averages hits in float32."""
    return float(np.float32(hits) / np.float32(n))


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


def test_two_identical_images_and_captions():
    images = np.array([[1.0, 0.0], [1.0, 0.0]])  # two identical images
    texts = np.array([[1.0, 0.0], [1.0, 0.0]])  # and two identical captions, one each
    owner = np.array([0, 1])
    r = recall_with_ties(images, texts, owner, ks=(1, 2))
    # both captions score [1, 1] and torch.topk picks the same image for both: exactly one hits at 1
    assert r.metrics["image_retrieval_recall@1"] == 0.5 and r.metrics["text_retrieval_recall@1"] == 0.5
    # under some tie order each of them hits, under another each misses
    assert r.optimistic["image_retrieval_recall@1"] == 1.0 and r.pessimistic["image_retrieval_recall@1"] == 0.0
    assert r.tie_dependent["image_retrieval_recall@1"] == 2 and r.tie_dependent["text_retrieval_recall@1"] == 2
    # k = 2 retrieves everything: no tie can matter
    assert r.metrics["image_retrieval_recall@2"] == r.pessimistic["image_retrieval_recall@2"] == 1.0
    assert r.tie_dependent["image_retrieval_recall@2"] == r.tie_dependent["text_retrieval_recall@2"] == 0
    assert r.ties_matter


def test_ties_follow_torch_topk_not_the_lower_index():
    # 5000 images scoring 0 for the caption, the last one 1: torch.topk's heap select keeps items 0, 1, 3, 4
    # (and 4999) in the top 5, not 0..3: the caption of image 2 misses, the caption of image 4 hits.
    images = np.zeros((5000, 1), dtype=np.float32)
    images[-1] = 1.0
    texts = np.ones((2, 1), dtype=np.float32)
    r = recall_with_ties(images, texts, np.array([2, 4]), ks=(1, 5))
    assert r.hits["image_retrieval_recall@5"] == 1 and r.metrics["image_retrieval_recall@5"] == 0.5
    # either could have hit: 4 places for 4999 tied images
    assert r.optimistic["image_retrieval_recall@5"] == 1.0 and r.pessimistic["image_retrieval_recall@5"] == 0.0
    assert r.tie_dependent["image_retrieval_recall@5"] == 2
    # at 1 the best image is alone above the ties: both miss whatever the order
    assert r.optimistic["image_retrieval_recall@1"] == 0.0 and r.tie_dependent["image_retrieval_recall@1"] == 0


@pytest.mark.parametrize("caption_owner, image0_pessimistic, image1_hit", [
    ([1, 1, 0, 1, 1], False, True),  # one correct caption and two wrong tied for 1 place: depends on the order
    ([1, 1, 0, 0, 1], False, True),  # two correct and one wrong tied for 1 place: the wrong one may take it
    ([1, 1, 0, 0, 0], True, False),  # all three tied are correct: every order hits
    ([0, 1, 1, 1, 1], True, True),   # a correct caption above the tie: hit
])
def test_bounds_count_the_places_left_for_ties(caption_owner, image0_pessimistic, image1_hit):
    # image 0 scores the captions [5, 4, 3, 3, 3]: at k = 3, two places above the tie, one left for three tied;
    # image 1 scores them [-5, -4, -3, -3, -3]: its top 3 are the three tied, whatever the order
    images = np.array([[1.0], [-1.0]])
    texts = np.array([[5.0], [4.0], [3.0], [3.0], [3.0]])
    r = recall_with_ties(images, texts, np.array(caption_owner), ks=(3,))
    key = "text_retrieval_recall@3"
    assert r.n_queries == {"image_retrieval": 5, "text_retrieval": 2}
    assert r.optimistic[key] == (1.0 + image1_hit) / 2
    assert r.pessimistic[key] == (image0_pessimistic + image1_hit) / 2
    assert r.tie_dependent[key] == (0 if image0_pessimistic else 1)
    assert r.pessimistic[key] <= r.metrics[key] <= r.optimistic[key]


def test_image_whose_captions_all_tie_with_a_wrong_one():
    # image 0 has captions 0-2 and image 1 caption 3, all four identical (scores 1 with image 0); caption 4 is image 1's
    images = np.eye(2)
    texts = np.array([[1.0, 0.0]] * 4 + [[0.0, 1.0]])
    owner = np.array([0, 0, 0, 1, 1])
    r = recall_with_ties(images, texts, owner, ks=(1, 2))
    # image 0: 4 tied, 3 correct; 1 place: the wrong one may take it; 2 places: a correct one always gets in
    assert r.tie_dependent["text_retrieval_recall@1"] == 1
    assert r.pessimistic["text_retrieval_recall@1"] == 0.5 and r.optimistic["text_retrieval_recall@1"] == 1.0
    assert r.tie_dependent["text_retrieval_recall@2"] == 0 and r.metrics["text_retrieval_recall@2"] == 1.0
    # text to image has no tie: captions 0-2 and 4 hit at 1, caption 3 (image 1's, scored like image 0's) misses
    assert r.metrics["image_retrieval_recall@1"] == float32_mean(4, 5)
    assert r.tie_dependent["image_retrieval_recall@1"] == 0


def test_no_ties_no_range():
    rng = np.random.default_rng(3)
    images = rng.normal(size=(40, 8)).astype(np.float32)
    owner = np.repeat(np.arange(40), 3)
    texts = images[owner] + rng.normal(size=(120, 8)).astype(np.float32)
    r = recall_with_ties(images, texts, owner)
    assert not r.ties_matter
    assert r.optimistic == r.metrics == r.pessimistic
    assert r.bounds("image_retrieval_recall@5") == (r.metrics["image_retrieval_recall@5"],) * 2


def test_recall_result_round_trips_through_json():
    r = recall_with_ties(np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([0, 1]))
    back = RecallResult.from_dict(json.loads(json.dumps(r.to_dict())))
    assert back == r
    assert set(r.to_dict()) == {"metrics", "optimistic", "pessimistic", "tie_dependent", "n_queries", "hits"}
    assert set(r.optimistic) == set(r.pessimistic) == set(r.metrics)
    assert set(r.tie_dependent) == set(r.hits) == set(r.metrics) - {"mean_recall"}


def test_nan_scores_rank_first_as_in_torch():
    images = np.array([[1.0, 0.0], [np.nan, 0.0], [0.0, 1.0]])
    texts = np.array([[1.0, 0.0], [0.0, 1.0]])
    r = recall_with_ties(images, texts, np.array([0, 2]), ks=(1, 2))
    # the NaN image is every caption's first
    assert r.metrics["image_retrieval_recall@1"] == 0.0 and r.metrics["image_retrieval_recall@2"] == 1.0
    assert r.pessimistic["image_retrieval_recall@2"] == 1.0


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
    r = recall_with_ties(images, texts, owner, max_block=1000)  # blocks of 64 queries
    assert r.hits == naive_hits(images, texts, owner)
    for key, hits in r.hits.items():
        n = r.n_queries[key.split("_recall@")[0]]
        assert r.metrics[key] == float32_mean(hits, n), key
        assert abs(r.metrics[key] - hits / n) <= 3e-8, key
    assert 0 < r.metrics["image_retrieval_recall@1"] < 1  # the case is not trivial
    assert retrieval_recall(images, texts, owner) == r.metrics


def test_blocks_do_not_change_results():
    rng = np.random.default_rng(5)
    images = rng.normal(size=(300, 8))
    owner = rng.integers(0, 300, size=900)
    texts = images[owner] + rng.normal(size=(900, 8))
    texts[::7] = texts[0]  # ties
    whole = recall_with_ties(images, texts, owner)
    assert recall_with_ties(images, texts, owner, max_block=1) == whole  # blocks of 64, the last one overlapping
    assert recall_with_ties(images, texts, owner, max_block=300 * 100) == whole


def test_mean_recall_and_names():
    images = np.eye(3)
    r = retrieval_recall(images, images, np.arange(3))
    assert set(r) == {f"{d}_retrieval_recall@{k}" for d in ("image", "text") for k in (1, 5, 10)} | {"mean_recall"}
    assert r["mean_recall"] == 1.0


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        retrieval_recall(np.eye(2), np.eye(2), np.array([0]))
    with pytest.raises(ValueError, match="image indices"):
        retrieval_recall(np.eye(2), np.eye(2), np.array([0, 2]))


def test_chance_recall():
    c = chance_recall(1000, 5, 10)
    assert c["image_retrieval"] == pytest.approx(0.01)
    miss = np.prod([(4995 - i) / (5000 - i) for i in range(10)])
    assert c["text_retrieval"] == pytest.approx(1 - miss)
