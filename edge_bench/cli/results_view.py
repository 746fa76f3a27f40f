"""Tables of stored results, shared by `run`, `show` and `compare`."""

from __future__ import annotations

from rich.table import Table

from edge_bench.cli.ui import pct


def _ms(value) -> str:
    return "-" if value is None else f"{value * 1e3:.2f}"


def _num(value, fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)


def _mib(value) -> str:
    return "-" if not value else f"{value / 2**20:.1f}"


def tower(record: dict, name: str) -> dict:
    return (record.get("towers") or {}).get(name) or {}


def recall_cell(record: dict, key: str) -> str:
    value = (record.get("recall") or {}).get(key)
    if value is None:
        return "-"
    text = pct(value)
    if record.get("recall_label") == "untrained":
        text += "*"
    verdict = ((record.get("fidelity") or {}).get("verdict") or {}).get("status")
    if verdict == "DISAGREES":
        text += "!"
    return text


def _notes(record: dict, notes: set) -> None:
    if record.get("recall_label") == "untrained":
        notes.add("* untrained weights: recall is chance level")
    if ((record.get("fidelity") or {}).get("verdict") or {}).get("status") == "DISAGREES":
        notes.add("! the device disagrees with the host's run of the same artifact (see `edge-bench show`)")
    if (record.get("recall_source") or "").startswith("host-computed"):
        notes.add("recall host-computed from the device's artifact")


def speed_table(rows, title: str) -> Table:
    """Per job: batch-1 latency per tower (median, p90), gallery throughput, load time, peak memory."""
    table = Table(title=title)
    for column in ("job", "img ms", "p90", "txt ms", "p90", "img/s", "txt/s", "load s", "MiB"):
        table.add_column(column, justify="left" if column == "job" else "right")
    for row in rows:
        label = f"{row.model} {row.backend} {row.precision}"
        if row.status != "ok":
            colour = "red" if row.status == "failed" else "yellow"
            table.add_row(label, f"[{colour}]{row.status}: {(row.error or '')[:70]}[/]")
            continue
        img, txt = tower(row.record, "image"), tower(row.record, "text")
        lat_i, lat_t = img.get("latency") or {}, txt.get("latency") or {}
        peak = max((t.get("memory") or {}).get("peak_rss_bytes") or 0 for t in (img, txt))
        load = sum(t.get("load_s") or 0 for t in (img, txt))
        table.add_row(label, _ms(lat_i.get("median")), _ms(lat_i.get("p90")), _ms(lat_t.get("median")), _ms(lat_t.get("p90")),
                      _num((img.get("gallery") or {}).get("items_per_s"), "{:.0f}"),
                      _num((txt.get("gallery") or {}).get("items_per_s"), "{:.0f}"), _num(load, "{:.2f}"), _mib(peak))
    return table


def accuracy_table(rows, title: str) -> Table:
    """Per job: Recall@1/5/10 both ways (CLIP_benchmark's definition) and fidelity to fp32 PyTorch."""
    table = Table(title=title)
    for column in ("job", "T>I R@1", "R@5", "R@10", "I>T R@1", "R@5", "R@10", "cos fp32"):
        table.add_column(column, justify="left" if column == "job" else "right")
    notes: set = set()
    for row in rows:
        if row.status != "ok":
            continue
        r = row.record
        _notes(r, notes)
        fid = (r.get("fidelity") or {}).get("vs_fp32_pytorch") or {}
        cos = min((v.get("cosine_mean", 1.0) for v in fid.values()), default=None)
        cells = [recall_cell(r, f"{d}_retrieval_recall@{k}") for d in ("image", "text") for k in (1, 5, 10)]
        table.add_row(f"{row.model} {row.backend} {row.precision}", *cells, _num(cos, "{:.4f}"))
    if notes:
        table.caption = "; ".join(sorted(notes))
    return table


def job_notes(rows) -> list[str]:
    """Lines for `show`: failures with reasons, statistical notes, fidelity verdicts, provenance."""
    lines = []
    for row in rows:
        r = row.record
        label = f"{row.model} {row.backend} {row.precision}"
        if row.status != "ok":
            lines.append(f"[{'red' if row.status == 'failed' else 'yellow'}]{row.status}[/] {label}: {row.error}")
            continue
        for name in ("image", "text"):
            for note in tower(r, name).get("notes") or []:
                lines.append(f"note {label} {name}: {note}")
        verdict = (r.get("fidelity") or {}).get("verdict") or {}
        if verdict.get("message"):
            lines.append(f"[red]{label}: {verdict['message']}[/]")
        prov = r.get("provenance") or {}
        model = prov.get("model") or {}
        runtime = tower(r, "image").get("runtime") or {}
        lines.append(
            f"[dim]{label}: weights {model.get('weights_status')} {model.get('weights_sha256', '')[:12]}; "
            f"runtime {runtime.get('name')} {runtime.get('version')}; edge-bench {prov.get('edge_bench_version')}[/]"
        )
    return lines
