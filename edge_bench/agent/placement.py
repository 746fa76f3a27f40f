"""LiteRT placement: which ops a delegate took, in how many partitions, and what stayed on TFLite's kernels.

Once an interpreter has applied a delegate (XNNPACK, at allocate_tensors),
its node list holds the model's original nodes and, appended, one DELEGATE
node per partition whose inputs and outputs are the partition's boundary
tensors. A partition's members are the original nodes reached walking back
from its outputs until its inputs (constants have no producer). Standard
library only: this runs on the device.
"""

from __future__ import annotations

from collections import Counter

QUANTIZE_OPS = ("QUANTIZE", "DEQUANTIZE")


def partitions(ops: list[dict]) -> list[set[int]]:
    """Member node indices of each DELEGATE node, from `Interpreter._get_ops_details()`-style dicts."""
    producer: dict[int, int] = {}
    for op in ops:
        if op["op_name"] != "DELEGATE":
            for t in op.get("outputs", ()):
                producer[int(t)] = int(op["index"])
    by_index = {int(op["index"]): op for op in ops}
    found = []
    for op in ops:
        if op["op_name"] != "DELEGATE":
            continue
        boundary = {int(t) for t in op.get("inputs", ())}
        members: set[int] = set()
        stack = [int(t) for t in op.get("outputs", ())]
        while stack:
            node = producer.get(stack.pop())
            if node is None or node in members:
                continue
            members.add(node)
            stack.extend(int(t) for t in by_index[node].get("inputs", ()) if int(t) >= 0 and int(t) not in boundary)
        found.append(members)
    return found


def placement(ops: list[dict], tensor_names: dict[int, str] | None = None) -> dict:
    """Partitions, delegated and not-delegated op counts by type, quantize/dequantize counts, the ops in run order
    as [type, delegated, first output tensor's name (litert-torch names tensors after the module stack),
    partition (its DELEGATE node's order; -1 outside), node index]."""
    parts = partitions(ops)
    delegated = set().union(*parts) if parts else set()
    partition_of = {node: k for k, members in enumerate(parts) for node in members}
    original = [op for op in ops if op["op_name"] != "DELEGATE"]
    inside = Counter(op["op_name"] for op in original if int(op["index"]) in delegated)
    outside = Counter(op["op_name"] for op in original if int(op["index"]) not in delegated)
    return {
        "partitions": len(parts),
        "partition_sizes": [len(p) for p in parts],
        "nodes": len(original),
        "delegated_nodes": sum(inside.values()),
        "not_delegated_nodes": sum(outside.values()),
        "delegated_ops": dict(sorted(inside.items())),
        "not_delegated_ops": dict(sorted(outside.items())),
        "quantize": sum((inside + outside)[name] for name in QUANTIZE_OPS[:1]),
        "dequantize": sum((inside + outside)[name] for name in QUANTIZE_OPS[1:]),
        "run_order": [[op["op_name"], int(op["index"]) in delegated, _name(op, tensor_names or {}),
                       partition_of.get(int(op["index"]), -1), int(op["index"])] for op in original],
    }


def _name(op: dict, names: dict[int, str]) -> str:
    outputs = [int(t) for t in op.get("outputs", ()) if int(t) >= 0]
    return names.get(outputs[0], "") if outputs else ""
