"""What is already converted: the artifact sets in the converter cache, read from their manifests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Converted:
    """One artifact set in the cache."""

    model: str
    backend: str
    precision: str
    batches: tuple[int, ...]
    """Batch sizes converted (image tower)."""
    weights: str
    """trained / untrained."""
    size_bytes: int
    """Batch-1 artifacts of both towers."""
    folder: Path


def artifacts_root() -> Path:
    """The converter cache's folder (what `convert` uses when given no out_root)."""
    from edge_bench import paths

    return paths.cache_dir() / "artifacts"


def converted_sets(root: Path | None = None) -> list[Converted]:
    """Every readable artifact set under the cache (file I/O: call it from a worker)."""
    from edge_bench.converters.artifact import read_manifest

    root = root or artifacts_root()
    out = []
    for folder in sorted(root.glob("*/")) if root.is_dir() else []:
        manifest = read_manifest(folder)
        if manifest is None:
            continue
        towers = manifest.get("towers") or {}
        entries = [a for t in towers.values() for a in t.get("artifacts", [])]
        out.append(Converted(
            manifest.get("model", "?"), manifest.get("backend", "?"), manifest.get("precision", "?"),
            tuple(sorted(a["batch"] for a in (towers.get("image") or {}).get("artifacts", []))),
            (manifest.get("weights") or {}).get("status", "?"),
            sum(a.get("size_bytes") or 0 for a in entries if a.get("batch") == 1), folder,
        ))
    return out


def converted_index(sets: list[Converted]) -> dict[tuple[str, str, str], Converted]:
    """(model, backend, precision) -> its cached set (the newest folder name wins)."""
    return {(s.model, s.backend, s.precision): s for s in sets}
