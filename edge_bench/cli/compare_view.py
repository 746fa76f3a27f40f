"""The comparison of two runs: latency and throughput ratios with propagated uncertainty."""

from __future__ import annotations

from rich.table import Table

from edge_bench.records.stats import Stats, ratio
from edge_bench.cli.ui import pct


def _latest_ok(rows) -> dict:
    out = {}
    for row in rows:
        if row.status == "ok":
            out[(row.model, row.backend, row.precision)] = row
    return out


def _lat(row, tower: str) -> Stats:
    samples = (((row.record.get("towers") or {}).get(tower) or {}).get("latency") or {}).get("samples") or []
    return Stats.of(samples)


def compare_table(run_a, rows_a, run_b, rows_b) -> Table:
    """B over A per shared job: latency ratio (mean ± sd), throughput ratio, recall change."""
    a, b = _latest_ok(rows_a), _latest_ok(rows_b)
    table = Table(title=f"{run_b.id} ({run_b.device}) vs {run_a.id} ({run_a.device}): ratios B/A (< 1 = B faster)")
    for column in ("job", "img latency B/A", "txt latency B/A", "img/s B/A", "T>I R@1 A -> B"):
        table.add_column(column, justify="left" if column == "job" else "right")
    shared = [k for k in a if k in b]
    for key in shared:
        cells = []
        for tower in ("image", "text"):
            la, lb = _lat(a[key], tower), _lat(b[key], tower)
            if la.n and lb.n:
                r, sd = ratio(lb, la)
                cells.append(f"{r:.3f} ± {sd:.3f}")
            else:
                cells.append("-")
        ips = [((row.record.get("towers") or {}).get("image") or {}).get("gallery", {}).get("items_per_s") for row in (a[key], b[key])]
        cells.append(f"{ips[1] / ips[0]:.3f}" if all(ips) else "-")
        ra = (a[key].record.get("recall") or {}).get("image_retrieval_recall@1")
        rb = (b[key].record.get("recall") or {}).get("image_retrieval_recall@1")
        cells.append(f"{pct(ra)} -> {pct(rb)}")
        table.add_row(" ".join(key), *cells)
    if not shared:
        table.caption = "the runs share no successful job (same model, backend and precision)"
    return table
