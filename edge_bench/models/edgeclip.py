"""EdgeCLIP: the built-in family of small CLIP models, sized for the synthetic set.

A ViT image tower and a causal transformer text tower, written with plain
matmuls and softmax so every edge converter lowers them without surprises.
The text tower pools at the end-of-text token with a one-hot product (no
argmax or gather: both are awkward in some edge runtimes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from edge_bench.models.base import l2_normalize


@dataclass(frozen=True)
class EdgeClipConfig:
    """The shape of an EdgeCLIP model."""

    image_size: int = 64
    """Input side in pixels."""
    patch_size: int = 8
    """Side of the square patches the image is cut into."""
    vision_width: int = 128
    """Width of the image transformer."""
    vision_layers: int = 2
    """Blocks in the image transformer."""
    text_width: int = 128
    """Width of the text transformer."""
    text_layers: int = 2
    """Blocks in the text transformer."""
    heads: int = 4
    """Attention heads in both towers."""
    vocab_size: int = 128
    """Token ids the text tower accepts (including pad, start, unknown, end)."""
    context_length: int = 32
    """Tokens per caption."""
    embed_dim: int = 128
    """Size of the shared, L2-normalised embedding."""

    def as_dict(self) -> dict:
        """A JSON-ready copy."""
        return asdict(self)


class Attention(nn.Module):
    """Multi-head self-attention from matmuls, with an optional additive mask."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        batch, tokens, width = x.shape
        head_dim = width // self.heads
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.heads, head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = torch.matmul(q, k.transpose(-1, -2)) * (head_dim**-0.5)
        if mask is not None:
            scores = scores + mask
        attn = torch.softmax(scores, dim=-1)
        y = torch.matmul(attn, v).permute(0, 2, 1, 3).reshape(batch, tokens, width)
        return self.out(y)


class Block(nn.Module):
    """A pre-norm transformer block."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = Attention(width, heads)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), mask)
        return x + self.mlp(self.ln2(x))



class EdgeClipImage(nn.Module):
    """The image tower: (B, 3, H, W) normalised pixels -> (B, D) unit vectors."""

    def __init__(self, cfg: EdgeClipConfig) -> None:
        super().__init__()
        grid = cfg.image_size // cfg.patch_size
        self.patch = nn.Conv2d(3, cfg.vision_width, cfg.patch_size, cfg.patch_size)
        self.cls = nn.Parameter(torch.randn(1, 1, cfg.vision_width) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, grid * grid + 1, cfg.vision_width) * 0.02)
        self.blocks = nn.ModuleList(Block(cfg.vision_width, cfg.heads) for _ in range(cfg.vision_layers))
        self.ln = nn.LayerNorm(cfg.vision_width)
        self.proj = nn.Linear(cfg.vision_width, cfg.embed_dim, bias=False)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The unnormalised embedding (distillation matches these)."""
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        for block in self.blocks:
            x = block(x)
        return self.proj(self.ln(x[:, 0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return l2_normalize(self.features(x))


class EdgeClipText(nn.Module):
    """The text tower: (B, L) int32 tokens -> (B, D) unit vectors, pooled at end-of-text."""

    def __init__(self, cfg: EdgeClipConfig) -> None:
        super().__init__()
        self.eot_id = cfg.vocab_size - 1
        self.embed = nn.Embedding(cfg.vocab_size, cfg.text_width)
        self.pos = nn.Parameter(torch.randn(1, cfg.context_length, cfg.text_width) * 0.01)
        self.blocks = nn.ModuleList(Block(cfg.text_width, cfg.heads) for _ in range(cfg.text_layers))
        self.ln = nn.LayerNorm(cfg.text_width)
        self.proj = nn.Linear(cfg.text_width, cfg.embed_dim, bias=False)
        causal = torch.full((cfg.context_length, cfg.context_length), -1e4).triu(1)
        self.register_buffer("mask", causal, persistent=False)

    def features(self, tokens: torch.Tensor) -> torch.Tensor:
        """The unnormalised embedding (distillation matches these)."""
        x = self.embed(tokens) + self.pos
        for block in self.blocks:
            x = block(x, self.mask)
        x = self.ln(x)
        at_eot = (tokens == self.eot_id).to(x.dtype).unsqueeze(1)  # (B, 1, L)
        return self.proj(torch.matmul(at_eot, x).squeeze(1))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return l2_normalize(self.features(tokens))


def build_towers(cfg: EdgeClipConfig, seed: int = 0) -> tuple[EdgeClipImage, EdgeClipText]:
    """Both towers, randomly initialised from a seed."""
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        return EdgeClipImage(cfg), EdgeClipText(cfg)
    finally:
        torch.random.set_rng_state(generator_state)


def logit_scale_init() -> float:
    """CLIP's initial temperature, as log(1 / 0.07)."""
    return float(torch.log(torch.tensor(1 / 0.07)))


__all__ = ["EdgeClipConfig", "EdgeClipImage", "EdgeClipText", "build_towers", "logit_scale_init"]
