"""`convert`: one model to one backend at one precision, proven against eager, cached.

Per tower and batch size: export and lower (the backend's stages), write the
file, read its interface back and check it, run it on real inputs against
eager PyTorch (where this machine can run it), and record everything in the
set's manifest. A set is keyed by the model's weights, the backend, the
precision, the calibration inputs and the tool versions; a cached artifact
whose file still matches its sha256 is not converted again.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from edge_bench import paths
from edge_bench.converters import parity as _parity
from edge_bench.converters.artifact import (
    SCHEMA,
    ArtifactSet,
    cache_key,
    check_file,
    path_sha256,
    path_size,
    read_manifest,
    replace_path,
    set_folder,
    state_sha256,
    write_manifest,
)
from edge_bench.converters.base import Converter, TowerJob, check_precision, get_converter
from edge_bench.converters.export import count_flops, eager, first_line, package_version
from edge_bench.converters.samples import TOWERS, Samples, batches, default_dataset, real_samples, run_batched
from edge_bench.data import RetrievalSet
from edge_bench.errors import ConfigError, ConversionError, EdgeBenchError
from edge_bench.models import ClipModel

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total)."""
PIPELINE_VERSION = 2
"""Bumped when what the pipeline records changes (2: FLOPs include fused attention), so caches rebuild."""


def convert(
    model: ClipModel,
    backend: str,
    precision: str,
    out_root: Path | None = None,
    batch_sizes: Sequence[int] = (1, 8),
    dataset: RetrievalSet | None = None,
    progress: Progress | None = None,
) -> ArtifactSet:
    """Convert both towers of a model, one artifact per batch size, checked against eager."""
    from edge_bench import paths

    converter = resolve(backend, precision)
    sizes = _batch_sizes(batch_sizes)
    samples = real_samples(model, dataset if dataset is not None else default_dataset())
    settings = _settings(model, converter, precision, samples)
    key = cache_key(settings)
    root = Path(out_root) if out_root is not None else paths.cache_dir() / "artifacts"
    folder = set_folder(root, model.name, backend, precision, key)
    with exclusive(folder):  # a lab run's devices convert the same key at once: one converts, the others then find it cached
        manifest = read_manifest(folder)
        if manifest is None or manifest.get("key") != key:
            manifest = _new_manifest(model, converter, precision, samples, settings, key)
        units = [(tower, batch) for tower in TOWERS for batch in sizes]
        stage = f"{backend} {precision}"
        for done, (tower, batch) in enumerate(units):
            if progress is not None:
                progress(stage, done, len(units))
            _ensure_artifact(converter, model, manifest, folder, tower, batch, samples)
            write_manifest(folder, manifest)
        if progress is not None:
            progress(stage, len(units), len(units))
        return ArtifactSet.load(folder)


_KEY_LOCKS: dict[str, threading.Lock] = {}
_KEY_LOCKS_GUARD = threading.Lock()
_EXPORT_LOCK = threading.Lock()
"""One conversion at a time in this process, whatever the key (a lab run's devices converting different keys)."""


@contextmanager
def exclusive(folder: Path) -> Iterator[None]:
    """Hold a set's folder alone: a lock per key for this process's threads, and an flock on a file
    beside the folder for other processes (two `edge-bench` commands converting the same key)."""
    with _KEY_LOCKS_GUARD:
        lock = _KEY_LOCKS.setdefault(str(folder), threading.Lock())
    with lock, open(folder.parent / f".{folder.name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def resolve(backend: str, precision: str) -> Converter:
    """The converter of a backend that offers a precision and is installed, else a one-line error."""
    converter = get_converter(backend)
    check_precision(precision)
    if precision not in converter.precisions:
        raise ConfigError(
            f"backend {backend!r} does not offer precision {precision!r}",
            hint=f"{backend} offers {', '.join(converter.precisions)}",
        )
    converter.ensure_available()
    return converter


def _batch_sizes(batch_sizes: Sequence[int]) -> list[int]:
    try:
        sizes = sorted({int(b) for b in batch_sizes})
    except (TypeError, ValueError):
        sizes = []
    if not sizes or sizes[0] < 1:
        raise ConfigError(f"batch sizes must be positive integers, got {list(batch_sizes)!r}")
    return sizes


def _settings(model: ClipModel, converter: Converter, precision: str, samples: Samples) -> dict:
    """Everything that determines the artifacts (hashed into the cache key)."""
    return {
        "schema": SCHEMA,
        "pipeline": PIPELINE_VERSION,
        "model": model.name,
        "state_sha256": state_sha256(model.image_encoder, model.text_encoder),
        "backend": converter.name,
        "settings_version": converter.settings_version,
        "precision": precision,
        "samples": samples.fingerprint,
        "versions": _versions(converter),
    }


def _versions(converter: Converter) -> dict:
    import edge_bench

    return {"torch": package_version("torch"), **converter.versions(), "edge_bench": edge_bench.__version__}


def _new_manifest(model: ClipModel, converter: Converter, precision: str, samples: Samples, settings: dict, key: str) -> dict:
    return {
        "schema": SCHEMA,
        "model": model.name,
        "family": model.family,
        "weights": {
            "status": model.weights.status,
            "sha256": model.weights.sha256,
            "source": model.weights.source,
            "state_sha256": settings["state_sha256"],
        },
        "backend": converter.name,
        "precision": precision,
        "scheme": converter.schemes.get(precision, precision),
        "embed_dim": int(model.embed_dim),
        "preprocess": model.preprocess.as_dict(),
        "tokenizer": model.tokenizer.config(),
        "runs_on": list(converter.runs_on),
        "towers": {},
        "samples": {
            "source": samples.source,
            "calibration": {t: len(samples.calibration[t]) for t in TOWERS} if precision == "int8" else {},
            "parity": {t: len(samples.parity[t]) for t in TOWERS},
        },
        "versions": settings["versions"],
        "key": key,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _job(model: ClipModel, tower: str, batch: int, precision: str, samples: Samples) -> TowerJob:
    module = model.image_encoder if tower == "image" else model.text_encoder
    calibration = [chunk for chunk, _ in batches(samples.calibration[tower], batch)] if precision == "int8" else []
    example = next(batches(samples.parity[tower], batch))[0]
    return TowerJob(tower=tower, module=module, example=example, calibration=calibration, precision=precision)


def _ensure_artifact(converter: Converter, model: ClipModel, manifest: dict, folder: Path, tower: str, batch: int, samples: Samples) -> None:
    """Convert, check and record one tower at one batch size, unless cached and intact."""
    entry = manifest["towers"].setdefault(tower, {"artifacts": []})
    cached = [a for a in entry["artifacts"] if a["batch"] == batch]
    if cached and check_file(folder, cached[0]):
        return
    job = _job(model, tower, batch, manifest["precision"], samples)
    context = f"{model.name} {tower} tower, {converter.name} {job.precision}, batch {batch}"
    path = folder / f"{tower}-b{batch}{converter.suffix}"
    with _EXPORT_LOCK:  # torch.export keeps global state: two threads exporting at once break each other
        record = _convert_checked(converter, job, path, model.embed_dim, samples.parity[tower], context)
    entry["artifacts"] = sorted([a for a in entry["artifacts"] if a["batch"] != batch] + [record], key=lambda a: a["batch"])
    if "flops" not in entry:
        entry["flops"] = count_flops(job.module, samples.parity[tower][:1])
    entry["parity"] = _parity.worst([a["parity"] for a in entry["artifacts"]])
    entry["delegation"] = entry["artifacts"][0]["delegation"]
    entry["convert_s"] = round(sum(a["convert_s"] for a in entry["artifacts"]), 3)


def _convert_checked(converter: Converter, job: TowerJob, path: Path, embed_dim: int, parity_inputs: np.ndarray, context: str) -> dict:
    """The backend's conversion, then interface and parity checks; a failure removes the file."""
    tmp = paths.partial_path(path)
    started = time.perf_counter()
    try:
        delegation = converter.convert(job, tmp)
    except EdgeBenchError as exc:
        _remove(tmp, converter.sidecars)
        raise ConversionError(f"{context}: {exc.message}", hint=exc.hint) from None
    except Exception as exc:  # the toolchains raise many kinds
        _remove(tmp, converter.sidecars)
        raise ConversionError(f"{context}: conversion failed ({type(exc).__name__}: {first_line(exc)})") from None
    convert_s = time.perf_counter() - started
    replace_path(tmp, path)
    for suffix in converter.sidecars:  # e.g. the ETRecord beside a .pte
        if tmp.with_suffix(suffix).exists():
            replace_path(tmp.with_suffix(suffix), path.with_suffix(suffix))
    try:
        inspected = converter.inspect(path)
        problems = converter.check_spec(inspected, job, embed_dim)
        if problems:
            raise ConversionError(f"{context}: the artifact's interface is wrong: {problems[0]}")
        parity = _check_parity(converter, path, job, parity_inputs)
        if parity["status"] == "fail":
            raise ConversionError(
                f"{context}: parity failed, cosine {parity['cosine_min']:.6f} < {parity['threshold']} against eager PyTorch",
                hint="the backend computes something other than the model; see the op list in the manifest",
            )
    except EdgeBenchError:
        _remove(path)
        raise
    except Exception as exc:  # a runtime that cannot load or run what the converter wrote
        _remove(path)
        raise ConversionError(f"{context}: the artifact does not run ({type(exc).__name__}: {first_line(exc)})") from None
    return {
        "file": path.name,
        "batch": job.batch,
        "sha256": path_sha256(path),
        "size_bytes": path_size(path),
        "inputs": inspected["inputs"],
        "outputs": inspected["outputs"],
        "ops": inspected.get("ops") or delegation.get("ops", {}),
        "parity": parity,
        "delegation": delegation,
        "convert_s": round(convert_s, 3),
    }


def _check_parity(converter: Converter, path: Path, job: TowerJob, inputs: np.ndarray) -> dict:
    """Artifact vs eager on real inputs, or 'not run' where the artifact cannot run here."""
    if not converter.can_run_here():
        return dict(_parity.not_run(), spec_checks="passed: inputs, outputs, ops, weight dtypes")
    outputs = run_batched(converter.load(path, threads=None), inputs, job.batch)
    return _parity.judge(job.precision, _parity.compare(outputs, eager(job.module, inputs)))


def _remove(path: Path, sidecars: tuple[str, ...] = ()) -> None:
    for suffix in sidecars:
        _remove(path.with_suffix(suffix))
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()
