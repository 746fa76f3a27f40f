"""MobileCLIP, MobileCLIP2 and ViT-B-32 from open_clip's own definitions.

open_clip builds them offline with random weights and its bundled tokenizer;
`--weights` loads an open_clip checkpoint (.pt, .bin, .safetensors, or a
folder holding `open_clip_model.safetensors` / `open_clip_pytorch_model.bin`).
MobileCLIP towers are re-parameterised (timm) before export.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from edge_bench.errors import ModelError
from edge_bench.models.base import ClipModel, ModelSpec, Preprocess, WeightsInfo, l2_normalize
from edge_bench.models.registry import register_model

FAMILY = "open_clip"
ENTRIES = {
    "MobileCLIP-S1": (256, 512),
    "MobileCLIP-S2": (256, 512),
    "MobileCLIP-B": (224, 512),
    "MobileCLIP2-S0": (256, 512),
    "MobileCLIP2-S2": (256, 512),
    "MobileCLIP2-B": (224, 512),
    "ViT-B-32": (224, 512),
}
_FOLDER_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin", "model.safetensors", "pytorch_model.bin")



class ImageTower(nn.Module):
    """open_clip's visual tower with L2 normalisation."""

    def __init__(self, visual: nn.Module) -> None:
        super().__init__()
        self.visual = visual

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return l2_normalize(self.visual(images))


class TextTower(nn.Module):
    """open_clip's text path (the model with its visual tower removed), normalised."""

    def __init__(self, clip: nn.Module) -> None:
        super().__init__()
        self.clip = clip

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return l2_normalize(self.clip.encode_text(tokens))


def _checkpoint_file(path: Path) -> Path:
    if path.is_file():
        return path
    for name in _FOLDER_FILES:
        if (path / name).is_file():
            return path / name
    raise ModelError(f"no open_clip checkpoint in {path}", hint=f"expected one of {', '.join(_FOLDER_FILES)}")


def _builder(name: str):
    def build(weights: Path | None) -> ClipModel:
        from edge_bench import _torchvision_compat  # noqa: F401  (before open_clip imports torchvision)
        import logging

        import open_clip

        from edge_bench.models.tokenizers import OpenClipTokenizer
        from edge_bench.models.weights import file_sha256, load_into, read_state_dict

        logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))
        file = state = None
        if weights is not None:  # read first: a wrong or broken file fails in a moment, not after building the model
            file = _checkpoint_file(weights)
            state, _ = read_state_dict(file)
        with torch.random.fork_rng():  # untrained weights are the same on every build
            torch.manual_seed(0)
            clip = open_clip.create_model(name, pretrained=None)
        info = WeightsInfo("untrained")
        if file is not None:
            load_into(clip, state, file, name)
            info = WeightsInfo("trained", str(file), file_sha256(file))
            del state
        clip.eval()
        if "MobileCLIP" in name:
            from timm.utils.model import reparameterize_model

            clip = reparameterize_model(clip)
        cfg = clip.visual.preprocess_cfg if hasattr(clip.visual, "preprocess_cfg") else {}
        size = cfg.get("size", ENTRIES[name][0])
        size = size[0] if isinstance(size, (tuple, list)) else size
        preprocess = Preprocess(
            size=int(size),
            mean=tuple(cfg.get("mean", (0.48145466, 0.4578275, 0.40821073))),
            std=tuple(cfg.get("std", (0.26862954, 0.26130258, 0.27577711))),
            interpolation=cfg.get("interpolation", "bicubic"),
        )
        visual = clip.visual
        clip.visual = nn.Identity()
        return ClipModel(
            name=name,
            family=FAMILY,
            image_encoder=ImageTower(visual),
            text_encoder=TextTower(clip),
            tokenizer=OpenClipTokenizer(name),
            preprocess=preprocess,
            embed_dim=ENTRIES[name][1],
            weights=info,
        )

    return build


for _name, (_size, _dim) in ENTRIES.items():
    register_model(
        ModelSpec(
            name=_name,
            family=FAMILY,
            builder=_builder(_name),
            description=f"{_name} from open_clip's definition",
            image_size=_size,
            embed_dim=_dim,
            requires=("open_clip", "timm"),
        )
    )
