"""The host's checks of what a device sends back: result.json and its embeddings file.

A device is not trusted: its `result.json` is read only below a size cap, must be one JSON object of the agent
protocol's shape (docs/agent-protocol.md, "Result") with finite numbers of sane size, and the embeddings file
it names must be a plain file name inside the job's output folder holding a float32 (N, D) array of exactly
the split's N items, every value finite. Anything else raises `InvalidResult`: the tower (so the job) fails
with a one-line reason, and the run goes on. The checks cover every field the host reads, so that
`edge_bench.executors.results.tower_result` never meets a value it cannot take.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any, Callable

import numpy as np

from edge_bench.executors.base import TowerFailed

RESULT_MAX_BYTES = 16 * 2**20
"""A result.json larger than this is refused unread (a real one is well under 1 MB: 100,000 samples are ~2 MB)."""
MAX_DEPTH = 8
MAX_TEXT = 4096
"""The longest string a result may hold (an error line, a version, a path)."""
MAX_NUMBER = 1e18
"""No figure of a result is larger (bytes, counts, seconds): larger is garbage, and would overflow statistics."""
MAX_SECONDS = 1e7
MAX_EMBEDDING_DIM = 65536
STATUSES = ("running", "ok", "failed")


class InvalidResult(TowerFailed):
    """What the device sent back is not a result the host can use; the tower fails in phase 'result'."""

    def __init__(self, reason: str) -> None:
        super().__init__("failed", "result", " ".join(reason.split()))


def read_result(path: Path) -> dict:
    """The pulled result.json, checked (InvalidResult); OSError (FileNotFoundError) when there is none."""
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        raise InvalidResult(f"{path.name} from the device is not a regular file")
    if info.st_size > RESULT_MAX_BYTES:
        raise InvalidResult(f"{path.name} from the device is {info.st_size:,} bytes, over the {RESULT_MAX_BYTES:,}-byte limit")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        raw = handle.read(RESULT_MAX_BYTES + 1)
    if len(raw) > RESULT_MAX_BYTES:
        raise InvalidResult(f"{path.name} from the device grew over the {RESULT_MAX_BYTES:,}-byte limit while read")
    return parse_result(raw)


def parse_result(raw: bytes) -> dict:
    """result.json's bytes as a checked dict, or InvalidResult."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidResult(f"result.json from the device is not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InvalidResult(f"result.json from the device is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise InvalidResult(f"result.json from the device is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # a non-finite constant, an integer with thousands of digits
        raise InvalidResult(f"result.json from the device is not usable JSON: {_short(str(exc))}") from None
    return check_result(data)


def check_result(data: Any) -> dict:
    """`data` if it has the agent result's shape with sane values, else InvalidResult naming the first bad field."""
    if not isinstance(data, dict):
        raise InvalidResult(f"result.json from the device is a JSON {_kind(data)}, not an object")
    _walk(data, "", 0)
    if data.get("status") not in STATUSES:
        raise InvalidResult(f"result.json: status is {_show(data.get('status'))}, not one of {', '.join(STATUSES)}")
    for name, check in FIELDS.items():
        if name in data:
            check(data[name], name)
    return data


def load_embeddings(out_dir: Path, result: dict, n_items: int | None) -> np.ndarray:
    """The embeddings a checked result names: a float32 (N, D) .npy inside `out_dir`, N = `n_items`, all finite."""
    block = result.get("embeddings")
    if not isinstance(block, dict) or not isinstance(block.get("file"), str):
        raise InvalidResult("result.json names no embeddings file (embeddings.file)")
    name = block["file"]
    if not name or name in (".", "..") or any(c in name for c in "/\\\0") or os.path.isabs(name):
        raise InvalidResult(f"result.json: embeddings.file {_show(name)} is not a plain file name in the job's output folder")
    folder = out_dir.resolve()
    path = (out_dir / name).resolve()
    if path.parent != folder:
        raise InvalidResult(f"result.json: embeddings.file {_show(name)} leads out of the job's output folder")
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InvalidResult(f"the embeddings file {name} did not come back from the device ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise InvalidResult(f"the embeddings file {name} is not a regular file")
    with open(path, "rb") as handle:
        shape, dtype, fortran = _npy_header(handle, name)
        offset = handle.tell()
    if dtype != np.dtype("<f4") or len(shape) != 2:
        raise InvalidResult(f"the embeddings file {name} holds {dtype} {shape}, not float32 (N, D)")
    n, dim = shape
    if n_items is not None and n != n_items:
        raise InvalidResult(f"the embeddings file {name} has {n} rows, not one per item of the split ({n_items})")
    if not 1 <= dim <= MAX_EMBEDDING_DIM:
        raise InvalidResult(f"the embeddings file {name} has {dim} columns (1 to {MAX_EMBEDDING_DIM} expected)")
    declared = block.get("shape")
    if declared is not None and list(declared) != [n, dim]:
        raise InvalidResult(f"the embeddings file {name} is {n} x {dim}, not {declared} as result.json says")
    if info.st_size != offset + n * dim * 4:
        raise InvalidResult(f"the embeddings file {name} is {info.st_size:,} bytes, not {offset + n * dim * 4:,} for {n} x {dim} float32")
    array = np.fromfile(path, dtype="<f4", count=n * dim, offset=offset).reshape((n, dim), order="F" if fortran else "C")
    if not np.isfinite(array).all():
        raise InvalidResult(f"the embeddings file {name} holds NaN or infinite values")
    return np.ascontiguousarray(array, dtype=np.float32)


def npy_rows(path: Path) -> int:
    """The number of items of a host-side .npy (the split's inputs), from its header."""
    return int(np.load(path, mmap_mode="r").shape[0])


# --- the fields ------------------------------------------------------------------------------------------


def _fail(where: str, problem: str, value: Any = ...) -> None:
    shown = "" if value is ... else f" ({_show(value)})"
    raise InvalidResult(f"result.json: {where} {problem}{shown}")


def _number(value: Any, where: str, low: float = 0.0, high: float = MAX_NUMBER, none: bool = True) -> None:
    if value is None and none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(where, "is not a number", value)
    if not low <= value <= high:
        _fail(where, f"is out of range ({low:g} to {high:g})", value)


def _integer(value: Any, where: str, low: int = 0) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(where, "is not an integer", value)
    if not low <= value <= MAX_NUMBER:
        _fail(where, f"is out of range ({low} or more)", value)


def _text(value: Any, where: str) -> None:
    if value is not None and not isinstance(value, str):
        _fail(where, "is not a string", value)


def _flag(value: Any, where: str) -> None:
    if value is not None and not isinstance(value, bool):
        _fail(where, "is not true, false or null", value)


def _object(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        _fail(where, "is not an object", value)
    return value


def _seconds(value: Any, where: str) -> None:
    _number(value, where, 0.0, MAX_SECONDS)


def _samples(value: Any, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        _fail(where, "is not a list of seconds", value)
    for i, item in enumerate(value):
        _number(item, f"{where}[{i}]", 0.0, MAX_SECONDS, none=False)


def _ints(value: Any, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        _fail(where, "is not a list of integers", value)
    for i, item in enumerate(value):
        _integer(item, f"{where}[{i}]")
        if item is None:
            _fail(f"{where}[{i}]", "is null")


def _loop(value: Any, where: str) -> None:
    loop = _object(value, where)
    _integer(loop.get("n"), f"{where}.n")
    _seconds(loop.get("seconds"), f"{where}.seconds")
    _text(loop.get("capped_by"), f"{where}.capped_by")
    _flag(loop.get("complete"), f"{where}.complete")


def _gallery(value: Any, where: str) -> None:
    g = _object(value, where)
    _integer(g.get("batch"), f"{where}.batch", low=1)
    for key in ("n_items", "n_batches", "padded_items"):
        _integer(g.get(key), f"{where}.{key}")
    for key in ("wall_s", "load_s", "first_inference_s"):
        _seconds(g.get(key), f"{where}.{key}")
    _number(g.get("items_per_s"), f"{where}.items_per_s")
    _samples(g.get("batch_latency_s"), f"{where}.batch_latency_s")
    if "warmup" in g:
        _loop(g["warmup"], f"{where}.warmup")


def _scalars(value: Any, where: str) -> None:
    """An object of strings, numbers (finite, >= 0), booleans and nulls (memory, runtime, platform)."""
    for key, item in _object(value, where).items():
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            _number(item, f"{where}.{key}")
        elif item is not None and not isinstance(item, (str, bool)):
            _fail(f"{where}.{key}", "is not a string, number or boolean", item)


def _temperatures(value: Any, where: str) -> None:
    for key, item in _object(value, where).items():
        _number(item, f"{where}.{key}", -1e6, 1e6)


def _thermal(value: Any, where: str) -> None:
    t = _object(value, where)
    _temperatures(t.get("before"), f"{where}.before")
    _temperatures(t.get("after"), f"{where}.after")
    _text(t.get("governor"), f"{where}.governor")


def _embeddings(value: Any, where: str) -> None:
    e = _object(value, where)
    _text(e.get("file"), f"{where}.file")
    _text(e.get("dtype"), f"{where}.dtype")
    shape = e.get("shape")
    if shape is not None:
        if not isinstance(shape, list) or len(shape) != 2:
            _fail(f"{where}.shape", "is not [N, D]", shape)
        _ints(shape, f"{where}.shape")


FIELDS: dict[str, Callable[[Any, str], None]] = {
    "schema": _integer, "pid": _integer, "threads": lambda v, w: _integer(v, w, low=1),
    "job_id": _text, "phase": _text, "error": _text, "agent_version": _text, "started": _text, "finished": _text,
    "latency_s": _samples, "first_inference_s": _seconds, "load_s": _seconds, "verify_s": _seconds,
    "warmup": _loop, "timed": _loop, "gallery": _gallery,
    "memory": _scalars, "runtime": _scalars, "platform": _scalars, "protocol": _scalars, "verified": _scalars,
    "thermal": _thermal, "embeddings": _embeddings,
    "affinity": _ints, "affinity_applied": _ints, "sha256_verified": _flag,
}
"""Every field the host reads, with its check; other fields only pass the general checks (`_walk`)."""


def _walk(value: Any, where: str, depth: int) -> None:
    """General checks on every value: nesting depth, string length, finite numbers of sane size."""
    if depth > MAX_DEPTH:
        _fail(where or "the result", f"is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if len(key) > 200:
                _fail(where or "the result", "has a key longer than 200 characters")
            _walk(item, f"{where}.{key}" if where else key, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, f"{where}[{i}]", depth + 1)
    elif isinstance(value, str):
        if len(value) > MAX_TEXT:
            _fail(where, f"is a string of {len(value):,} characters (at most {MAX_TEXT:,})")
    elif isinstance(value, float):
        if not math.isfinite(value) or abs(value) > MAX_NUMBER:
            _fail(where, "is not a finite number of sane size", value)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
        _fail(where, "is an integer out of range", value)


def _npy_header(handle, name: str) -> tuple[tuple, np.dtype, bool]:
    try:
        version = np.lib.format.read_magic(handle)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(handle)
    except Exception as exc:  # numpy raises ValueError, and others on some garbage headers
        raise InvalidResult(f"the embeddings file {name} is not a readable .npy ({_short(str(exc))})") from None
    if not isinstance(shape, tuple) or not all(isinstance(s, int) and s >= 0 for s in shape):
        raise InvalidResult(f"the embeddings file {name} declares a bad shape")
    return shape, dtype, bool(fortran)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _kind(value: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def _show(value: Any) -> str:
    return _short(repr(value), 60)


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
