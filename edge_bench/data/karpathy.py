"""Flickr30k and MSCOCO from Karpathy-split JSON files and a local image folder.

The JSON (`dataset_flickr30k.json`, `dataset_coco.json`) lists images with
`filename`, optional `filepath`, `split` and `sentences[].raw`. The test
splits are Flickr30k 1K and MSCOCO 5K; every caption of an image is kept.
Every problem with the file or an image is one DataError naming it: file
names must be relative paths inside the data folder (no '..').
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from edge_bench.data.dataset import RetrievalSet
from edge_bench.data.images import open_rgb, shown
from edge_bench.errors import DataError

JSON_NAMES = {"flickr30k": "dataset_flickr30k.json", "mscoco": "dataset_coco.json"}
_IMAGE_SUBDIRS = ("", "images", "flickr30k-images", "flickr30k_images")


def _read_json(path: Path) -> dict:
    if not _is_file(path):
        raise DataError(f"Karpathy split file not found: {shown(path)}", hint="pass --data-dir pointing at the folder that holds it")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise DataError(f"cannot read {shown(path)}: {exc.strerror or type(exc).__name__}") from None
    except (ValueError, RecursionError) as exc:  # bad JSON or UTF-8, an integer too long, nesting too deep
        raise DataError(f"{shown(path)} is not valid JSON: {' '.join(str(exc).split())[:200]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise DataError(f"{shown(path)} is not a Karpathy split file: no 'images' list at the top")
    return data


def _is_file(path: Path) -> bool:
    """Path.is_file, False (not an error) for a name the OS refuses (too long, a NUL byte)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _relative(value, field: str, i: int, path: Path, required: bool) -> Path:
    """A filename or filepath of an entry as a relative path that stays inside the data folder."""
    if value is None or value == "":
        if required:
            raise DataError(f"{shown(path)}: image entry {i} has an empty {field!r}")
        return Path()
    if not isinstance(value, str) or not value.isprintable():
        raise DataError(f"{shown(path)}: image entry {i}: {field} {value!r:.80} is not a file name")
    rel = Path(value)
    if rel.is_absolute() or ".." in rel.parts:
        raise DataError(f"{shown(path)}: image entry {i}: {field} {value!r:.80} leaves the data folder",
                        hint="file names are relative to --data-dir, without '..'")
    return rel


def _image_path(root: Path, rel: Path) -> Path:
    for sub in _IMAGE_SUBDIRS:
        candidate = root / sub / rel
        if _is_file(candidate):
            return candidate
    return root / rel


def _captions(entry: dict, i: int, path: Path) -> list[str]:
    captions = []
    for sentence in entry["sentences"]:
        raw = sentence.get("raw") if isinstance(sentence, dict) else None
        if not isinstance(raw, str):
            raise DataError(f"{shown(path)}: a sentence of image entry {i} ({entry['filename']!r:.80}) has no 'raw' text")
        captions.append(raw.strip())
    return captions


def _entries(data: dict, split: str, path: Path) -> list[tuple[Path, list[str]]]:
    """(image path relative to the data folder, captions) of every entry of the split."""
    chosen = []
    for i, entry in enumerate(data["images"]):
        if not isinstance(entry, dict) or "filename" not in entry or not isinstance(entry.get("sentences"), list):
            raise DataError(f"{shown(path)}: image entry {i} lacks 'filename' or a 'sentences' list")
        entry_split = "train" if entry.get("split") == "restval" else entry.get("split")
        if entry_split == split:
            rel = _relative(entry.get("filepath"), "filepath", i, path, False) / _relative(
                entry["filename"], "filename", i, path, True)
            chosen.append((rel, _captions(entry, i, path)))
    if not chosen:
        raise DataError(f"{shown(path)}: the {split!r:.80} split is empty", hint="the Karpathy files use train, val and test")
    return chosen


def load_karpathy(name: str, data_dir: str | Path, split: str = "test") -> RetrievalSet:
    """A split of Flickr30k or MSCOCO; every listed image must exist on disk."""
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise DataError(f"data directory not found: {shown(root)}")
    json_path = root / JSON_NAMES[name]
    data = _read_json(json_path)
    entries = _entries(data, split, json_path)
    paths, captions, owner = [], [], []
    for index, (rel, texts) in enumerate(entries):
        paths.append(_image_path(root, rel))
        captions += texts
        owner += [index] * len(texts)
    if not captions:
        raise DataError(f"{shown(json_path)}: the {split!r:.80} split has images but no captions")
    missing = [p for p in paths if not _is_file(p)]
    if missing:
        raise DataError(
            f"{len(missing)} of {len(paths)} {name} {split} images are missing, e.g. {shown(missing[0])}",
            hint=f"put the images under {shown(root)}",
        )
    digest = hashlib.sha256(json_path.read_bytes())
    for path in paths:  # a replaced or edited image changes the fingerprint (and so the preprocessing cache key)
        stat = path.stat()
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    digest = digest.hexdigest()

    def load_image(i: int):
        return open_rgb(paths[i])

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
