"""Running artifacts on this machine: one runner per file, and whole-split encoding.

`host_embed` encodes every image and caption of a split with an artifact set's
gallery artifacts (the largest batch size converted; the last partial batch is
padded and the padding dropped), so recall can be computed from what the
converted artifact computes rather than from PyTorch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from edge_bench.converters.artifact import ArtifactSet
from edge_bench.converters.base import Runner, get_converter
from edge_bench.converters.samples import run_batched
from edge_bench.data import RetrievalSet
from edge_bench.errors import ConfigError


def load_artifact(path: Path, backend: str, threads: int = 1) -> Runner:
    """A numpy-in, numpy-out runner of one artifact file on this machine.

    ExecuTorch's thread pool is process-wide: it is resized here, before the
    program loads, and runners loaded earlier then share the new size. To time
    several thread counts, load each in a fresh process (bench/convert_table.py does).
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"artifact not found: {path}")
    if threads < 1:
        raise ConfigError(f"threads must be at least 1, got {threads}")
    converter = get_converter(backend)
    converter.ensure_available()
    return converter.load(path, threads=threads)


def host_embed(
    artifact_set: ArtifactSet,
    dataset: RetrievalSet,
    threads: int = 1,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(image embeddings (N, D), caption embeddings (M, D)) of a split, computed by the artifacts."""
    from edge_bench.data.preprocess import normalize, preprocess_images
    from edge_bench.models.base import Preprocess

    manifest = artifact_set.manifest
    pp = manifest["preprocess"]
    preprocess = Preprocess(pp["size"], tuple(pp["mean"]), tuple(pp["std"]), pp["interpolation"])
    pixels = preprocess_images(dataset, preprocess)
    tokens = np.asarray(manifest_tokenizer(manifest)(dataset.captions), dtype=np.int32)
    image = _encode(artifact_set, "image", pixels, threads, progress, lambda x: normalize(x, pp["mean"], pp["std"]))
    text = _encode(artifact_set, "text", tokens, threads, progress, lambda x: x)
    return image, text


def manifest_tokenizer(manifest: dict):
    """The tokenizer an artifact set was converted with, rebuilt from its manifest."""
    from edge_bench import _torchvision_compat  # noqa: F401  (open_clip's tokenizer imports torchvision)
    from edge_bench.models.tokenizers import tokenizer_from_config

    return tokenizer_from_config(manifest["tokenizer"])


def _encode(artifact_set: ArtifactSet, tower: str, items: np.ndarray, threads: int, progress, prepare) -> np.ndarray:
    batch = artifact_set.batch_sizes(tower)[-1]
    runner = load_artifact(artifact_set.artifact(tower, batch), artifact_set.backend, threads)
    done = [0]

    def on_batch(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(f"{tower}s", done[0], len(items))

    def run(chunk: np.ndarray) -> np.ndarray:
        return runner(np.ascontiguousarray(prepare(chunk)))

    return run_batched(run, items, batch, on_batch)
