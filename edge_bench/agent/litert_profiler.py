"""LiteRT per-operator times through the C profiler of `libLiteRt.so` (ai-edge-litert 2.x), with ctypes.

ai-edge-litert's Python API has no op profiler, but the library it ships exports
LiteRT's C API, whose CompiledModel carries one: with the runtime option
`enable_profiling` set before the model is compiled, each inference records one
event per operator, each XNNPACK kernel inside the delegate included
('Fully Connected (NC, F32) GEMM', with its operator index in the partition),
and one per node TFLite runs itself (with its node index). Times are whole
microseconds. The struct layouts are those of LiteRT's headers
(`litert/c/litert_profiler_event.h`, `litert_layout.h`, `litert_model_types.h`)
at 2.3.0, for 64-bit platforms.

Standard library and numpy only: this runs on the device. The agent runs it as a
script in a child process (`python litert_profiler.py MODEL INPUT.npy OUT.json
--runs N --threads T`), so a library whose ABI differs can only cost the
profile, never the job. It writes the raw events per run; the host reads them
(`edge_bench.profile.litert_events`).
"""

from __future__ import annotations

import argparse
import ctypes as C
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

SCHEMA = 1
EVENT_OP, EVENT_DELEGATE_OP, EVENT_DELEGATE_PROFILED_OP, FIRST_TELEMETRY = 2, 4, 8, 32
"""LiteRtProfilerEventType values: a node TFLite runs itself (metadata1 = node index, metadata2 = subgraph), a
delegate's kernel (metadata1 = its operator index in the delegate's runtime); TELEMETRY* and above carry no time."""
RUN_MARKER = "LiteRT::Run[buffer registration]"
"""The event each `LiteRtRunCompiledModel` call starts with."""
_CPU = 1  # kLiteRtHwAcceleratorCpu
_RANKED = 0  # kLiteRtRankedTensorType
_LOCK_WRITE = 1
_MAX_RANK = 8
_DTYPES = {1: np.float32, 2: np.int32, 3: np.uint8, 4: np.int64, 7: np.int16, 9: np.int8, 10: np.float16}
"""LiteRtElementType -> numpy dtype, for the inputs edge-bench feeds."""


class ProfilerError(Exception):
    """The library cannot profile this model here (one line)."""


class _Layout(C.Structure):
    _fields_ = [("rank", C.c_uint, 7), ("has_strides", C.c_uint, 1),
                ("dimensions", C.c_int32 * _MAX_RANK), ("strides", C.c_uint32 * _MAX_RANK)]


class _TensorType(C.Structure):
    _fields_ = [("element_type", C.c_int), ("layout", _Layout)]


class _Memory(C.Structure):
    _fields_ = [("total", C.c_size_t), ("in_use", C.c_size_t), ("private_footprint", C.c_size_t)]


class _Event(C.Structure):
    _fields_ = [("tag", C.c_void_p), ("event_type", C.c_int), ("start_us", C.c_uint64), ("elapsed_us", C.c_uint64),
                ("begin_mem", _Memory), ("end_mem", _Memory), ("metadata1", C.c_uint64), ("metadata2", C.c_uint64),
                ("source", C.c_int)]


_P, _SZ = C.c_void_p, C.c_size_t
_PP = C.POINTER(C.c_void_p)
_SIGNATURES = {
    "LiteRtCreateEnvironment": [C.c_int, _P, _PP],
    "LiteRtCreateModelFromFile": [_P, C.c_char_p, _PP],
    "LiteRtGetModelSignature": [_P, _SZ, _PP],
    "LiteRtGetNumSignatureInputs": [_P, C.POINTER(_SZ)],
    "LiteRtGetNumSignatureOutputs": [_P, C.POINTER(_SZ)],
    "LiteRtGetSignatureInputTensorByIndex": [_P, _SZ, _PP],
    "LiteRtGetSignatureOutputTensorByIndex": [_P, _SZ, _PP],
    "LiteRtGetTensorTypeId": [_P, C.POINTER(C.c_int)],
    "LiteRtGetRankedTensorType": [_P, C.POINTER(_TensorType)],
    "LiteRtCreateOptions": [_PP],
    "LiteRtSetOptionsHardwareAccelerators": [_P, C.c_int],
    "LiteRtCreateOpaqueOptions": [C.c_char_p, _P, _P, _PP],
    "LiteRtAddOpaqueOptions": [_P, _P],
    "LiteRtCreateCompiledModel": [_P, _P, _P, _PP],
    "LiteRtGetCompiledModelInputBufferRequirements": [_P, _SZ, _SZ, _PP],
    "LiteRtGetCompiledModelOutputBufferRequirements": [_P, _SZ, _SZ, _PP],
    "LiteRtGetCompiledModelInputTensorLayout": [_P, _SZ, _SZ, C.POINTER(_Layout)],
    "LiteRtRunCompiledModel": [_P, _SZ, _SZ, _PP, _SZ, _PP],
    "LiteRtCompiledModelGetProfiler": [_P, _PP],
    "LiteRtCreateManagedTensorBufferFromRequirements": [_P, C.POINTER(_TensorType), _P, _PP],
    "LiteRtGetTensorBufferSize": [_P, C.POINTER(_SZ)],
    "LiteRtLockTensorBuffer": [_P, _PP, C.c_int],
    "LiteRtUnlockTensorBuffer": [_P],
    "LiteRtStartProfiler": [_P],
    "LiteRtStopProfiler": [_P],
    "LiteRtResetProfiler": [_P],
    "LiteRtGetNumProfilerEvents": [_P, C.POINTER(C.c_int)],
    "LiteRtGetProfilerEvents": [_P, C.c_int, C.POINTER(_Event)],
}
_DESTROY = ("LiteRtDestroyEnvironment", "LiteRtDestroyModel", "LiteRtDestroyOptions", "LiteRtDestroyCompiledModel",
            "LiteRtDestroyTensorBuffer")


def library_path() -> Path | None:
    """libLiteRt.so inside the installed ai_edge_litert package (None: not installed, or a build without it)."""
    import importlib.util

    spec = importlib.util.find_spec("ai_edge_litert")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for name in ("libLiteRt.so", "libLiteRt.dylib"):
            if (Path(folder) / name).is_file():
                return Path(folder) / name
    return None


def _bind(path: Path):
    if C.sizeof(C.c_void_p) != 8:
        raise ProfilerError("the LiteRT profiler's struct layouts are those of 64-bit platforms")
    lib = C.CDLL(str(path))
    for name, args in _SIGNATURES.items():
        fn = getattr(lib, name, None)
        if fn is None:
            raise ProfilerError(f"{path.name} has no {name}: not the LiteRT C API this profiler knows")
        fn.argtypes, fn.restype = args, C.c_int
    for name in _DESTROY:
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = [_P], None
    return lib


class _Session:
    """One compiled model with profiling on, its input and output buffers."""

    def __init__(self, lib, path: str, threads: int) -> None:
        self.lib = lib
        self.env, self.model, self.options, self.compiled, self.profiler = _P(), _P(), _P(), _P(), _P()
        self.buffers: list[_P] = []
        libc = C.CDLL(None)
        libc.strdup.restype, libc.strdup.argtypes = _P, [C.c_char_p]
        self._free = C.cast(libc.free, _P)
        self._strdup = libc.strdup
        self.call("LiteRtCreateEnvironment", 0, None, C.byref(self.env))
        self.call("LiteRtCreateModelFromFile", self.env, os.fsencode(os.path.abspath(path)), C.byref(self.model))
        self.call("LiteRtCreateOptions", C.byref(self.options))
        self.call("LiteRtSetOptionsHardwareAccelerators", self.options, _CPU)
        # the runtime and XNNPACK options as LiteRT's own helpers serialise them (TOML under a fixed identifier)
        self._opaque("runtime_options_string", "enable_profiling = true\n")
        self._opaque("xnnpack", f"num_threads = {int(threads)}\n")
        self.call("LiteRtCreateCompiledModel", self.env, self.model, self.options, C.byref(self.compiled))
        self.call("LiteRtCompiledModelGetProfiler", self.compiled, C.byref(self.profiler))  # owned by the compiled model
        if not self.profiler.value:
            raise ProfilerError("the compiled model has no profiler (enable_profiling was not applied)")

    def call(self, name: str, *args) -> None:
        status = getattr(self.lib, name)(*args)
        if status != 0:
            raise ProfilerError(f"{name} returned LiteRT status {status}")

    def _opaque(self, identifier: str, toml: str) -> None:
        handle = _P()
        self.call("LiteRtCreateOpaqueOptions", identifier.encode(), self._strdup(toml.encode()), self._free, C.byref(handle))
        self.call("LiteRtAddOpaqueOptions", self.options, handle)  # the options own it from here

    def _tensor_type(self, tensor: _P) -> _TensorType:
        kind = C.c_int()
        self.call("LiteRtGetTensorTypeId", tensor, C.byref(kind))
        if kind.value != _RANKED:
            raise ProfilerError("the model has an unranked input or output")
        value = _TensorType()
        self.call("LiteRtGetRankedTensorType", tensor, C.byref(value))
        return value

    def bind(self, inputs: list[np.ndarray]) -> tuple:
        """Buffers for the first signature's inputs (filled with `inputs`) and outputs: the run's argument arrays."""
        signature, n_in, n_out = _P(), _SZ(), _SZ()
        self.call("LiteRtGetModelSignature", self.model, 0, C.byref(signature))
        self.call("LiteRtGetNumSignatureInputs", signature, C.byref(n_in))
        self.call("LiteRtGetNumSignatureOutputs", signature, C.byref(n_out))
        if n_in.value != len(inputs):
            raise ProfilerError(f"the model takes {n_in.value} inputs, the job gives {len(inputs)}")
        made = []
        for i in range(n_in.value):
            tensor = _P()
            self.call("LiteRtGetSignatureInputTensorByIndex", signature, i, C.byref(tensor))
            kind = self._tensor_type(tensor)
            self.call("LiteRtGetCompiledModelInputTensorLayout", self.compiled, 0, i, C.byref(kind.layout))
            buffer = self._buffer(kind, "LiteRtGetCompiledModelInputBufferRequirements", i)
            self._fill(buffer, kind, inputs[i])
            made.append(buffer)
        outs = []
        for i in range(n_out.value):
            tensor = _P()
            self.call("LiteRtGetSignatureOutputTensorByIndex", signature, i, C.byref(tensor))
            outs.append(self._buffer(self._tensor_type(tensor), "LiteRtGetCompiledModelOutputBufferRequirements", i))
        return (_P * len(made))(*[b.value for b in made]), (_P * len(outs))(*[b.value for b in outs])

    def _buffer(self, kind: _TensorType, requirements: str, index: int) -> _P:
        needs, buffer = _P(), _P()
        self.call(requirements, self.compiled, 0, index, C.byref(needs))  # owned by the compiled model
        self.call("LiteRtCreateManagedTensorBufferFromRequirements", self.env, C.byref(kind), needs, C.byref(buffer))
        self.buffers.append(buffer)
        return buffer

    def _fill(self, buffer: _P, kind: _TensorType, array: np.ndarray) -> None:
        dtype = _DTYPES.get(kind.element_type)
        shape = [kind.layout.dimensions[k] for k in range(kind.layout.rank)]
        if dtype is None:
            raise ProfilerError(f"input element type {kind.element_type} is not one edge-bench feeds")
        if list(np.shape(array)) != shape:
            raise ProfilerError(f"input of shape {list(np.shape(array))} for a tensor of shape {shape}")
        data = np.ascontiguousarray(np.asarray(array, dtype=dtype))
        size, address = _SZ(), _P()
        self.call("LiteRtGetTensorBufferSize", buffer, C.byref(size))
        if data.nbytes > size.value:
            raise ProfilerError(f"input of {data.nbytes} bytes for a buffer of {size.value}")
        self.call("LiteRtLockTensorBuffer", buffer, C.byref(address), _LOCK_WRITE)
        C.memmove(address, data.ctypes.data, data.nbytes)
        self.call("LiteRtUnlockTensorBuffer", buffer)

    def events(self) -> list[tuple]:
        """(type, tag, elapsed_us, metadata1, metadata2) of every event recorded since the profiler started."""
        count = C.c_int()
        self.call("LiteRtGetNumProfilerEvents", self.profiler, C.byref(count))
        if count.value <= 0:
            return []
        raw = (_Event * count.value)()
        self.call("LiteRtGetProfilerEvents", self.profiler, count.value, raw)
        signed = lambda v: v - (1 << 64) if v >= (1 << 63) else v  # noqa: E731  (metadata are int64 in the header)
        return [(e.event_type, C.string_at(e.tag).decode(errors="replace") if e.tag else "", int(e.elapsed_us),
                 signed(e.metadata1), signed(e.metadata2)) for e in raw]

    def close(self) -> None:
        """Buffers, then the compiled model (it owns the profiler), options, model, environment."""
        for buffer in self.buffers:
            self.lib.LiteRtDestroyTensorBuffer(buffer)
        for name, handle in (("LiteRtDestroyCompiledModel", self.compiled), ("LiteRtDestroyOptions", self.options),
                             ("LiteRtDestroyModel", self.model), ("LiteRtDestroyEnvironment", self.env)):
            if handle.value:
                getattr(self.lib, name)(handle)


def profile(path: str, inputs: list[np.ndarray], runs: int, threads: int, warmup: int = 3) -> dict:
    """`runs` profiled inferences after `warmup` unprofiled ones: the events of each run and its wall time."""
    library = library_path()
    if library is None:
        raise ProfilerError("ai_edge_litert ships no libLiteRt here")
    session = _Session(_bind(library), path, threads)
    try:
        ins, outs = session.bind(inputs)

        def run() -> None:
            session.call("LiteRtRunCompiledModel", session.compiled, 0, len(ins), ins, len(outs), outs)

        for _ in range(max(1, warmup)):
            run()
        session.call("LiteRtResetProfiler", session.profiler)
        session.call("LiteRtStartProfiler", session.profiler)  # Reset leaves it stopped; Start clears and records
        walls = []
        for _ in range(max(1, runs)):
            start = time.perf_counter_ns()
            run()
            walls.append((time.perf_counter_ns() - start) / 1e3)
        session.call("LiteRtStopProfiler", session.profiler)
        events = session.events()
    finally:
        session.close()
    tags: dict[str, int] = {}
    per_run: list[list] = []
    for kind, tag, elapsed, m1, m2 in events:
        if tag == RUN_MARKER or not per_run:
            per_run.append([])
        if kind < FIRST_TELEMETRY:  # telemetry events' "elapsed" is a status, not a time
            per_run[-1].append([kind, tags.setdefault(tag, len(tags)), elapsed, m1, m2])
    return {"schema": SCHEMA, "library": library.name, "threads": int(threads), "warmup": max(1, warmup),
            "tags": list(tags), "runs": per_run, "wall_us": walls}


def main(argv: list[str] | None = None) -> int:
    """Script entry: profile a model on the inputs of an .npy file, write the events as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("inputs", help=".npy holding the one input")
    parser.add_argument("out", help="where the events go (JSON)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        data = profile(args.model, [np.load(args.inputs)], args.runs, args.threads)
    except ProfilerError as exc:
        print(f"litert-profiler: {exc}", file=sys.stderr)
        return 3
    except Exception as exc:  # anything else the library or numpy raised, in one line
        print(f"litert-profiler: {type(exc).__name__}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 3
    tmp = Path(args.out).with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
