"""What `edge-bench models` shows: each entry's size, measured once and cached."""

from __future__ import annotations

import json
from typing import Callable

from edge_bench.models.registry import create_model, get_spec, list_models


def _cache_path():
    from edge_bench import __version__, paths

    return paths.cache_dir() / f"model-catalog-{__version__}.json"


def describe(name: str) -> dict:
    """Build an entry once and describe it (parameters per tower, shapes, weights)."""
    model = create_model(name)
    counts = model.parameter_counts()
    return {
        "name": name,
        "family": model.family,
        "image_params": counts["image"],
        "text_params": counts["text"],
        "image_size": model.preprocess.size,
        "embed_dim": model.embed_dim,
        "context_length": model.context_length,
        "weights": model.weights.status,
        "weights_sha256": model.weights.sha256,
    }


def describe_all(pattern: str | None = None, on_build: Callable[[str], None] | None = None) -> list[dict]:
    """Descriptions of the matching entries; built-in weights changes invalidate the cache."""
    path = _cache_path()
    try:
        cache = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        cache = {}
    rows, dirty = [], False
    for name in list_models(pattern):
        spec = get_spec(name)
        key = f"{name}:{_weights_stamp(spec)}"
        if key not in cache:
            if on_build:
                on_build(name)
            cache[key] = describe(name)
            dirty = True
        rows.append(cache[key])
    if dirty:
        from edge_bench import paths

        tmp = paths.partial_path(path)  # two processes filling the catalog at once never mix their writes
        tmp.write_text(json.dumps(cache, indent=1))
        tmp.replace(path)
    return rows


def _weights_stamp(spec) -> str:
    if not spec.builtin_weights:
        return "none"
    from edge_bench.models.builtin import builtin_weights_path

    path = builtin_weights_path(spec.builtin_weights)
    return f"{path.stat().st_size}-{int(path.stat().st_mtime)}" if path else "absent"
