"""ExecuTorch: an ETDump read through the ETRecord written at conversion, as a per-operator table.

`executorch.devtools.Inspector` gives the events of every profiled
`Method::execute` in run order: `OPERATOR_CALL` (a portable kernel, outside
the delegate; its nested `native_call_*` is skipped), the XNNPACK kernels of a
delegate call (listed before the `DELEGATE_CALL` that wraps them) and
`DELEGATE_CALL` itself. The ETRecord maps each operator and delegate call to
the student's module path, so kernels are placed in the student's blocks: a
kernel takes the module of the next graph node of the same kind inside its
delegate call ('Fully Connected' <- aten.linear, 'Softmax' <- aten._softmax).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .blocks import place, roll_up
from .model import OpRow, TowerProfile

KERNEL_NODES = (
    ("Fully Connected", ("linear", "addmm", "mm")), ("Convolution", ("convolution", "conv")),
    ("Batch Matrix Multiply", ("bmm", "matmul")), ("Softmax", ("softmax",)), ("GELU", ("gelu",)),
    ("Add", ("add",)), ("Multiply", ("mul",)), ("Subtract", ("sub",)), ("Divide", ("div",)),
    ("Square Root", ("sqrt",)), ("Transpose", ("permute", "transpose")), ("Static Reshape", ("view", "reshape")),
    ("Copy", ("expand", "clone", "copy")), ("Concatenate", ("cat",)), ("Slice", ("slice",)),
)
"""XNNPACK kernel name prefix -> fragments of the aten node names it comes from."""


def etrecord_path(pte: Path) -> Path:
    """Where the converter writes a .pte's ETRecord: beside it, same stem."""
    return Path(pte).with_suffix(".etrecord")


def _module(hierarchy: dict | None) -> tuple[str, str]:
    """(path, class) of the deepest module in an nn_module_stack-like dict."""
    if not hierarchy:
        return "", ""
    path, cls = list(hierarchy.values())[-1]
    return str(path), str(cls).rsplit(".", 1)[-1]


def _nodes(event) -> list[tuple[str, str, str]]:
    """(node name, module path, module class) of a delegate call's graph nodes, in graph order."""
    out = []
    for name, stack in (event.module_hierarchy or {}).items():
        out.append((str(name), *_module(stack)))
    return out


def _kernel_module(kernel: str, nodes: list, used: set) -> tuple[str, str] | None:
    for prefix, fragments in KERNEL_NODES:
        if kernel.startswith(prefix):
            for i, (name, path, cls) in enumerate(nodes):
                if i not in used and any(f in name for f in fragments):
                    used.add(i)
                    return path, cls
            return None
    return None


def _main_module(nodes: list) -> tuple[str, str]:
    """The delegate call's module for kernels no node matches: its first non-root node's."""
    for _, path, cls in nodes:
        if path:
            return path, cls
    return ("", "")


def _stat(event) -> tuple[float | None, float | None, int]:
    perf = event.perf_data
    if perf is None or not perf.raw:
        return None, None, 0
    return float(perf.p50), float(perf.avg), len(perf.raw)


def _per_run(events) -> tuple[list[float], list[float]] | None:
    """(Method::execute, the sum of its operator and delegate-call events) per profiled run, in ms; None when unaligned."""
    execute = next((list(ev.perf_data.raw) for ev in events if ev.name == "Method::execute" and ev.perf_data), None)
    tops = [list(ev.perf_data.raw) for ev in events if ev.name in ("OPERATOR_CALL", "DELEGATE_CALL") and ev.perf_data]
    if not execute or not tops or any(len(t) != len(execute) for t in tops):
        return None
    return execute, [sum(t[i] for t in tops) for i in range(len(execute))]


def explained(events) -> float | None:
    """Median over runs of the top-level events' time (operator and delegate calls) over Method::execute's, per run."""
    import statistics

    runs = _per_run(events)
    ratios = [inside / total for total, inside in zip(*runs) if total > 0] if runs else []
    return statistics.median(ratios) if ratios else None


def runtime_overhead_ms(events) -> float | None:
    """Median over runs of Method::execute's time outside every operator and delegate call (the runtime's own).

    Per run, so a run preempted inside some operator does not count as runtime overhead."""
    import statistics

    runs = _per_run(events)
    return statistics.median(max(0.0, total - inside) for total, inside in zip(*runs)) if runs else None


def event_rows(events) -> tuple[list[OpRow], dict[str, str], float | None, int]:
    """(rows in run order, module classes by path, Method::execute median ms, delegate calls) from Inspector events."""
    rows: list[OpRow] = []
    classes: dict[str, str] = {}
    kernels: list = []
    execute_ms, calls, native = None, 0, ""
    for ev in events:
        median, mean, n = _stat(ev)
        if ev.name == "Method::execute":
            execute_ms = median
        elif ev.is_delegated_op:
            kernels.append((ev.name, median, mean, n))
        elif ev.name == "DELEGATE_CALL":
            calls += 1
            nodes, used = _nodes(ev), set()
            main = _main_module(nodes)
            inside = 0.0
            for name, k_median, k_mean, k_n in kernels:
                path, cls = _kernel_module(name, nodes, used) or main
                classes.setdefault(path, cls)
                rows.append(OpRow(name=name, kind="delegate", module=path, median_ms=k_median, mean_ms=k_mean, n=k_n))
                inside += k_median or 0.0
            kernels = []
            backend = ev.delegate_backend_name or "delegate"
            rest = max(0.0, (median or 0.0) - inside)
            rows.append(OpRow(name=f"{backend} call", kind="delegate-call", module=main[0], op_types=tuple(ev.op_types or ()),
                              median_ms=rest, mean_ms=None if mean is None else max(0.0, mean - inside), n=n))
        elif ev.name == "OPERATOR_CALL":
            stacks = list((ev.module_hierarchy or {}).values())  # node name -> that node's module stack
            path, cls = _module(stacks[-1]) if stacks else ("", "")
            classes.setdefault(path, cls)
            ops = tuple(ev.op_types or ())
            if native:  # the kernel that ran: an op's debug handle may cover several graph nodes (unrolled heads)
                ops = tuple(o for o in ops if o.split(".")[1:2] == [native]) or (f"aten.{native}",)
            rows.append(OpRow(name=native or _op_name(ops), kind="portable", module=path, op_types=ops,
                              median_ms=median, mean_ms=mean, n=n))
            native = ""
        elif ev.name.startswith("native_call_"):
            native = ev.name[len("native_call_"):].rsplit(".", 1)[0]
    return rows, classes, execute_ms, calls


def _op_name(op_types) -> str:
    ops = list(op_types or ())
    if not ops:
        return "operator"
    first = ops[0].replace("aten.", "").rsplit(".", 1)[0]
    return first if len(ops) == 1 else f"{first} (+{len(ops) - 1} fused)"


def read_etdump(etdump: Path, etrecord: Path | None, tower: str, timed_median_ms: float | None) -> TowerProfile:
    """The profile of one ETDump: per-operator rows placed in blocks, the roll-up, coverage, time outside the delegate."""
    from executorch.devtools import Inspector

    has_record = etrecord is not None and Path(etrecord).exists()
    inspector = Inspector(etdump_path=str(etdump), etrecord=str(etrecord) if has_record else None,
                          enable_module_hierarchy=has_record)
    events = [ev for block in inspector.event_blocks if block.name == "Execute" for ev in block.events]
    return profile_from_events(events, tower, timed_median_ms, has_record)


def profile_from_events(events, tower: str, timed_median_ms: float | None, has_record: bool = True) -> TowerProfile:
    """The profile from Inspector events (split from `read_etdump` so a test can feed events it built)."""
    rows, classes, execute_ms, calls = event_rows(events)
    rows = place(rows, tower, classes)
    op_total = sum(r.median_ms or 0.0 for r in rows)
    runtime_overhead = runtime_overhead_ms(events)
    if runtime_overhead is None:  # no per-run data: what the medians leave
        runtime_overhead = max(0.0, (execute_ms or 0.0) - op_total)
    portable = sum(r.median_ms or 0.0 for r in rows if r.kind == "portable")
    runs = max((r.n for r in rows), default=0)
    floored = sum(1 for r in rows if r.kind == "delegate")
    notes = () if has_record else ("no ETRecord beside the artifact: blocks from operator names only",)
    if floored:  # XNNPACK hands its kernels' times over in whole microseconds; the delegate call's own row keeps the rest
        held = min(floored * 1e-3, sum(r.median_ms or 0.0 for r in rows if r.kind == "delegate-call"))
        notes += (f"XNNPACK kernel times are whole microseconds rounded down: up to {held:.3f} ms of kernel "
                  "time sits in 'delegate overhead'",)
    return TowerProfile(
        source="etdump", runs=runs, ops=tuple(rows), blocks=roll_up(rows, timed_median_ms, runtime_overhead),
        op_total_ms=op_total, execute_ms=execute_ms, timed_median_ms=timed_median_ms,
        outside_delegate_ms=portable + runtime_overhead, delegate_calls=calls, notes=notes, explained=explained(events),
        floored_kernels=floored,
    )


def with_files(profile: TowerProfile, **files: Path) -> TowerProfile:
    return replace(profile, files={**profile.files, **{k: str(v) for k, v in files.items()}})
