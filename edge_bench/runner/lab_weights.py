"""`--weights` files of a lab run across hosts: read on the submitting host, landed on each device's node.

A plan's weights are paths on the submitting host; a lab node has no such file. The submitting host packs each
weights file (or folder) with its sha256 (`pack_weights`), Ray carries the packs to every device actor, and the
actor lands them under its own cache (`land_weights`, once per sha256) and builds its models from the copies
(`shipped_models`). The plan keeps the host's paths, so job keys and `--resume` match a run on one host, and the
records name the host's file (`weights_source`) with the same sha256.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass, replace
from pathlib import Path

from edge_bench.models.registry import UNTRAINED


@dataclass(frozen=True)
class WeightsPack:
    """One model's weights as they travel: the host's path, its sha256 and the file (or folder) as a tar."""

    source: str
    sha256: str
    blob: bytes


def pack_weights(weights: dict[str, str]) -> dict[str, WeightsPack]:
    """Model -> its weights packed for the lab nodes (`untrained` needs no file and is left out)."""
    from edge_bench.models.weights import file_sha256

    packs = {}
    for model, source in weights.items():
        if source == UNTRAINED:
            continue
        path = Path(source).expanduser()
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            tar.add(path, arcname=path.name)
        packs[model] = WeightsPack(source, file_sha256(path), buffer.getvalue())
    return packs


def land_weights(packs: dict[str, WeightsPack], root: Path) -> dict[str, Path]:
    """Model -> its weights unpacked under `root/<sha256>/` on this node (kept: a second run lands nothing)."""
    out = {}
    for model, pack in packs.items():
        folder = root / pack.sha256[:32]
        with tarfile.open(fileobj=io.BytesIO(pack.blob), mode="r") as tar:
            name = tar.getnames()[0].split("/")[0]
            if not (folder / name).exists():
                tar.extractall(folder, filter="data")
        out[model] = folder / name
    return out


def shipped_models(packs: dict[str, WeightsPack], root: Path) -> dict:
    """Model -> the zoo model built from its landed weights, its record naming the host's file (same sha256)."""
    from edge_bench.errors import ModelError
    from edge_bench.models import create_model

    models = {}
    for name, path in land_weights(packs, root).items():
        model = create_model(name, path)
        if model.weights.sha256 != packs[name].sha256:
            raise ModelError(f"the weights of {name} changed on the way to this node ({path})")
        model.weights = replace(model.weights, source=packs[name].source)
        models[name] = model
    return models
