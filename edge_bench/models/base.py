"""What a zoo entry gives: two export-ready towers, a tokenizer, preprocessing.

Every tower takes static shapes and returns L2-normalised embeddings:
image (B, 3, H, W) float32, already normalised -> (B, D);
text (B, context_length) int32 tokens -> (B, D).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def l2_normalize(x: "torch.Tensor") -> "torch.Tensor":  # noqa: F821  (torch is imported lazily; the name is for readers and type checkers)
    """Rows scaled to unit length, written with ops every edge converter lowers (no F.normalize clamp)."""
    import torch

    return x / torch.sqrt(torch.sum(x * x, dim=-1, keepdim=True) + 1e-12)


@dataclass(frozen=True)
class Preprocess:
    """How an image becomes the image tower's input."""

    size: int
    """Side of the square input, in pixels (resize shortest side, centre crop)."""
    mean: tuple[float, float, float] = CLIP_MEAN
    """Per-channel mean subtracted from pixels scaled to [0, 1]."""
    std: tuple[float, float, float] = CLIP_STD
    """Per-channel standard deviation the pixels are divided by."""
    interpolation: str = "bicubic"
    """Resampling filter of the resize: bicubic or bilinear."""

    def as_dict(self) -> dict:
        """A JSON-ready copy (for manifests and records)."""
        return asdict(self)


class Tokenizer(Protocol):
    """Turns captions into int32 token ids of a fixed context length."""

    context_length: int
    name: str

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """Token ids, shape (len(texts), context_length), dtype int32."""
        ...


@dataclass
class WeightsInfo:
    """Where a model's weights came from."""

    status: str
    """'trained' (weights loaded from a file) or 'untrained' (random init)."""
    source: str = ""
    """The file the weights came from, or '' when untrained."""
    sha256: str = ""
    """sha256 of that file ('' when untrained)."""

    @property
    def trained(self) -> bool:
        return self.status == "trained"


@dataclass
class ClipModel:
    """One zoo entry, built: separate towers ready for torch.export."""

    name: str
    family: str
    image_encoder: "torch.nn.Module"  # noqa: F821  (torch is imported lazily; the name is for readers and type checkers)
    text_encoder: "torch.nn.Module"  # noqa: F821  (torch is imported lazily; the name is for readers and type checkers)
    tokenizer: Tokenizer
    preprocess: Preprocess
    embed_dim: int
    weights: WeightsInfo = field(default_factory=lambda: WeightsInfo("untrained"))
    card: dict = field(default_factory=dict)
    """How the weights were made (training card), when known."""

    @property
    def context_length(self) -> int:
        return self.tokenizer.context_length

    def example_inputs(self, batch: int = 1) -> tuple:
        """Random inputs of the towers' static shapes: (images, tokens)."""
        import torch

        generator = torch.Generator().manual_seed(0)
        size = self.preprocess.size
        images = torch.randn(batch, 3, size, size, generator=generator)
        tokens = torch.from_numpy(self.tokenizer(["a photo"] * batch))
        return images, tokens

    def parameter_counts(self) -> dict[str, int]:
        """Parameters per tower."""
        return {
            "image": sum(p.numel() for p in self.image_encoder.parameters()),
            "text": sum(p.numel() for p in self.text_encoder.parameters()),
        }

    def eval(self) -> "ClipModel":
        """Both towers in eval mode (returns self)."""
        self.image_encoder.eval()
        self.text_encoder.eval()
        return self


@dataclass(frozen=True)
class ModelSpec:
    """A registry entry: how to build a model, and what it is, before building."""

    name: str
    family: str
    builder: Callable[["Path | None"], ClipModel]
    """Builds the model; given a weights file or folder, loads it."""
    description: str = ""
    image_size: int = 224
    embed_dim: int = 512
    builtin_weights: str | None = None
    """File name of weights shipped inside the package (built-in zoo), if any."""
    context_length: int = 77
    """Tokens per caption the text tower takes."""
    requires: tuple[str, ...] = ()
    """Python modules the builder needs (an extra), for a clear message."""
