"""Flickr30k and MSCOCO from Karpathy-split JSON files and a local image folder.

The JSON (`dataset_flickr30k.json`, `dataset_coco.json`) lists images with
`filename`, optional `filepath`, `split` and `sentences[].raw`. The test
splits are Flickr30k 1K and MSCOCO 5K; every caption of an image is kept.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from edge_bench.data.dataset import RetrievalSet
from edge_bench.errors import DataError

JSON_NAMES = {"flickr30k": "dataset_flickr30k.json", "mscoco": "dataset_coco.json"}
_IMAGE_SUBDIRS = ("", "images", "flickr30k-images", "flickr30k_images")


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise DataError(f"Karpathy split file not found: {path}", hint="pass --data-dir pointing at the folder that holds it")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise DataError(f"{path} is not a Karpathy split file: no 'images' list at the top")
    return data


def _image_path(root: Path, entry: dict) -> Path:
    rel = Path(entry.get("filepath") or "") / entry["filename"]
    for sub in _IMAGE_SUBDIRS:
        candidate = root / sub / rel
        if candidate.is_file():
            return candidate
    return root / rel


def _entries(data: dict, split: str, path: Path) -> list[dict]:
    chosen = []
    for i, entry in enumerate(data["images"]):
        if not isinstance(entry, dict) or "filename" not in entry or not isinstance(entry.get("sentences"), list):
            raise DataError(f"{path}: image entry {i} lacks 'filename' or a 'sentences' list")
        entry_split = "train" if entry.get("split") == "restval" else entry.get("split")
        if entry_split == split:
            chosen.append(entry)
    if not chosen:
        raise DataError(f"{path}: the {split!r} split is empty", hint="the Karpathy files use train, val and test")
    return chosen


def load_karpathy(name: str, data_dir: str | Path, split: str = "test") -> RetrievalSet:
    """A split of Flickr30k or MSCOCO; every listed image must exist on disk."""
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise DataError(f"data directory not found: {root}")
    json_path = root / JSON_NAMES[name]
    data = _read_json(json_path)
    entries = _entries(data, split, json_path)
    paths, captions, owner = [], [], []
    for index, entry in enumerate(entries):
        paths.append(_image_path(root, entry))
        for sentence in entry["sentences"]:
            raw = sentence.get("raw") if isinstance(sentence, dict) else None
            if not isinstance(raw, str):
                raise DataError(f"{json_path}: a sentence of {entry['filename']} has no 'raw' text")
            captions.append(raw.strip())
            owner.append(index)
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise DataError(
            f"{len(missing)} of {len(paths)} {name} {split} images are missing, e.g. {missing[0]}",
            hint=f"put the images under {root}",
        )
    digest = hashlib.sha256(json_path.read_bytes())
    for path in paths:  # a replaced or edited image changes the fingerprint (and so the preprocessing cache key)
        stat = path.stat()
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    digest = digest.hexdigest()

    def load_image(i: int):
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(paths[i]) as image:
                return image.convert("RGB")
        except (UnidentifiedImageError, OSError) as exc:
            raise DataError(f"image does not decode: {paths[i]} ({exc})") from None

    return RetrievalSet(
        name=name,
        split=split,
        image_ids=[str(p.relative_to(root)) if p.is_relative_to(root) else str(p) for p in paths],
        captions=captions,
        caption_image=np.asarray(owner, dtype=np.int64),
        load_image=load_image,
        fingerprint=f"{digest[:16]}-{split}",
        meta={"root": str(root)},
    )
