"""Draw a synthetic scene: anti-aliased shapes at 4x, reduced to the native size."""

from __future__ import annotations

import math

import numpy as np

from edge_bench.data.synthetic import BACKGROUNDS, COLOURS, NATIVE_SIZE, SIZES, Scene

_SCALE = 4


def _polygon(shape: str, cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    if shape == "square":
        s = r * 0.85
        return [(cx - s, cy - s), (cx + s, cy - s), (cx + s, cy + s), (cx - s, cy + s)]
    if shape == "triangle":
        return [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
    if shape == "diamond":
        return [(cx, cy - r), (cx + r * 0.8, cy), (cx, cy + r), (cx - r * 0.8, cy)]
    if shape == "star":
        pts = []
        for i in range(10):
            rad = r if i % 2 == 0 else r * 0.45
            a = -math.pi / 2 + i * math.pi / 5
            pts.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
        return pts
    if shape == "cross":
        t = r * 0.35
        return [
            (cx - t, cy - r), (cx + t, cy - r), (cx + t, cy - t), (cx + r, cy - t), (cx + r, cy + t), (cx + t, cy + t),
            (cx + t, cy + r), (cx - t, cy + r), (cx - t, cy + t), (cx - r, cy + t), (cx - r, cy - t), (cx - t, cy - t),
        ]
    raise ValueError(shape)


def _regions(scene: Scene, side: float) -> list[tuple[float, float, float, float]]:
    half = side / 2
    if scene.layout == "single":
        return [(0, 0, side, side)]
    if scene.layout == "horizontal":
        return [(0, 0, half, side), (half, 0, side, side)]
    return [(0, 0, side, half), (0, half, side, side)]


def _place(rng: np.random.Generator, region, radius: float, count: int) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = region
    margin = radius * 1.1
    centres: list[tuple[float, float]] = []
    for _ in range(200):
        if len(centres) == count:
            break
        c = (rng.uniform(x0 + margin, x1 - margin), rng.uniform(y0 + margin, y1 - margin))
        if all(math.dist(c, o) > 2.1 * radius for o in centres):
            centres.append(c)
    while len(centres) < count:  # crowded: fall back to a row across the region
        i = len(centres)
        centres.append((x0 + (i + 0.5) * (x1 - x0) / count, (y0 + y1) / 2))
    return centres


def render(scene: Scene, size: int = NATIVE_SIZE) -> np.ndarray:
    """The scene as an (size, size, 3) uint8 RGB array."""
    from PIL import Image, ImageDraw

    side = size * _SCALE
    image = Image.new("RGB", (side, side), BACKGROUNDS[scene.background])
    draw = ImageDraw.Draw(image)
    rng = np.random.default_rng(scene.seed)
    for group, region in zip(scene.groups, _regions(scene, side)):
        radius = SIZES[group.size] * side / 2
        for cx, cy in _place(rng, region, radius, group.count):
            fill = COLOURS[group.colour]
            if group.shape == "circle":
                draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=fill)
            else:
                draw.polygon(_polygon(group.shape, cx, cy, radius), fill=fill)
    return np.asarray(image.resize((size, size), Image.Resampling.LANCZOS), dtype=np.uint8)
