"""The built-in synthetic retrieval set: drawn shapes with exact captions.

Every image holds one or two groups of identical shapes (shape, colour, size,
count) on a plain background; with two groups they sit left/right or
top/bottom. Each image has five differently worded captions that describe it
exactly. Everything is deterministic from (seed, split, index).

Some training images come in pairs that differ only in which group has which
colour ("hard negatives"), so a model must bind colours to shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

SHAPES = ("circle", "square", "triangle", "diamond", "star", "cross")
COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (240, 210, 40),
    "purple": (140, 60, 180),
    "orange": (250, 140, 30),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
}
BACKGROUNDS = {"gray": (128, 128, 128), "white": (250, 250, 250), "black": (10, 10, 10), "beige": (225, 210, 170)}
SIZES = {"small": 0.16, "large": 0.30}
COUNT_WORDS = {1: "a", 2: "two", 3: "three"}
SPLIT_SIZES = {"train": 40000, "val": 1000, "test": 1000}
SPLIT_IDS = {"train": 0, "val": 1, "test": 2}
NATIVE_SIZE = 64


@dataclass(frozen=True)
class Group:
    """Identical shapes drawn together."""

    shape: str
    colour: str
    size: str
    count: int

    def phrase(self) -> str:
        """'a small red circle' / 'two large blue squares'."""
        noun = self.shape if self.count == 1 else ("crosses" if self.shape == "cross" else self.shape + "s")
        return f"{COUNT_WORDS[self.count]} {self.size} {self.colour} {noun}"


@dataclass(frozen=True)
class Scene:
    """What one image shows; captions and pixels both come from it."""

    background: str
    groups: tuple[Group, ...]
    layout: str  # "single", "horizontal" (first group left) or "vertical" (first group on top)
    seed: int

    def swapped(self) -> "Scene":
        """The same scene with the two groups' colours exchanged (a hard negative)."""
        a, b = self.groups
        return replace(self, groups=(replace(a, colour=b.colour), replace(b, colour=a.colour)))

    @property
    def swappable(self) -> bool:
        return len(self.groups) == 2 and self.groups[0].colour != self.groups[1].colour

    def captions(self) -> list[str]:
        """Five differently worded, exact descriptions."""
        bg = self.background
        if self.layout == "single":
            a = self.groups[0].phrase()
            return [
                f"{a} on a {bg} background",
                f"a {bg} picture showing {a}",
                f"there is {a} against {bg}",
                f"an image of {a} with a {bg} background",
                f"{bg} background, {a}",
            ]
        a, b = (g.phrase() for g in self.groups)
        if self.layout == "horizontal":
            where = [f"{a} to the left of {b}", f"{b} to the right of {a}", f"{a} on the left and {b} on the right"]
        else:
            where = [f"{a} above {b}", f"{b} below {a}", f"{a} at the top and {b} at the bottom"]
        return [
            f"{a} and {b} on a {bg} background",
            f"{where[0]} on {bg}",
            f"a {bg} picture with {b} and {a}",
            f"{where[1]}, {bg} background",
            f"an image of {where[2]} against {bg}",
        ]


def vocabulary() -> list[str]:
    """Every word a synthetic caption can use (sorted)."""
    from edge_bench.models.tokenizers import words

    fixed = (
        "a two three on background picture showing there is against an image of with and to the left right "
        "above below at top bottom crosses"
    )
    all_words = set(words(fixed)) | set(SHAPES) | {s + "s" for s in SHAPES} | set(COLOURS) | set(BACKGROUNDS)
    return sorted(all_words | set(SIZES))


def sample_scene(rng: np.random.Generator, seed: int) -> Scene:
    """A random scene; two groups differ in shape or colour."""
    background = str(rng.choice(list(BACKGROUNDS)))
    colours = [c for c in COLOURS if c != background]
    n_groups = 1 if rng.random() < 0.3 else 2

    def group(max_count: int) -> Group:
        size = str(rng.choice(list(SIZES)))
        count = int(rng.integers(1, max_count + 1)) if size == "small" else 1
        return Group(str(rng.choice(SHAPES)), str(rng.choice(colours)), size, count)

    if n_groups == 1:
        return Scene(background, (group(3),), "single", seed)
    first = group(2)
    second = group(2)
    while (second.shape, second.colour) == (first.shape, first.colour):
        second = group(2)
    layout = "horizontal" if rng.random() < 0.5 else "vertical"
    return Scene(background, (first, second), layout, seed)


def scene_for(seed: int, split: str, index: int) -> Scene:
    """The scene of one image of a split, deterministic from (seed, split, index)."""
    rng = np.random.default_rng([seed, SPLIT_IDS[split], index])
    return sample_scene(rng, seed=int(rng.integers(2**31)))
