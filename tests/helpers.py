"""Test data in real formats: Karpathy-split JSON with real JPEG files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def write_karpathy(root: Path, name: str = "flickr30k", splits: dict | None = None, captions_per_image: int = 5) -> Path:
    """A small Karpathy-format dataset: `dataset_<name>.json` plus JPEG images, deterministic."""
    from PIL import Image

    splits = splits or {"train": 4, "val": 2, "test": 6}
    json_name = "dataset_flickr30k.json" if name == "flickr30k" else "dataset_coco.json"
    folder = "flickr30k-images" if name == "flickr30k" else "val2014"
    (root / folder).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    images, imgid, sentid = [], 0, 0
    for split, count in splits.items():
        for _ in range(count):
            filename = f"{imgid:05d}.jpg"
            size = (int(rng.integers(48, 96)), int(rng.integers(48, 96)))
            pixels = rng.integers(0, 255, size=(size[1], size[0], 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / folder / filename, quality=90)
            sentences = [{"raw": f"Image {imgid} caption {c}.", "tokens": [], "imgid": imgid, "sentid": sentid + c}
                         for c in range(captions_per_image)]
            entry = {"filename": filename, "imgid": imgid, "split": split, "sentences": sentences,
                     "sentids": [s["sentid"] for s in sentences]}
            if name == "mscoco":
                entry["filepath"] = folder
            images.append(entry)
            imgid += 1
            sentid += captions_per_image
    (root / json_name).write_text(json.dumps({"images": images, "dataset": name}))
    return root


def naive_recall(images: np.ndarray, texts: np.ndarray, owner: np.ndarray, ks=(1, 5, 10)) -> dict[str, float]:
    """Recall@K by definition, independent of the code under test: sort every query's scores (stable, best first:
    among equal scores the lower index first) and look for a correct item in the top k; plus mean_recall."""
    scores = texts @ images.T  # (captions, images)
    out = {}
    for k in ks:
        t2i = [owner[j] in np.argsort(-scores[j], kind="stable")[:k] for j in range(len(texts))]
        i2t = [i in owner[np.argsort(-scores[:, i], kind="stable")[:k]] for i in range(len(images))]
        out[f"image_retrieval_recall@{k}"] = float(np.mean(t2i))
        out[f"text_retrieval_recall@{k}"] = float(np.mean(i2t))
    out["mean_recall"] = float(np.mean(list(out.values())))
    return out
