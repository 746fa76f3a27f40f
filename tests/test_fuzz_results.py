"""Property-based fuzzing (hypothesis) of the host's result parser and checks: no traceback, every failure one line.

Whatever a device sends back (bytes that are not JSON, JSON of any shape, the agent's fields with any values,
any .npy file) either passes and then converts to a typed TowerResult without error, or raises InvalidResult
with one line. The fast suite runs 200 cases (50 of each property); `-m slow` runs 10,000 of each.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_bench.executors.results import partial_figures, tower_result
from edge_bench.executors.validate import FIELDS, InvalidResult, check_result, load_embeddings, parse_result

SUBKEYS = ["n", "seconds", "capped_by", "complete", "batch", "n_items", "items_per_s", "wall_s", "load_s", "batch_latency_s",
           "first_inference_s", "n_batches", "padded_items", "warmup", "units", "peak_rss_bytes", "peak_rss_source",
           "rss_before_load_bytes", "before", "after", "governor", "freq_khz", "throttled", "absent", "backend", "name",
           "version", "threads_applied", "file", "shape", "dtype", "zone0"]
STATUS = st.sampled_from(["ok", "failed", "running"])
numbers = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.floats(), st.floats(min_value=0, max_value=10),
                    st.integers(min_value=0, max_value=100))
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=20), STATUS)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(SUBKEYS), inner, max_size=4),
                           max_leaves=8)
GOOD = {"schema": 1, "job_id": "j", "status": "ok", "error": None, "phase": "done", "latency_s": [0.001, 0.002, 0.0015],
        "first_inference_s": 0.003, "load_s": 0.1, "warmup": {"n": 2, "seconds": 0.01}, "timed": {"n": 3, "seconds": 0.01, "complete": True},
        "gallery": {"batch": 4, "n_items": 8, "items_per_s": 100.0, "wall_s": 0.1, "batch_latency_s": [0.01, 0.01]},
        "memory": {"units": "bytes", "peak_rss_bytes": 2**26, "peak_rss_source": "VmHWM"}, "thermal": {"before": {"zone0": 40.0}, "after": {}},
        "runtime": {"backend": "tflite", "name": "ai-edge-litert", "threads_applied": 2}, "threads": 2, "affinity": [],
        "embeddings": {"file": "embeddings.npy", "shape": [8, 4], "dtype": "float32"}}
"""An agent result that passes: the fuzzers change one to three of its fields, or build results from scratch."""
KEYS = st.sampled_from([*FIELDS, "status", "extra"])
plausible = st.one_of(st.none(), st.floats(0, 1e7), st.integers(0, 10**18), st.just(0), st.booleans(), st.text(max_size=4),
                      st.lists(st.floats(0, 1e7) | st.integers(0, 10**7), max_size=5))


def nested(good: dict, path: tuple[str, str], value) -> dict:
    top, sub = path
    inner = good.get(top)
    return {**good, top: {**inner, sub: value} if isinstance(inner, dict) else value}


SUBPATHS = st.sampled_from([(k, s) for k, v in GOOD.items() if isinstance(v, dict) for s in [*v, *SUBKEYS[:12]]] + [(k, k) for k in FIELDS])
results = st.one_of(
    st.lists(st.tuples(SUBPATHS, plausible), min_size=1, max_size=4).map(lambda kvs: _apply(GOOD, kvs)),  # type-right, edge values
    st.lists(st.tuples(KEYS, json_values), min_size=1, max_size=3).map(lambda kvs: {**GOOD, **dict(kvs)}),
    st.lists(st.tuples(KEYS, json_values), max_size=6).map(lambda kvs: {"status": "ok", **dict(kvs)}),
)

def _apply(good: dict, changes) -> dict:
    for path, value in changes:
        good = nested(good, path, value) if path[0] != path[1] else {**good, path[0]: value}
    return good


def dumps(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


raw_results = st.one_of(results.map(dumps), json_values.map(dumps), st.binary(max_size=200),
                        st.text(max_size=200).map(str.encode), results.map(lambda d: dumps(d)[: len(dumps(d)) // 2]))


def one_line(exc: InvalidResult) -> None:
    line = exc.one_line()
    assert line and "\n" not in line and "\r" not in line and len(line) < 500, line
    assert exc.status == "failed" and exc.phase == "result"


def parse_property(raw: bytes) -> None:
    try:
        data = parse_result(raw)
    except InvalidResult as exc:
        one_line(exc)
        return
    tower = tower_result(data, 1e6, 10.0, ceiling_gflops=5.0)  # a result that passed converts without error
    assert tower.status == "ok"
    partial_figures(data)


def check_property(value) -> None:
    try:
        check_result(value)
    except InvalidResult as exc:
        one_line(exc)
        return
    tower_result(value, None, None)


def npy_file(draw_bytes: bytes, shape: tuple[int, ...], dtype: str, cut: int, fortran: bool) -> bytes:
    buffer = io.BytesIO()
    array = np.frombuffer((draw_bytes * (1 + int(np.prod(shape)) * 8 // max(1, len(draw_bytes))))[: int(np.prod(shape)) * np.dtype(dtype).itemsize]
                          or b"", dtype=dtype).reshape(shape) if draw_bytes else np.zeros(shape, dtype=dtype)
    np.save(buffer, np.asfortranarray(array) if fortran else array)
    data = buffer.getvalue()
    return data[: len(data) - cut] if cut else data


npy_bytes = st.one_of(
    st.builds(npy_file, st.binary(min_size=0, max_size=64), st.tuples(st.integers(0, 6), st.integers(0, 5)) | st.tuples(st.integers(0, 4)),
              st.sampled_from(["<f4", ">f4", "<f8", "<i4", "|u1", "<f2"]), st.integers(0, 12), st.booleans()),
    st.binary(max_size=300),
    st.binary(max_size=40).map(lambda b: b"\x93NUMPY\x01\x00" + len(b).to_bytes(2, "little") + b),
)


def embeddings_property(folder: Path, content: bytes, name: str, n_items: int | None, declared) -> None:
    (folder / "e.npy").write_bytes(content)
    result = {"embeddings": {"file": name, "shape": declared}}
    try:
        array = load_embeddings(folder, result, n_items)
    except InvalidResult as exc:
        one_line(exc)
        return
    assert array.dtype == np.float32 and array.ndim == 2 and np.isfinite(array).all()
    assert n_items is None or array.shape[0] == n_items


names = st.one_of(st.just("e.npy"), st.sampled_from(["../e.npy", "/etc/passwd", ".", "..", "", "e.npy/", "sub/e.npy", "e.npy\0"]),
                  st.text(max_size=12))


def run(count: int) -> None:
    opts = settings(max_examples=count, deadline=None, database=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
    opts(given(raw_results)(parse_property))()
    opts(given(json_values)(check_property))()
    opts(given(results)(check_property))()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.symlink("/dev/null", folder / "null.npy")
        opts(given(npy_bytes, names | st.just("null.npy"), st.none() | st.integers(0, 6),
                   st.none() | st.lists(st.integers(-1, 6), max_size=3))(
            lambda content, name, n, declared: embeddings_property(folder, content, name, n, declared)))()


def test_fuzz_result_parsing_200_cases():
    run(50)  # 50 cases of each of the four properties


@pytest.mark.slow
def test_fuzz_result_parsing_10000_cases_each():
    run(10_000)
