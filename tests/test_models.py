"""The student zoo: every entry builds, and its towers run a forward pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edge_bench.errors import ModelError
from edge_bench.models import create_model, list_models

EXPECTED = [
    "edgeclip-teacher", "edgeclip-m-distilled", "edgeclip-m-scratch", "edgeclip-s-distilled", "edgeclip-s-scratch",
    "MobileCLIP-S1", "MobileCLIP-S2", "MobileCLIP-B", "MobileCLIP2-S0", "MobileCLIP2-S2", "MobileCLIP2-B", "ViT-B-32",
    "TinyCLIP-ViT-8M-16-Text-3M", "TinyCLIP-ViT-39M-16-Text-19M",
]


def test_registry_lists_every_entry():
    assert list_models() == EXPECTED
    assert list_models("mobileclip2*") == ["MobileCLIP2-S0", "MobileCLIP2-S2", "MobileCLIP2-B"]


BIG = {"MobileCLIP-S2", "MobileCLIP-B", "MobileCLIP2-S2", "MobileCLIP2-B", "ViT-B-32", "TinyCLIP-ViT-39M-16-Text-19M"}
"""Entries whose forward pass takes seconds each here: run with -m slow (the smaller ones of each family stay fast)."""


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in BIG else n for n in EXPECTED])
def test_towers_forward(name):
    model = create_model(name)
    images, tokens = model.example_inputs(2)
    assert tokens.dtype == torch.int32 and tokens.shape == (2, model.context_length)
    assert images.shape == (2, 3, model.preprocess.size, model.preprocess.size)
    with torch.inference_mode():
        img = model.image_encoder(images)
        txt = model.text_encoder(tokens)
    assert img.shape == (2, model.embed_dim) and txt.shape == (2, model.embed_dim)
    np.testing.assert_allclose(img.norm(dim=-1).numpy(), 1.0, atol=1e-4)
    np.testing.assert_allclose(txt.norm(dim=-1).numpy(), 1.0, atol=1e-4)
    assert not torch.allclose(img[0], img[1])  # different inputs, different embeddings
    counts = model.parameter_counts()
    assert counts["image"] > 0 and counts["text"] > 0


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ModelError, match="unknown model 'MobileCLIP-S9'"):
        create_model("MobileCLIP-S9")
    with pytest.raises(ModelError) as err:
        create_model("vit-b-32")
    assert "did you mean 'ViT-B-32'" in err.value.one_line()


def test_untrained_status_without_weights():
    model = create_model("TinyCLIP-ViT-8M-16-Text-3M")  # a hub entry with no weights here (ViT-B-32 took 14 s to build)
    assert model.weights.status == "untrained" and model.weights.sha256 == ""


def test_tinyclip_shapes_match_the_published_sizes():
    small = create_model("TinyCLIP-ViT-8M-16-Text-3M").parameter_counts()
    assert 7.5e6 < small["image"] < 9e6  # "ViT-8M"
    text_body = small["text"] - 49408 * 256 - 77 * 256  # without token and position embeddings
    assert 2.5e6 < text_body < 3.5e6  # "Text-3M"
