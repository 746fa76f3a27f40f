"""A retrieval split: images, every caption, and which image each caption describes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class RetrievalSet:
    """One split of a retrieval dataset, with every caption kept."""

    name: str
    """Dataset name: synthetic, flickr30k or mscoco."""
    split: str
    """train, val or test."""
    image_ids: list[str]
    """A stable id per image (file name, or synthetic index)."""
    captions: list[str]
    """Every caption of the split, grouped by image."""
    caption_image: np.ndarray
    """For each caption, the index of its image (int64)."""
    load_image: Callable[[int], "PIL.Image.Image"]  # noqa: F821  (torch is imported lazily; the name is for readers and type checkers)
    """Opens image i as an RGB PIL image."""
    fingerprint: str
    """Identifies the content (for cache keys)."""
    meta: dict = field(default_factory=dict)
    """Dataset-specific extras (the synthetic set keeps its scenes here)."""

    @property
    def n_images(self) -> int:
        return len(self.image_ids)

    @property
    def n_captions(self) -> int:
        return len(self.captions)

    def describe(self) -> str:
        """'synthetic test: 1000 images, 5000 captions'."""
        return f"{self.name} {self.split}: {self.n_images} images, {self.n_captions} captions"
