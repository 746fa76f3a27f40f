"""LiteRT: the events of LiteRT's C profiler (the agent's `litert-ops.json`) as a per-operator table.

Each profiled inference holds one `Invoke` event, one event per XNNPACK kernel
(its operator index within its partition's runtime, in run order, partition
after partition) and one per node TFLite runs itself (its node index). A
kernel is placed in the student's module through the node it was made from:
within a partition, XNNPACK's operators follow the delegated nodes in order
(one per node, a reshape or a LayerNorm part each its own), so the kernel
names ('Fully Connected (NC, QS8, QC8W) GEMM') are aligned with the node
types (FULLY_CONNECTED) and a kernel takes the module litert-torch wrote into
its node's tensor name. Times are whole microseconds (XNNPACK truncates).
"""

from __future__ import annotations

import difflib
import json
import statistics
from pathlib import Path

from .blocks import place, roll_up
from .model import OpRow, TowerProfile
from .tflite_names import module_of

EVENT_OP, EVENT_DELEGATE_OP, EVENT_DELEGATE_PROFILED_OP = 2, 4, 8
KERNEL_TYPES = (
    ("Fully Connected", "FULLY_CONNECTED"), ("Batch Matrix Multiply", "BATCH_MATMUL"), ("Convolution", "CONV_2D"),
    ("Softmax", "SOFTMAX"), ("GELU", "GELU"), ("Add", "ADD"), ("Subtract", "SUB"), ("Multiply", "MUL"),
    ("Divide", "DIV"), ("Squared Difference", "SQUARED_DIFFERENCE"), ("Reciprocal Square Root", "RSQRT"),
    ("Square Root", "SQRT"), ("Mean", "MEAN"), ("Normalize", "SUM"), ("Sum", "SUM"), ("Transpose", "TRANSPOSE"),
    ("Static Reshape", "RESHAPE"), ("Copy", "CONCATENATION"), ("Concatenate", "CONCATENATION"), ("Slice", "SLICE"),
    ("Convert", "QUANTIZE"), ("Sigmoid", "LOGISTIC"), ("Tanh", "TANH"), ("HardSwish", "HARD_SWISH"),
    ("Average Pooling", "AVERAGE_POOL_2D"), ("Max Pooling", "MAX_POOL_2D"), ("Constant Pad", "PAD"),
    ("Maximum", "MAXIMUM"), ("Minimum", "MINIMUM"), ("Clamp", "RELU"),
)
"""XNNPACK kernel name prefix -> the TFLite node type it is made from (first match wins)."""
SAME_NODE = {"DEQUANTIZE": "QUANTIZE", "STRIDED_SLICE": "SLICE", "DEPTHWISE_CONV_2D": "CONV_2D", "RELU6": "RELU",
             "REDUCE_MAX": "MEAN", "SUM": "SUM", "EXPAND_DIMS": "RESHAPE", "SQUEEZE": "RESHAPE"}
"""Node types XNNPACK makes the same kernel from."""


def kernel_type(name: str) -> str:
    """The TFLite node type an XNNPACK kernel comes from ('' when unknown)."""
    return next((node for prefix, node in KERNEL_TYPES if name.startswith(prefix)), "")


def _node_type(op: str) -> str:
    return SAME_NODE.get(op, op)


def _stats(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), statistics.fmean(values)


def _partitions(placement: dict) -> dict[int, list[tuple[str, str]]]:
    """partition -> its nodes in run order as (node type, tensor name), from the placement's run order."""
    parts: dict[int, list[tuple[str, str]]] = {}
    for entry in placement.get("run_order") or ():
        entry = list(entry) + ["", -1, -1]
        op, inside, tensor, part = str(entry[0]), bool(entry[1]), str(entry[2]), entry[3]
        if inside and isinstance(part, int) and part >= 0:
            parts.setdefault(part, []).append((op, tensor))
    return parts


def _nodes_by_index(placement: dict) -> dict[int, tuple[str, str]]:
    out = {}
    for entry in placement.get("run_order") or ():
        entry = list(entry) + ["", -1, -1]
        if isinstance(entry[4], int) and entry[4] >= 0:
            out[entry[4]] = (str(entry[0]), str(entry[2]))
    return out


def align(kernels: list[str], nodes: list[tuple[str, str]]) -> list[str]:
    """For each kernel of one partition (in operator order), the tensor name of the node it comes from: kernel
    types aligned with node types (difflib); a kernel left unmatched takes its predecessor's node."""
    wanted = [kernel_type(k) or f"?{k}" for k in kernels]
    have = [_node_type(op) for op, _ in nodes]
    tensors = [""] * len(kernels)
    matcher = difflib.SequenceMatcher(None, wanted, have, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            tensors[block.a + k] = nodes[block.b + k][1]
    for i in range(1, len(tensors)):
        tensors[i] = tensors[i] or tensors[i - 1]
    return tensors


def _runs(data: dict) -> list[list[tuple[int, str, int, int, int]]]:
    tags = list(data.get("tags") or ())
    return [[(int(e[0]), tags[int(e[1])], int(e[2]), int(e[3]), int(e[4])) for e in run] for run in data.get("runs") or ()]


def _op_keys(run: list[tuple]) -> list[tuple]:
    """The run's operator events as ((kind, partition or node, index, name), elapsed µs); XNNPACK's operator index
    restarting marks the next partition."""
    out, partition, last = [], -1, None
    for kind, tag, elapsed, m1, m2 in run:
        if kind in (EVENT_DELEGATE_PROFILED_OP, EVENT_DELEGATE_OP):
            if last is None or m1 <= last:
                partition += 1
            last = m1
            out.append((("delegate", partition, m1, tag), elapsed))
        elif kind == EVENT_OP:
            last = None
            out.append((("portable", m2, m1, tag), elapsed))
    return out


def profile_from_events(data: dict, placement: dict, tower: str, timed_median_ms: float | None) -> TowerProfile:
    """The tower's profile from the profiler's events and the interpreter's placement."""
    runs = [r for r in _runs(data) if any(kind == 1 and tag == "Invoke" for kind, tag, *_ in r)]
    samples: dict[tuple, list[float]] = {}
    order: list[tuple] = []
    totals, invokes = [], []
    for run in runs:
        ops = _op_keys(run)
        for key, elapsed in ops:
            if key not in samples:
                samples[key] = []
                order.append(key)
            samples[key].append(elapsed / 1e3)
        totals.append(sum(e for _, e in ops) / 1e3)
        invokes.append(sum(e for kind, tag, e, *_ in run if kind == 1 and tag == "Invoke") / 1e3)
    parts, by_index = _partitions(placement), _nodes_by_index(placement)
    kernels: dict[int, list[tuple]] = {}
    for key in order:
        if key[0] == "delegate":
            kernels.setdefault(key[1], []).append(key)
    tensor_of: dict[tuple, str] = {}
    for partition, keys in kernels.items():
        for key, tensor in zip(keys, align([k[3] for k in keys], parts.get(partition, []))):
            tensor_of[key] = tensor
    rows, classes = [], {}
    for key in order:
        kind, _, index, name = key
        if kind == "portable":
            op, tensor = by_index.get(index, (name, ""))
        else:
            op, tensor = kernel_type(name) or name, tensor_of.get(key, "")
        path, cls = module_of(tensor, op)
        classes.setdefault(path, cls)
        median, mean = _stats(samples[key])
        rows.append(OpRow(name=name, kind=kind, module=path, op_types=(op,), median_ms=median, mean_ms=mean, n=len(samples[key])))
    rows = place(rows, tower, classes)
    execute_ms = statistics.median(invokes) if invokes else None
    overhead = statistics.median(max(0.0, i - t) for i, t in zip(invokes, totals)) if invokes else 0.0
    op_total = sum(r.median_ms or 0.0 for r in rows)
    portable = sum(r.median_ms or 0.0 for r in rows if r.kind == "portable")
    explained = statistics.median(t / i for i, t in zip(invokes, totals) if i > 0) if any(invokes) else None
    floored = sum(1 for r in rows if r.kind == "delegate")
    slack = min(floored * 1e-3, overhead)  # each kernel's sub-microsecond remainder is in Invoke's, not in an event
    notes = ("LiteRT's CompiledModel profiler (libLiteRt), the timed interpreter's XNNPACK kernels; times are whole "
             f"microseconds rounded down, so kernels under 1 us read 0 and up to {slack:.3f} ms of kernel time "
             "sits in 'runtime overhead'",)
    return TowerProfile(source="litert-profiler", runs=len(runs), ops=tuple(rows), blocks=roll_up(rows, timed_median_ms, overhead),
                        op_total_ms=op_total, execute_ms=execute_ms, timed_median_ms=timed_median_ms,
                        outside_delegate_ms=portable + overhead, explained=explained, delegate_calls=placement.get("partitions"),
                        placement={k: v for k, v in placement.items() if k != "run_order"},
                        floored_kernels=floored, floor_slack_ms=slack, notes=notes)


def read_events(path: Path, placement: dict, tower: str, timed_median_ms: float | None) -> TowerProfile:
    """The profile of one `litert-ops.json` written by the agent."""
    return profile_from_events(json.loads(Path(path).read_text()), placement, tower, timed_median_ms)
