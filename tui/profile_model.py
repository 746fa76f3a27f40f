"""What the TUI's profile view shows of a job, as plain data (no Textual): the roll-up rows and a stacked bar per tower."""

from __future__ import annotations

from edge_bench.profile.model import BLOCKS, TowerProfile

BAR_CHARS = dict(zip(BLOCKS, "PTAMNRJLDOx"))
"""One letter per block in the stacked bar (patch, token, attention, mlp, norms, residual, projection (J), layout,
delegate overhead, runtime overhead (O), other)."""


def profiled_towers(record) -> dict[str, TowerProfile]:
    """The towers of a record that have a profile, by name."""
    towers = {t: record.tower(t).profile for t in ("image", "text")}
    return {t: p for t, p in towers.items() if p is not None}


def block_rows(towers: dict[str, TowerProfile]) -> list[tuple[str, ...]]:
    """(block, then per tower: ms, share of the timed median) for every block any tower has, in BLOCKS order."""
    present = [b for b in BLOCKS if any(p.block(b) for p in towers.values())]
    rows = []
    for name in present:
        cells = [name]
        for p in towers.values():
            b = p.block(name)
            cells += ["-", "-"] if b is None else [f"{b.ms:.3f}", "-" if b.share is None else f"{b.share * 100:.1f}%"]
        rows.append(tuple(cells))
    return rows


def stacked_bar(p: TowerProfile, width: int = 60) -> str:
    """The roll-up as one bar of `width` cells, each block's letter repeated in proportion to its ms."""
    total = sum(b.ms for b in p.blocks)
    if total <= 0:
        return ""
    cells, used = [], 0.0
    for b in p.blocks:
        used += b.ms
        cells.append(BAR_CHARS.get(b.block, "?") * (round(used / total * width) - len("".join(cells))))
    return "".join(cells)


def summary(tower: str, p: TowerProfile) -> str:
    """One line per tower: what was profiled and what it explains."""
    if p.status != "ok":
        return f"{tower}: profile {p.status}: {p.reason}"
    if not p.blocks:
        pl = p.placement
        return (f"{tower}: placement only: {pl.get('partitions')} partition(s), {pl.get('delegated_nodes')}/{pl.get('nodes')} "
                f"nodes delegated, QUANTIZE {pl.get('quantize')}, DEQUANTIZE {pl.get('dequantize')}")
    coverage = "-" if p.coverage is None else f"{p.coverage * 100:.0f}%"
    if p.coverage_upper is not None:
        coverage += f", up to {p.coverage_upper * 100:.0f}% with the kernels' sub-microsecond remainders"
    return (f"{tower}: {p.source}, {p.runs} runs; operators {p.op_total_ms or 0:.3f} ms of the timed median "
            f"{p.timed_median_ms or 0:.3f} ms (coverage {coverage}); outside the delegate {p.outside_delegate_ms or 0:.3f} ms")
