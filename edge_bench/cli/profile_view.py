"""Tables of a job's per-operator profiles: the roll-up by block per tower, the top operators, the placement.

They read the typed record only (`TowerResult.profile`), like every other table.
"""

from __future__ import annotations

from rich.table import Table

from edge_bench.profile.model import BLOCKS, TowerProfile


def _ms(value: float | None, fmt: str = "{:.3f}") -> str:
    return "-" if value is None else fmt.format(value)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def coverage(p: TowerProfile) -> str:
    """The coverage, with its upper end when kernels read in whole microseconds leave time outside the sum."""
    if p.coverage_upper is None:
        return _pct(p.coverage)
    return f"{_pct(p.coverage)}, up to {_pct(p.coverage_upper)} with {p.floored_kernels} kernels' sub-microsecond remainders"


def summary_line(tower: str, p: TowerProfile) -> str:
    """One line: coverage, time outside the delegate, delegate calls, the pass's overhead on the job's wall time."""
    if p.status != "ok":
        return f"{tower}: profile {p.status}: {p.reason}"
    parts = [f"{tower}: {p.source}, {p.runs} runs"]
    if p.op_total_ms is not None:
        parts.append(f"operators {p.op_total_ms:.3f} ms vs timed median {_ms(p.timed_median_ms)} ms (coverage {coverage(p)})")
    if p.execute_ms is not None:
        parts.append(f"profiled execute {p.execute_ms:.3f} ms" + ("" if p.explained is None else f", {_pct(p.explained)} of it in operator events"))
    if p.outside_delegate_ms is not None:
        parts.append(f"outside the delegate {p.outside_delegate_ms:.3f} ms ({_pct(p.outside_delegate_ms / p.timed_median_ms if p.timed_median_ms else None)})")
    if p.delegate_calls is not None:
        parts.append(f"{p.delegate_calls} delegate {'partitions' if p.source in ('placement', 'litert-profiler') else 'calls'}")
    if p.wall_s is not None:
        parts.append(f"pass {p.wall_s:.2f} s = {_pct(p.overhead_share)} of the tower job's wall time")
    return "; ".join(parts)


def blocks_table(label: str, towers: dict[str, TowerProfile]) -> Table:
    """The roll-up: one row per block, per tower its ms and share of the timed median, and what of it ran outside the delegate."""
    table = Table(title=f"{label}: time by block (share of the timed median)")
    table.add_column("block")
    for tower in towers:
        for column in (f"{tower} ms", "share", "outside"):
            table.add_column(column, justify="right")
    names: list[str] = []
    for p in towers.values():
        names.extend(b.block for b in p.blocks if b.block not in names)
    # every block any tower has, in the roll-up's display order (a block of one tower only, such as the text
    # tower's token embedding, in its place rather than after the other tower's last block); unknown names last
    names.sort(key=lambda name: BLOCKS.index(name) if name in BLOCKS else len(BLOCKS))
    for name in names:
        cells = [name]
        for p in towers.values():
            b = p.block(name)
            cells += ["-", "-", "-"] if b is None else [_ms(b.ms), _pct(b.share), _ms(b.outside_delegate_ms) if b.outside_delegate_ms else ""]
        table.add_row(*cells)
    totals = ["sum of operators"]
    for p in towers.values():
        upper = "" if p.coverage_upper is None else f" (up to {_pct(p.coverage_upper)})"
        totals += [_ms(p.op_total_ms), _pct(p.coverage) + upper, _ms(p.outside_delegate_ms)]
    table.add_row(*totals, style="bold")
    return table


def ops_table(label: str, tower: str, p: TowerProfile, top: int = 15) -> Table:
    """The slowest operator rows of one tower (all rows are stored with the job)."""
    table = Table(title=f"{label} {tower}: top {top} of {len(p.ops)} operators")
    for column, justify in (("#", "right"), ("operator", "left"), ("where", "left"), ("block", "left"), ("module", "left"),
                            ("median ms", "right"), ("share", "right")):
        table.add_column(column, justify=justify)
    ranked = sorted(enumerate(p.ops), key=lambda item: -(item[1].median_ms or 0.0))[:top]
    for index, row in ranked:
        share = row.median_ms / p.timed_median_ms if row.median_ms is not None and p.timed_median_ms else None
        table.add_row(str(index), row.name[:48], row.kind, row.block, row.module[:28], _ms(row.median_ms, "{:.4f}"), _pct(share))
    return table


def placement_table(label: str, tower: str, p: TowerProfile) -> Table:
    """Where the ops run: partitions, delegated and not, quantize/dequantize counts, the ops left outside."""
    pl = p.placement
    table = Table(title=f"{label} {tower}: placement")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key in ("partitions", "nodes", "delegated_nodes", "not_delegated_nodes", "quantize", "dequantize"):
        if key in pl:
            table.add_row(key.replace("_", " "), str(pl[key]))
    outside = pl.get("not_delegated_ops") or {}
    if outside:
        table.add_row("not delegated", ", ".join(f"{k} x{v}" for k, v in outside.items()))
    return table


def profile_tables(row, top: int = 15) -> list:
    """Everything shown for one stored job: per tower the summary line, the roll-up and the top operators or placement."""
    label = f"{row.model} {row.backend} {row.precision}"
    towers = {t: row.record.tower(t).profile for t in ("image", "text")}
    towers = {t: p for t, p in towers.items() if p is not None}
    if not towers:
        return [f"{label}: no profile stored (run with --profile)"]
    out: list = [summary_line(t, p) for t, p in towers.items()]
    timed = {t: p for t, p in towers.items() if p.status == "ok" and p.blocks}
    if timed:
        out.append(blocks_table(label, timed))
    for tower, p in towers.items():
        if p.status != "ok":
            continue
        if p.blocks:
            out.append(ops_table(label, tower, p, top))
        if p.placement:
            out.append(placement_table(label, tower, p))
        out.extend(p.notes)
    return out


CSV_COLUMNS = ("job", "model", "backend", "precision", "tower", "index", "operator", "where", "block", "module", "op_types",
               "median_ms", "mean_ms", "share_of_timed_median", "runs")


def ops_csv(rows) -> str:
    """Every stored per-operator row of the jobs, one CSV line each (CSV_COLUMNS)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        for tower in ("image", "text"):
            p = row.record.tower(tower).profile
            if p is None or p.status != "ok":
                continue
            for index, op in enumerate(p.ops):
                share = op.median_ms / p.timed_median_ms if op.median_ms is not None and p.timed_median_ms else None
                writer.writerow([row.id, row.model, row.backend, row.precision, tower, index, op.name, op.kind, op.block, op.module,
                                 ";".join(op.op_types), op.median_ms, op.mean_ms, share, op.n])
    return buffer.getvalue()
