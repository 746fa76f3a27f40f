"""Loading weights from disk: EdgeCLIP safetensors, open_clip checkpoints, HF CLIP folders, bad files."""

from __future__ import annotations

import pytest
import torch

from edge_bench.errors import ModelError
from edge_bench.models import create_model
from edge_bench.models.builtin import architecture, assemble, default_tokenizer, save_checkpoint


def _fresh_edgeclip(seed: int):
    tok = default_tokenizer()
    return assemble(architecture("edgeclip-s", tok), tok, "x", seed=seed).eval()


def test_edgeclip_checkpoint_round_trip(tmp_path):
    model = _fresh_edgeclip(seed=3)
    path = save_checkpoint(model, tmp_path / "s.safetensors", card={"note": "test"}, half=False)
    loaded = create_model("edgeclip-s-scratch", weights=path)
    assert loaded.weights.status == "trained" and len(loaded.weights.sha256) == 64
    assert loaded.card == {"note": "test"}
    images, tokens = model.example_inputs(2)
    with torch.inference_mode():
        assert torch.allclose(model.image_encoder(images), loaded.image_encoder(images), atol=1e-6)
        assert torch.allclose(model.text_encoder(tokens), loaded.text_encoder(tokens), atol=1e-6)


def test_corrupted_checkpoint(tmp_path):
    path = save_checkpoint(_fresh_edgeclip(0), tmp_path / "s.safetensors")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="does not load"):
        create_model("edgeclip-s-scratch", weights=path)


def test_mismatched_checkpoint(tmp_path):
    clip = create_model("MobileCLIP2-S0")
    state = {"visual.trunk.stem.0.weight": torch.zeros(3)}
    torch.save(state, tmp_path / "wrong.pt")
    with pytest.raises(ModelError, match="does not fit MobileCLIP2-S0"):
        create_model("MobileCLIP2-S0", weights=tmp_path / "wrong.pt")
    del clip


def test_open_clip_checkpoint_loads(tmp_path):
    from edge_bench import _torchvision_compat  # noqa: F401  (imported for its side effect (the torchvision schema shim))
    import open_clip

    torch.manual_seed(1)  # MobileCLIP2-S0: the smallest open_clip entry, re-parameterised after its checkpoint loads
    source = open_clip.create_model("MobileCLIP2-S0", pretrained=None).eval()
    torch.save({"state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}}, tmp_path / "s0.pt")
    model = create_model("MobileCLIP2-S0", weights=tmp_path / "s0.pt")
    assert model.weights.status == "trained"
    images, tokens = model.example_inputs(1)
    with torch.inference_mode():
        expected = source.encode_image(images)
        expected = expected / expected.norm(dim=-1, keepdim=True)
        assert torch.allclose(model.image_encoder(images), expected, atol=1e-5)


def test_hugging_face_folder_loads(tmp_path):
    from edge_bench import _torchvision_compat  # noqa: F401  (imported for its side effect (the torchvision schema shim))
    from transformers import CLIPModel

    from edge_bench.models.tinyclip import _config

    torch.manual_seed(2)
    source = CLIPModel(_config("TinyCLIP-ViT-8M-16-Text-3M")).eval()
    source.save_pretrained(tmp_path / "hf")
    model = create_model("TinyCLIP-ViT-8M-16-Text-3M", weights=tmp_path / "hf")
    images, tokens = model.example_inputs(1)
    with torch.inference_mode():
        feats = source.visual_projection(source.vision_model(pixel_values=images).pooler_output)
        feats = feats / feats.norm(dim=-1, keepdim=True)
        assert torch.allclose(model.image_encoder(images), feats, atol=1e-5)


def test_missing_weights_and_wrong_kind(tmp_path):
    with pytest.raises(ModelError, match="weights not found"):
        create_model("ViT-B-32", weights=tmp_path / "nope.pt")
    (tmp_path / "w.onnx").write_bytes(b"x")
    with pytest.raises(ModelError, match="unsupported checkpoint type"):
        create_model("ViT-B-32", weights=tmp_path / "w.onnx")
    with pytest.raises(ModelError, match="not a Hugging Face CLIP folder"):
        create_model("TinyCLIP-ViT-8M-16-Text-3M", weights=tmp_path / "w.onnx")


def test_shipped_weights_and_the_untrained_choice():
    """Every built-in EdgeCLIP entry ships trained weights; 'untrained' asks for the random initialisation instead."""
    from edge_bench.models.builtin import builtin_weights_path

    for name in ("edgeclip-teacher", "edgeclip-s-distilled", "edgeclip-s-scratch", "edgeclip-m-distilled", "edgeclip-m-scratch"):
        assert builtin_weights_path(f"{name}.safetensors") is not None, name
        shipped, untrained = create_model(name), create_model(name, "untrained")
        assert shipped.weights.trained and not untrained.weights.trained
        tokens = torch.as_tensor(shipped.tokenizer(["a red circle on a white background"]))
        with torch.no_grad():
            assert not torch.allclose(shipped.text_encoder(tokens), untrained.text_encoder(tokens), atol=1e-3)
    assert not create_model("edgeclip-s-scratch", "untrained").weights.sha256
