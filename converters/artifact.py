"""Artifact sets on disk: the folder, its manifest.json, hashes and the cache key.

A set is `<out_root>/<model>-<backend>-<precision>-<key12>/` holding, per
tower, one file per batch size (`image-b1.pte`, `text-b8.pte`, ...) and one
`manifest.json` (fields in docs/ARCHITECTURE.md, "Converters").
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from edge_bench.converters.manifest_check import check_manifest
from edge_bench.errors import ConfigError, ConversionError

SCHEMA = 1
MANIFEST = "manifest.json"


@dataclass
class ArtifactSet:
    """One model converted for one backend at one precision."""

    dir: Path
    """The set's folder."""
    manifest: dict
    """The parsed manifest.json."""

    @property
    def backend(self) -> str:
        return self.manifest["backend"]

    @property
    def precision(self) -> str:
        return self.manifest["precision"]

    def batch_sizes(self, tower: str) -> list[int]:
        """Batch sizes converted for a tower, ascending; an unknown tower is a ConfigError."""
        towers = self.manifest["towers"]
        if tower not in towers:
            raise ConfigError(f"no {tower!r} tower in {self.dir.name}", hint=f"towers: {', '.join(towers)}")
        return sorted(a["batch"] for a in towers[tower]["artifacts"])

    def artifact(self, tower: str, batch: int) -> Path:
        """The file of a tower at a batch size; a missing one is a ConfigError."""
        towers = self.manifest["towers"]
        if tower not in towers:
            raise ConfigError(f"no {tower!r} tower in {self.dir.name}", hint=f"towers: {', '.join(towers)}")
        for entry in towers[tower]["artifacts"]:
            if entry["batch"] == batch:
                return self.dir / entry["file"]
        raise ConfigError(
            f"{self.dir.name} has no {tower} artifact at batch {batch}",
            hint=f"converted batch sizes: {', '.join(map(str, self.batch_sizes(tower)))}",
        )

    @classmethod
    def load(cls, folder: Path) -> "ArtifactSet":
        """An artifact set from its folder: manifest.json read and checked, else one ConfigError saying why."""
        return cls(Path(folder), load_manifest(folder))


MAX_MANIFEST_BYTES = 64 << 20
"""A manifest is a few kB (a word tokenizer's vocabulary at most ~1 MB); a larger file is refused unread."""


def load_manifest(folder: Path, complete: bool = True) -> dict:
    """The checked manifest of a folder (`manifest_check`); absent, unreadable or malformed is a ConfigError.

    `complete` requires both towers with artifacts (a finished set).
    """
    path = Path(folder) / MANIFEST
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise ConfigError(f"{path}: {size} bytes, more than a manifest's {MAX_MANIFEST_BYTES} (not read)")
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{folder} is not an artifact set (no {MANIFEST})", hint="convert the model first (edge-bench convert)") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    except (ValueError, RecursionError) as exc:  # JSON, UTF-8, a too-long integer, nesting too deep
        raise ConfigError(f"{path} is not valid JSON: {' '.join(str(exc).split())[:200]}",
                          hint="convert the model again (edge-bench convert)") from None
    return check_manifest(manifest, str(path), SCHEMA, complete=complete)


def read_manifest(folder: Path) -> dict | None:
    """The manifest of a folder, or None when absent, unreadable, malformed or of another schema
    (a cache that then converts again); the towers may still be incomplete."""
    try:
        return load_manifest(folder, complete=False)
    except ConfigError:
        return None


def write_manifest(folder: Path, manifest: dict) -> None:
    """Write manifest.json atomically (a reader never sees half a file)."""
    tmp = folder / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=False))
    tmp.replace(folder / MANIFEST)


def path_sha256(path: Path) -> str:
    """sha256 of a file, or of a folder's files in name order (an .mlpackage)."""
    from edge_bench.models.weights import file_sha256

    return file_sha256(path)


def path_size(path: Path) -> int:
    """Bytes of a file, or of every file in a folder."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def state_sha256(*modules) -> str:
    """sha256 of the modules' parameters and buffers (names, dtypes, shapes, bytes)."""
    import torch

    digest = hashlib.sha256()
    for module in modules:
        for name, tensor in module.state_dict().items():
            data = tensor.detach().cpu().contiguous()
            digest.update(f"{name}:{data.dtype}:{tuple(data.shape)}".encode())
            digest.update(data.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def cache_key(settings: dict) -> str:
    """sha256 of the settings that determine an artifact set (JSON, sorted keys)."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


def writable_dir(folder: Path, root: Path | None = None) -> Path:
    """Create a folder and prove it takes files; otherwise a ConfigError naming the cause."""
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"cannot write artifacts to {root or folder}: {reason}", hint="choose a writable folder with --out"
        ) from None
    return folder


def set_folder(out_root: Path, model: str, backend: str, precision: str, key: str) -> Path:
    """The folder of a set, created; an unwritable root is a ConfigError."""
    return writable_dir(Path(out_root).expanduser() / f"{model}-{backend}-{precision}-{key[:12]}", out_root)


def check_file(folder: Path, entry: dict) -> bool:
    """Whether a manifest entry's file is present with the recorded sha256."""
    path = folder / entry["file"]
    return path.exists() and path_sha256(path) == entry.get("sha256")


def replace_path(tmp: Path, final: Path) -> None:
    """Move a finished artifact (file or folder) into place."""
    import shutil

    if final.is_dir():
        shutil.rmtree(final)
    elif final.exists():
        final.unlink()
    try:
        tmp.replace(final)
    except OSError as exc:
        raise ConversionError(f"cannot move {tmp.name} into place: {exc.strerror}") from None
