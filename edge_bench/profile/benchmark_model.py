"""TFLite benchmark_model's op profiling (`--enable_op_profiling=true`), from its stdout or its CSV file.

The tool prints TensorFlow's StatsCalculator tables (tensorflow/core/util/
stats_calculator.cc, tensorflow/lite/profiling/profile_summary_formatter.cc):
after "Operator-wise Profiling Info for Regular Benchmark Runs:", per graph a
"Run Order" table (`[node type] [start] [first] [avg ms] [%] [cdf%] [mem KB]
[times called] [Name]`, tab-separated and right-aligned; with
`--op_profiling_output_mode=csv` the same columns joined by ", "), then
"Top by Computation Time", "Summary by node type" and a
"Timings (microseconds): count=.. avg=.." line. A delegate's partition is one
row of the primary graph (node type `TfLiteXNNPackDelegate`: its summary
row); the kernels inside it follow under "Delegate internal:". Only the Run
Order tables are read (every node once, in run order); the initialization
section (ModifyGraphWithDelegate, AllocateTensors) is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .blocks import place, roll_up
from .model import OpRow, TowerProfile
from .tflite_names import module_of, node_name

_CSV_ROW = re.compile(r"^(?P<type>.+?), (?P<start>-?[\d.]+), (?P<first>-?[\d.]+), (?P<avg>-?[\d.]+), (?P<pct>-?[\d.]+|nan|-?inf)%, "
                      r"(?P<cdf>-?[\d.]+|nan|-?inf)%, (?P<mem>-?[\d.]+), (?P<times>\d+), (?P<name>.*)$")
_TIMINGS = re.compile(r"Timings \(microseconds\): (?P<body>.*)")
REGULAR = "Operator-wise Profiling Info for Regular Benchmark Runs"
INIT = "Profiling Info for Benchmark Initialization"


@dataclass(frozen=True)
class Node:
    """One Run Order row."""

    type: str
    name: str
    first_ms: float
    avg_ms: float
    percent: float | None
    times_called: int
    graph: str
    """'primary', 'subgraph N' or 'delegate' (the delegate's internal kernels)."""


@dataclass(frozen=True)
class OpProfile:
    """The parsed regular-runs section."""

    nodes: tuple[Node, ...] = ()
    timings: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per graph: count, first, curr, min, max, avg, std (microseconds) of the whole inference."""

    def graph(self, name: str) -> list[Node]:
        return [n for n in self.nodes if n.graph == name]


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value else None


def _row(line: str) -> list[str] | None:
    """[type, start, first, avg, pct, cdf, mem, times, name] of a table row in either format, else None."""
    m = _CSV_ROW.match(line.strip())
    if m:
        return [m[k] for k in ("type", "start", "first", "avg", "pct", "cdf", "mem", "times", "name")]
    parts = [p.strip() for p in line.split("\t")]
    while parts and parts[0] == "":
        parts.pop(0)
    if len(parts) == 9 and parts[4].endswith("%") and parts[7].isdigit() and _number(parts[3]) is not None:
        return [parts[0], parts[1], parts[2], parts[3], parts[4].rstrip("%"), parts[5].rstrip("%"), parts[6], parts[7], parts[8]]
    return None


def parse(text: str) -> OpProfile:
    """The regular runs' Run Order rows and Timings lines of a benchmark_model op profile (stdout or CSV)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if REGULAR in line), None)
    if start is None:  # a file with the regular runs only (no section headers)
        start = -1
        if any(INIT in line for line in lines):
            return OpProfile()
    nodes, timings, graph, table = [], {}, "primary", None
    for line in lines[start + 1:]:
        stripped = line.strip()
        if stripped.startswith("Primary graph"):
            graph = "primary"
        elif stripped.startswith("Subgraph (index:") and stripped.endswith(":"):
            graph = "subgraph " + stripped.split("index:")[1].split(")")[0].strip()
        elif stripped.startswith("Delegate internal"):
            graph = "delegate"
        if stripped.startswith("====="):
            table = stripped.strip("= ").strip()
            continue
        m = _TIMINGS.search(stripped)
        if m:
            timings[graph] = {k: float(v) for k, v in re.findall(r"(\w+)=(-?[\d.]+)", m["body"])}
            continue
        if table != "Run Order":
            continue
        row = _row(line)
        if row is None or row[0] in ("node type", "[node type]"):
            continue
        nodes.append(Node(type=row[0], name=row[8], first_ms=float(row[2]), avg_ms=float(row[3]), percent=_number(row[4]),
                          times_called=int(row[7]), graph=graph))
    return OpProfile(tuple(nodes), timings)


def is_delegate(node: Node) -> bool:
    """A primary-graph row that is a delegate's partition (its summary row)."""
    return "delegate" in node.type.lower()


def tower_profile(parsed: OpProfile, tower: str, timed_median_ms: float | None) -> TowerProfile:
    """Per-operator rows and the roll-up from a parsed op profile (benchmark_model reports averages, used as the medians).

    TFLite's own kernels are 'portable' rows; a delegate's internal kernels 'delegate' rows; each partition's time
    beyond its kernels (when the internal kernels are listed) a 'delegate-call' row.
    """
    primary = parsed.graph("primary")
    internal = parsed.graph("delegate")
    rows, classes = [], {}

    def add(node: Node, kind: str, ms: float | None = None) -> None:
        path, cls = module_of(node_name(node.name))
        classes.setdefault(path, cls)
        value = node.avg_ms * max(1, node.times_called) if ms is None else ms
        rows.append(OpRow(name=node.type, kind=kind, module=path, op_types=(node.type,), median_ms=value, mean_ms=value,
                          n=int(parsed.timings.get(node.graph, {}).get("count", 0))))

    partitions = [n for n in primary if is_delegate(n)]
    inside_total = sum(n.avg_ms * max(1, n.times_called) for n in internal)
    for node in primary:
        if not is_delegate(node):
            add(node, "portable")
    for node in internal:
        add(node, "delegate")
    partition_total = sum(n.avg_ms * max(1, n.times_called) for n in partitions)
    if partitions and internal:
        rows.append(OpRow(name=f"{partitions[0].type} call", kind="delegate-call", median_ms=max(0.0, partition_total - inside_total),
                          n=len(partitions)))
    elif partitions:  # no internal kernels listed: the partitions are the delegate's rows
        for node in partitions:
            add(node, "delegate")
    rows = place(rows, tower, classes)
    execute = parsed.timings.get("primary", {}).get("avg")
    execute_ms = execute / 1e3 if execute is not None else None
    op_total = sum(r.median_ms or 0.0 for r in rows)
    overhead = max(0.0, (execute_ms or 0.0) - op_total)
    portable = sum(r.median_ms or 0.0 for r in rows if r.kind == "portable")
    return TowerProfile(source="benchmark_model", runs=int(parsed.timings.get("primary", {}).get("count", 0)), ops=tuple(rows),
                        blocks=roll_up(rows, timed_median_ms, overhead), op_total_ms=op_total, execute_ms=execute_ms,
                        timed_median_ms=timed_median_ms, outside_delegate_ms=portable + overhead, delegate_calls=len(partitions),
                        explained=op_total / execute_ms if execute_ms else None,
                        notes=("benchmark_model reports per-operator averages",))


def flags(csv_path: str) -> list[str]:
    """benchmark_model's flags for an op profile written as CSV to `csv_path` (on the device)."""
    return ["--enable_op_profiling=true", "--op_profiling_output_mode=csv", f"--op_profiling_output_file={csv_path}"]
