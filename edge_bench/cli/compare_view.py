"""The comparison of two runs: latency and throughput ratios with propagated uncertainty."""

from __future__ import annotations

from rich.table import Table

from edge_bench.cli.ui import pct
from edge_bench.records.select import pair
from edge_bench.records.stats import ratio


def compare_table(run_a, rows_a, run_b, rows_b) -> Table:
    """B over A per shared job (same model, backend, precision and dataset): latency, throughput, recall."""
    pairs = pair(rows_a, rows_b)
    table = Table(title=f"{run_b.id} ({run_b.device}) vs {run_a.id} ({run_a.device}): ratios B/A (< 1 = B faster)")
    for column in ("job", "img latency B/A", "txt latency B/A", "img/s B/A", "T>I R@1 A -> B"):
        table.add_column(column, justify="left" if column == "job" else "right")
    for p in pairs:
        a, b = p.a.record, p.b.record
        cells = []
        for tower in ("image", "text"):
            la, lb = a.tower(tower).latency.stats(), b.tower(tower).latency.stats()
            if la.n and lb.n:
                r, sd = ratio(lb, la)
                cells.append(f"{r:.3f} ± {sd:.3f}")
            else:
                cells.append("-")
        ips = [a.items_per_s("image"), b.items_per_s("image")]
        cells.append(f"{ips[1] / ips[0]:.3f}" if all(ips) else "-")
        cells.append(f"{pct(a.recall('image'))} -> {pct(b.recall('image'))}")
        table.add_row(f"{p.label}", *cells)
    if not pairs:
        table.caption = "the runs share no successful job (same model, backend, precision and dataset)"
    return table
