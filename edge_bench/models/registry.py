"""The student zoo's registry: names to builders, with wildcard listing.

Families register their entries with `register_model`; `create_model` builds
one by name and, given a file, loads its weights.
"""

from __future__ import annotations

import fnmatch
import importlib
import importlib.metadata
import warnings
from pathlib import Path

from edge_bench.errors import ModelError
from edge_bench.models.base import ClipModel, ModelSpec

_REGISTRY: dict[str, ModelSpec] = {}
_LOADED = False


BUILTIN_FAMILIES = ("edge_bench.models.builtin", "edge_bench.models.openclip", "edge_bench.models.tinyclip")
"""Family modules that register the built-in entries; they come in through the same door as plugins."""
PLUGIN_GROUP = "edge_bench.models"
"""Entry-point group of third-party families: each names a module that calls `register_model` on import."""


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add an entry; a second entry of the same name replaces it, with a warning."""
    if spec.name in _REGISTRY:
        warnings.warn(f"model {spec.name!r} registered twice; the last one wins", stacklevel=2)
    _REGISTRY[spec.name] = spec
    return spec


def _load_families() -> None:
    global _LOADED
    if _LOADED:
        return
    # Each family module registers its entries on import. The flag is set after
    # the imports: a second thread arriving meanwhile waits on the import lock
    # instead of seeing a half-filled registry.
    for name in BUILTIN_FAMILIES:
        importlib.import_module(name)
    for entry in importlib.metadata.entry_points(group=PLUGIN_GROUP):
        entry.load()
    _LOADED = True


def list_models(pattern: str | None = None) -> list[str]:
    """Registered names, in registration order, optionally filtered by a wildcard."""
    _load_families()
    names = list(_REGISTRY)
    if pattern:
        names = [n for n in names if fnmatch.fnmatch(n.lower(), pattern.lower())]
    return names


def get_spec(name: str) -> ModelSpec:
    """The registry entry of a name; an unknown name is a ModelError."""
    _load_families()
    spec = _REGISTRY.get(name)
    if spec is None:
        close = [n for n in _REGISTRY if n.lower() == name.lower()]
        hint = f"did you mean {close[0]!r}?" if close else "run `edge-bench models` to list them"
        raise ModelError(f"unknown model {name!r}", hint=hint)
    return spec


UNTRAINED = "untrained"
"""A `weights` value: the entry's random initialisation, ignoring any weights it ships with."""


def create_model(name: str, weights: str | Path | None = None) -> ClipModel:
    """Build a zoo entry in eval mode; `weights` loads a checkpoint from disk, or is UNTRAINED."""
    spec = get_spec(name)
    if spec.requires:
        from edge_bench import _torchvision_compat  # noqa: F401  (before anything imports torchvision)
    for module in spec.requires:
        try:
            __import__(module)
        except ImportError as exc:
            raise ModelError(
                f"model {name!r} needs the Python package {module!r} ({exc})",
                hint="pip install 'edge-bench[models]'",
            ) from None
    if weights is not None and str(weights) == UNTRAINED:
        model = spec.builder(UNTRAINED) if spec.builtin_weights else spec.builder(None)
    else:
        path = Path(weights).expanduser() if weights is not None else None
        if path is not None and not path.exists():
            raise ModelError(f"weights not found: {path}")
        model = spec.builder(path)
    model.name = name
    return model.eval()
