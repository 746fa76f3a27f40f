"""The built-in synthetic set: deterministic, exact captions, hard negatives, chance for random models."""

from __future__ import annotations

import numpy as np

from edge_bench.data import load_dataset
from edge_bench.data.render import render
from edge_bench.data.synthetic import COLOURS, SHAPES, scene_for, vocabulary
from edge_bench.data.synthetic_set import scenes
from edge_bench.models.tokenizers import words


def test_deterministic_from_seed():
    a = [scene_for(0, "test", i) for i in range(20)]
    b = [scene_for(0, "test", i) for i in range(20)]
    c = [scene_for(1, "test", i) for i in range(20)]
    assert a == b and a != c
    assert np.array_equal(render(a[3]), render(b[3]))
    assert [scene_for(0, "val", i) for i in range(20)] != a  # splits differ


def test_five_different_exact_captions():
    for i in range(50):
        scene = scene_for(0, "test", i)
        caps = scene.captions()
        assert len(caps) == 5 and len(set(caps)) == 5
        for cap in caps:
            assert scene.background in cap
            for group in scene.groups:
                assert group.colour in cap and group.shape in cap and group.size in cap


def test_captions_use_only_the_vocabulary():
    vocab = set(vocabulary())
    for i in range(200):
        for cap in scene_for(0, "train", i).captions():
            assert set(words(cap)) <= vocab, cap


def test_pixels_show_the_described_colours():
    for i in range(30):
        scene = scene_for(0, "test", i)
        pixels = render(scene).reshape(-1, 3).astype(int)
        for group in scene.groups:
            target = np.array(COLOURS[group.colour])
            close = np.abs(pixels - target).sum(axis=1) < 30
            assert close.sum() >= 10, (scene, group)


def test_hard_negative_twins_in_train():
    items = scenes("train", 400)
    twins = [i for i in range(1, 400, 2) if items[i - 1].swappable and items[i] == items[i - 1].swapped()]
    assert 40 < len(twins) < 160  # about half of the swappable pairs
    i = twins[0]
    a, b = items[i - 1], items[i]
    assert a.captions() != b.captions()
    assert {g.shape for g in a.groups} == {g.shape for g in b.groups}


def test_dataset_shapes_and_grouping():
    ds = load_dataset("synthetic", "val", n_images=30)
    assert ds.n_images == 30 and ds.n_captions == 150
    assert list(np.bincount(ds.caption_image)) == [5] * 30
    img = ds.load_image(0)
    assert img.size == (64, 64)
    assert len(SHAPES) >= 5


def test_untrained_model_sits_at_chance():
    from edge_bench.evaluate import evaluate
    from edge_bench.metrics import chance_recall
    from edge_bench.models import create_model

    ds = load_dataset("synthetic", "test", n_images=200)
    model = create_model("edgeclip-s-scratch", weights=None)
    if model.weights.trained:  # the shipped weights: build an untrained copy
        from edge_bench.models.builtin import architecture, assemble, default_tokenizer

        tok = default_tokenizer()
        model = assemble(architecture("edgeclip-s", tok), tok, "untrained").eval()
    result = evaluate(model, ds)
    chance = chance_recall(200, 5, 10)
    assert result.recall["image_retrieval_recall@10"] < 3 * chance["image_retrieval"]
    assert result.recall["text_retrieval_recall@10"] < 3 * chance["text_retrieval"] + 0.02
    assert 0.35 < result.extra["binding_score"] < 0.65
