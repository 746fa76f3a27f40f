"""Recall equals CLIP_benchmark 1.6.2's own, run here, on the same embeddings, ties included.

CLIP_benchmark is installed by .ci/run (`pip install --no-deps clip-benchmark==1.6.2`, it needs only torch);
without it these tests skip, except on CI (env CI set), where they fail.
"""

from __future__ import annotations

import functools
import os
import types

import numpy as np
import pytest
import torch
from helpers import naive_recall

from edge_bench.metrics import recall_with_ties

CLIP_BENCHMARK = "1.6.2"
KS = (1, 5, 10)


@pytest.fixture(scope="module")
def zr():
    """clip_benchmark.metrics.zeroshot_retrieval, version 1.6.2."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        from clip_benchmark.metrics import zeroshot_retrieval

        installed = version("clip-benchmark")
    except (ImportError, PackageNotFoundError) as exc:
        why = f"CLIP_benchmark is not installed ({exc}): pip install --no-deps clip-benchmark=={CLIP_BENCHMARK}"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    if installed != CLIP_BENCHMARK:
        why = f"clip-benchmark {installed} is installed, these tests pin {CLIP_BENCHMARK}"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return zeroshot_retrieval


def clip_benchmark_recall(zr, images: np.ndarray, texts: np.ndarray, owner: np.ndarray, ks=KS, batch_size=64) -> dict:
    """What CLIP_benchmark's `evaluate` does once it has the embeddings, with its own `recall_at_k` and `batchify`."""
    images_emb, texts_emb = torch.from_numpy(images), torch.from_numpy(texts)
    scores = texts_emb @ images_emb.t()
    positive_pairs = torch.zeros_like(scores, dtype=bool)
    positive_pairs[torch.arange(len(scores)), torch.from_numpy(owner)] = True
    metrics = {}
    for k in ks:
        metrics[f"image_retrieval_recall@{k}"] = (
            zr.batchify(zr.recall_at_k, scores, positive_pairs, batch_size, "cpu", k=k) > 0).float().mean().item()
        metrics[f"text_retrieval_recall@{k}"] = (
            zr.batchify(zr.recall_at_k, scores.T, positive_pairs.T, batch_size, "cpu", k=k) > 0).float().mean().item()
    return metrics


def lower_index_first(images: np.ndarray, texts: np.ndarray, owner: np.ndarray, ks=KS) -> dict:
    """Hits by edge-bench's old rule (stable sort: among equal scores the lower index first), as fractions."""
    out = naive_recall(images, texts, owner, ks)
    out.pop("mean_recall")
    return out


def assert_equal_to_clip_benchmark(reference: dict, result) -> None:
    assert set(result.metrics) == set(reference) | {"mean_recall"}
    for key, value in reference.items():
        assert abs(result.metrics[key] - value) <= 1e-9, f"{key}: CLIP_benchmark {value!r}, edge-bench {result.metrics[key]!r}"
        assert result.pessimistic[key] <= result.metrics[key] <= result.optimistic[key], key


def tied_embeddings(seed: int, n_images: int, dim: int, levels: float, shuffle: bool, most_captions: int = 7):
    """Embeddings with many exact ties.

    Several captions per image (0 to `most_captions`), duplicated captions (identical text embeddings), duplicated images,
    an image whose captions are all copies of other images' captions, and everything quantised to 1/`levels`
    so that many scores tie; caption order grouped by image, or shuffled.
    """
    rng = np.random.default_rng(seed)
    images = rng.normal(size=(n_images, dim)).astype(np.float32)
    images[rng.random(n_images) < 0.1] = images[0]  # duplicated images
    counts = rng.integers(0, most_captions + 1, size=n_images)
    counts[:3] = (0, 5, 3)  # an image without a caption; images 1 and 2 get captions below
    owner = np.repeat(np.arange(n_images), counts)
    texts = images[owner] + rng.normal(scale=0.8, size=(len(owner), dim)).astype(np.float32)
    copied = rng.random(len(owner)) < 0.25
    texts[copied] = texts[rng.integers(0, len(owner), size=int(copied.sum()))]  # duplicated captions
    texts[owner == 2] = texts[owner == 1][:3]  # image 2's captions all duplicate image 1's
    images = np.round(images * levels) / levels
    texts = np.round(texts * levels) / levels
    images /= np.maximum(np.linalg.norm(images, axis=1, keepdims=True), 1e-6)
    texts /= np.maximum(np.linalg.norm(texts, axis=1, keepdims=True), 1e-6)
    if shuffle:
        order = rng.permutation(len(owner))
        texts, owner = texts[order], owner[order]
    return images.astype(np.float32), texts.astype(np.float32), owner


CASES = {  # seed: (n_images, dim, levels, shuffle, most captions per image)
    0: (40, 4, 1, False, 7),     # 1 level in 4 dims: almost every score ties; fewer than 64 k items: nth_element
    1: (300, 8, 2, True, 7),
    3: (1100, 8, 2, True, 3),    # more than 1024 images and captions: topk's heap select both ways
    4: (1030, 32, 4, False, 3),
}


@functools.lru_cache(maxsize=None)
def tied_case(seed: int):
    """A case of CASES with CLIP_benchmark's recall of it (computed once per session: it is the slow part)."""
    from clip_benchmark.metrics import zeroshot_retrieval

    n_images, dim, levels, shuffle, most = CASES[seed]
    images, texts, owner = tied_embeddings(seed, n_images, dim, levels, shuffle, most)
    batch_size = int(np.random.default_rng(seed).integers(7, 100))
    return images, texts, owner, clip_benchmark_recall(zeroshot_retrieval, images, texts, owner, batch_size=batch_size)


@pytest.mark.parametrize("seed", sorted(CASES))
def test_equals_clip_benchmark_on_tied_embeddings(zr, seed):
    images, texts, owner, reference = tied_case(seed)
    result = recall_with_ties(images, texts, owner)
    assert_equal_to_clip_benchmark(reference, result)
    assert result.ties_matter, "the case must have ties that matter"
    # in blocks (64 queries at least, the last one overlapping) rather than the whole matrix: same values
    assert recall_with_ties(images, texts, owner, max_block=50_000) == result


def test_old_lower_index_rule_differed_from_clip_benchmark(zr):
    """Cases the old code got wrong: among tied scores torch.topk does not keep the lowest indices."""
    images, texts, owner, reference = tied_case(3)
    old = lower_index_first(images, texts, owner)
    assert any(abs(old[key] - value) > 1e-6 for key, value in reference.items()), "the old rule agreed here"
    assert_equal_to_clip_benchmark(reference, recall_with_ties(images, texts, owner))

    # a plain case: 10 captions scoring 0 on 1099 images and 1 on the last; torch.topk's top 5 are images
    # 1099, 0, 1, 3, 4, so the caption of image 2 misses and that of image 3 hits; the old rule hit both
    images = np.zeros((1100, 1), dtype=np.float32)
    images[-1] = 1.0
    texts = np.ones((10, 1), dtype=np.float32)
    owner = np.array([2, 3, *range(10, 18)])
    reference = clip_benchmark_recall(zr, images, texts, owner)
    assert reference["image_retrieval_recall@5"] == np.float32(0.1)
    assert lower_index_first(images, texts, owner)["image_retrieval_recall@5"] == 0.2
    assert_equal_to_clip_benchmark(reference, recall_with_ties(images, texts, owner))


def test_equals_clip_benchmark_on_unquantised_embeddings(zr):
    """Float embeddings with duplicated captions and images only: ties at the bit level, near-ties everywhere else."""
    rng = np.random.default_rng(5)
    images = rng.normal(size=(1050, 64)).astype(np.float32)
    images[::9] = images[1]
    images /= np.linalg.norm(images, axis=1, keepdims=True)
    owner = np.repeat(np.arange(1050), 2)
    texts = images[owner] + rng.normal(scale=0.12, size=(2100, 64)).astype(np.float32)
    texts[rng.random(2100) < 0.1] = texts[0]
    texts /= np.linalg.norm(texts, axis=1, keepdims=True)
    reference = clip_benchmark_recall(zr, images, texts, owner)
    assert_equal_to_clip_benchmark(reference, recall_with_ties(images, texts, owner))
    assert_equal_to_clip_benchmark(reference, recall_with_ties(images, texts, owner, max_block=100_000))


def test_equals_clip_benchmark_with_nan_scores(zr):
    images, texts, owner = tied_embeddings(7, 200, 8, 2, False)
    images[5] = np.nan  # a broken artifact's output: NaN scores rank first in torch.topk
    texts[3] = np.nan
    reference = clip_benchmark_recall(zr, images, texts, owner)
    assert_equal_to_clip_benchmark(reference, recall_with_ties(images, texts, owner))


class _Lookup(torch.nn.Module):
    """A 'CLIP model' whose towers return given embeddings: images and 'tokens' are row indices."""

    def __init__(self, images: np.ndarray, texts: np.ndarray):
        super().__init__()
        self.images, self.texts = torch.from_numpy(images), torch.from_numpy(texts)

    def encode_image(self, index):
        return self.images[index]

    def encode_text(self, index):
        return self.texts[index]


def clip_benchmark_evaluate(zr, monkeypatch, images: np.ndarray, texts: np.ndarray, owner: np.ndarray,
                            batch_size: int = 50) -> tuple[dict, np.ndarray, np.ndarray]:
    """CLIP_benchmark's own `evaluate`, end to end, on given embeddings (captions grouped by image, in order).

    Returns its metrics and the embeddings it scored (after its own F.normalize), which edge-bench then gets.
    """
    assert np.all(np.diff(owner) >= 0), "evaluate orders captions by image"
    seen = {"image": [], "text": []}
    real = torch.nn.functional.normalize

    def normalize(x, dim=-1):  # evaluate normalises each batch's images, then its captions
        out = real(x, dim=dim)
        seen["image" if len(seen["image"]) == len(seen["text"]) else "text"].append(out)
        return out

    monkeypatch.setattr(zr, "F", types.SimpleNamespace(normalize=normalize))
    captions = [np.flatnonzero(owner == i).tolist() for i in range(len(images))]
    loader = [(torch.arange(a, min(a + batch_size, len(images))), captions[a : a + batch_size])
              for a in range(0, len(images), batch_size)]
    metrics = zr.evaluate(_Lookup(images, texts), loader, lambda batch: torch.tensor(batch, dtype=torch.long),
                          "cpu", amp=False, recall_k_list=list(KS))
    return metrics, torch.cat(seen["image"]).numpy(), torch.cat(seen["text"]).numpy()


def test_equals_clip_benchmark_evaluate_end_to_end(zr, monkeypatch):
    images, texts, owner = tied_embeddings(8, 400, 8, 2, False)
    metrics, scored_images, scored_texts = clip_benchmark_evaluate(zr, monkeypatch, images, texts, owner)
    assert scored_images.shape == images.shape and scored_texts.shape == texts.shape
    result = recall_with_ties(scored_images, scored_texts, owner)
    assert_equal_to_clip_benchmark(metrics, result)
    assert result.ties_matter


def _synthetic_embeddings(n_images: int):
    from edge_bench.data import load_dataset
    from edge_bench.evaluate import embed_dataset
    from edge_bench.models import create_model

    ds = load_dataset("synthetic", "test", n_images=n_images)
    images, texts, _ = embed_dataset(create_model("edgeclip-s-scratch"), ds)
    return ds, images, texts


def _check_synthetic(zr, n_images: int):
    ds, images, texts = _synthetic_embeddings(n_images)
    assert len(set(ds.captions)) < ds.n_captions, "the split repeats captions"
    reference = clip_benchmark_recall(zr, images, texts, ds.caption_image)
    result = recall_with_ties(images, texts, ds.caption_image)
    assert_equal_to_clip_benchmark(reference, result)
    return ds, images, texts, reference, result


def test_equals_clip_benchmark_on_the_synthetic_split(zr):
    """The built-in synthetic test split (repeated captions: identical text embeddings) through the eager model."""
    _check_synthetic(zr, 200)


@pytest.mark.slow
def test_equals_clip_benchmark_on_the_whole_synthetic_test_split(zr):
    """Issue #13's case: 1000 images, 5000 captions of which 4624 distinct."""
    ds, images, texts, reference, result = _check_synthetic(zr, None)
    assert (ds.n_images, ds.n_captions, len(set(ds.captions))) == (1000, 5000, 4624)
    assert result.tie_dependent["text_retrieval_recall@1"] > 0


def test_a_device_run_on_the_synthetic_split_stores_clip_benchmarks_recall(zr, tmp_path):
    """The recall stored by a real run on the local device (LiteRT; the synthetic test split, whose captions repeat)
    equals CLIP_benchmark's own on the very embeddings the artifact produced and the run kept."""
    from edge_bench.agent.spec import Protocol
    from edge_bench.data import load_dataset
    from edge_bench.runner import RunPlan, Runner
    from edge_bench.store import Store

    fast = Protocol(warmup_min_runs=1, warmup_min_seconds=0.0, min_runs=3, min_seconds=0.0, max_runs=50, max_seconds=5.0)
    plan = RunPlan(models=("edgeclip-s-scratch",), backends=("tflite",), n_images=200, gallery_batch=4, protocol=fast,
                   ceilings=False)
    store = Store(tmp_path / "results.sqlite")
    outcome = Runner(store).run(plan)
    (row,) = store.jobs(run_id=outcome.run_id)
    assert row.status == "ok", row.error
    record = row.record
    owner = np.asarray(load_dataset("synthetic", "test", n_images=200).caption_image)
    assert len(set(load_dataset("synthetic", "test", n_images=200).captions)) < len(owner)  # repeated captions: ties
    images, texts = np.load(record.embeddings["image"]), np.load(record.embeddings["text"])
    reference = clip_benchmark_recall(zr, images, texts, owner)
    for key, value in reference.items():
        assert abs(record.metrics[key] - value) <= 1e-9, (key, record.metrics[key], value)
    store.close()
