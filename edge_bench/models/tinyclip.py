"""TinyCLIP shapes built from transformers' CLIPConfig.

open_clip has no TinyCLIP definition; the shapes of Microsoft's published
TinyCLIP checkpoints are reproduced with `CLIPConfig`. `--weights` takes a
Hugging Face CLIP folder (config.json + weights) from disk, which may also be
any other CLIP shape. The tokenizer is OpenAI CLIP's BPE (open_clip's bundled copy).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from edge_bench.errors import ModelError
from edge_bench.models.base import ClipModel, ModelSpec, Preprocess, WeightsInfo, l2_normalize
from edge_bench.models.registry import register_model

FAMILY = "tinyclip"
SHAPES = {
    "TinyCLIP-ViT-8M-16-Text-3M": dict(
        vision=dict(hidden_size=256, intermediate_size=1024, num_attention_heads=4, num_hidden_layers=10, patch_size=16),
        text=dict(hidden_size=256, intermediate_size=1024, num_attention_heads=4, num_hidden_layers=3),
    ),
    "TinyCLIP-ViT-39M-16-Text-19M": dict(
        vision=dict(hidden_size=512, intermediate_size=2048, num_attention_heads=8, num_hidden_layers=12, patch_size=16),
        text=dict(hidden_size=512, intermediate_size=2048, num_attention_heads=8, num_hidden_layers=6),
    ),
}



class HFImageTower(nn.Module):
    """transformers' CLIP vision model + projection, normalised."""

    def __init__(self, vision: nn.Module, projection: nn.Module) -> None:
        super().__init__()
        self.vision = vision
        self.projection = projection

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        pooled = self.vision(pixel_values=images).pooler_output
        return l2_normalize(self.projection(pooled))


class HFTextTower(nn.Module):
    """transformers' CLIP text model + projection, normalised (pooled at end-of-text)."""

    def __init__(self, text: nn.Module, projection: nn.Module) -> None:
        super().__init__()
        self.text = text
        self.projection = projection

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        pooled = self.text(input_ids=tokens).pooler_output
        return l2_normalize(self.projection(pooled))


def _config(name: str):
    from transformers import CLIPConfig

    shape = SHAPES[name]
    # eos_token_id 2 selects transformers' legacy pooling (argmax of the ids):
    # the end-of-text token has the largest id in OpenAI's vocabulary.
    text = dict(shape["text"], max_position_embeddings=77, vocab_size=49408, eos_token_id=2)
    vision = dict(shape["vision"], image_size=224)
    return CLIPConfig(text_config=text, vision_config=vision, projection_dim=512)


def _builder(name: str):
    def build(weights: Path | None) -> ClipModel:
        from edge_bench import _torchvision_compat  # noqa: F401  (imported for its side effect (the torchvision schema shim))
        from transformers import CLIPModel
        from transformers.utils import logging as hf_logging

        from edge_bench.models.tokenizers import OpenClipTokenizer
        from edge_bench.models.weights import file_sha256

        hf_logging.set_verbosity_error()
        info = WeightsInfo("untrained")
        if weights is None:
            with torch.random.fork_rng():  # untrained weights are the same on every build
                torch.manual_seed(0)
                clip = CLIPModel(_config(name))
        else:
            if not (weights.is_dir() and (weights / "config.json").is_file()):
                raise ModelError(f"{weights} is not a Hugging Face CLIP folder (no config.json)")
            try:
                clip = CLIPModel.from_pretrained(str(weights), local_files_only=True)
            except Exception as exc:  # transformers raises many kinds
                raise ModelError(f"Hugging Face CLIP folder does not load: {weights} ({str(exc).splitlines()[0][:200]})") from None
            info = WeightsInfo("trained", str(weights), file_sha256(weights))
        clip.eval()
        size = clip.config.vision_config.image_size
        return ClipModel(
            name=name,
            family=FAMILY,
            image_encoder=HFImageTower(clip.vision_model, clip.visual_projection),
            text_encoder=HFTextTower(clip.text_model, clip.text_projection),
            tokenizer=OpenClipTokenizer("ViT-B-32"),
            preprocess=Preprocess(size=size),
            embed_dim=clip.config.projection_dim,
            weights=info,
        )

    return build


for _name in SHAPES:
    register_model(
        ModelSpec(
            name=_name,
            family=FAMILY,
            builder=_builder(_name),
            description=f"{_name} shape (transformers CLIPConfig)",
            image_size=224,
            embed_dim=512,
            requires=("transformers", "open_clip"),
        )
    )
