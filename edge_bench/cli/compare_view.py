"""The comparison of two runs: per shared job, the ratio of median latencies with a 95% interval and a verdict."""

from __future__ import annotations

from rich.table import Table

from edge_bench.cli.ui import pct
from edge_bench.records.compare import compare_latency
from edge_bench.records.select import Pair, pair

TOWERS = ("image", "text")


def comparisons(pairs: list[Pair]) -> list[tuple[Pair, dict]]:
    """Each pair with its per-tower LatencyComparison (B over A)."""
    return [(p, {t: compare_latency(p.a.record.tower(t), p.b.record.tower(t)) for t in TOWERS}) for p in pairs]


def compare_table(run_a, rows_a, run_b, rows_b) -> Table:
    """B over A per shared job (same model, backend, precision and dataset): latency, throughput, recall."""
    pairs = pair(rows_a, rows_b)
    table = Table(title=f"{run_b.id} ({run_b.device}) vs {run_a.id} ({run_a.device}): median latency B/A "
                        "[95% interval] (< 1 = B faster)")
    for column in ("job", "img latency B/A", "txt latency B/A", "img/s B/A", "T>I R@1 A -> B"):
        table.add_column(column, justify="left" if column == "job" else "right")
    methods = set()
    for p, cmp in comparisons(pairs):
        a, b = p.a.record, p.b.record
        methods.update(c.method for c in cmp.values())
        ips = [a.items_per_s("image"), b.items_per_s("image")]
        table.add_row(p.label, cmp["image"].cell(), cmp["text"].cell(), f"{ips[1] / ips[0]:.3f}" if all(ips) else "-",
                      f"{pct(a.recall('image'))} -> {pct(b.recall('image'))}")
    if not pairs:
        table.caption = "the runs share no successful job (same model, backend, precision and dataset)"
    elif "bootstrap" in methods:
        table.caption = ("intervals without repeats bootstrap each run's samples and cover only noise within a run; "
                         "`edge-bench run --repeat N` gives intervals over fresh processes")
    return table


def regressions(rows_a, rows_b, threshold_pct: float) -> list[str]:
    """Jobs whose latency is significantly slower in B than in A by more than `threshold_pct` percent."""
    out = []
    for p, cmp in comparisons(pair(rows_a, rows_b)):
        for tower, c in cmp.items():
            if c.slower_beyond(threshold_pct):
                out.append(f"{p.label} {tower}: {c.cell()}")
    return out
