"""Tables of stored results, shared by `run`, `show` and `compare`; they read the typed record only."""

from __future__ import annotations

from rich.table import Table

from edge_bench.cli.ui import pct
from edge_bench.records.select import datasets
from edge_bench.records.tower import TOWER_FIGURES


def _ms(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def _num(value, fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)


def _mib(value) -> str:
    return "-" if not value else f"{value / 2**20:.1f}"


def job_label(row, with_dataset: bool = False) -> str:
    """model backend precision, and the dataset where a table mixes several."""
    label = f"{row.model} {row.backend} {row.precision}"
    return f"{label} [{row.dataset}]" if with_dataset else label


def recall_cell(record, key: str) -> str:
    value = record.metrics.get(key)
    if value is None:
        return "-"
    text = pct(value)
    bounds = record.recall_bounds(key)
    if bounds:  # queries whose hit depends on how tied scores are ordered
        text += f" [{pct(bounds[0])}-{pct(bounds[1])}]"
    if record.untrained:
        text += "*"
    if record.disagrees:
        text += "!"
    return text


def _notes(record, notes: set) -> None:
    if record.accuracy and record.accuracy.ties:
        notes.add("[a-b] recall if every tied score broke against / for the query (tied captions or images); "
                  "the value is CLIP_benchmark's (torch.topk's order)")
    if record.untrained:
        notes.add("* untrained weights: recall is chance level")
    if record.disagrees:
        notes.add("! the device disagrees with the host's run of the same artifact (see `edge-bench show`)")
    if record.host_recall:
        notes.add("recall host-computed from the device's artifact")


def speed_table(rows, title: str) -> Table:
    """Per job: batch-1 latency per tower (median, p90), gallery throughput, load time, memory.

    Memory leads with the model's own increment (peak minus the runtime's baseline), then the baseline and
    the process peak; the caption says what each runtime's baseline holds.
    """
    mixed = len(datasets(rows)) > 1
    table = Table(title=title)
    baselines: dict[str, str] = {}
    repeats = any(row.status == "ok" and row.record.tower("image").repeats for row in rows)
    columns = ("job", "img ms", "p90", "txt ms", "p90", "img/s", "txt/s", "load s", "model MiB", "base MiB", "peak MiB")
    for column in columns + (("repeats spread",) if repeats else ()):
        table.add_column(column, justify="left" if column == "job" else "right")
    for row in rows:
        label = job_label(row, mixed)
        r = row.record
        if row.status != "ok":
            colour = "red" if row.status == "failed" else "yellow"
            table.add_row(label, f"[{colour}]{row.status}: {(row.error or '')[:70]}[/]")
            continue
        img, txt = r.tower("image"), r.tower("text")
        p90 = [None if t.latency.p90 is None else t.latency.p90 * 1e3 for t in (img, txt)]
        increment, baseline, peak = r.memory_bytes()
        runtime = img.runtime
        if runtime.name:
            baselines[runtime.name] = runtime.baseline_holds
        cells = [label, _ms(r.median_ms("image")), _ms(p90[0]), _ms(r.median_ms("text")), _ms(p90[1]),
                 _num(r.items_per_s("image"), "{:.0f}"), _num(r.items_per_s("text"), "{:.0f}"),
                 _num(r.load_s(), "{:.2f}"), _mib(increment), _mib(baseline), _mib(peak)]
        if repeats:
            cells.append(repeat_cell(r))
        table.add_row(*cells)
    if baselines:
        table.caption = "model = peak - base; base = RSS before the model loads: " + "; ".join(
            f"{name}: {holds}" for name, holds in sorted(baselines.items()))
    return table


def repeat_cell(record) -> str:
    """The worst tower's spread of repeat medians, against MLPerf's 5% rule: '2.1% (5x, ok)'."""
    towers = [record.tower(t) for t in ("image", "text") if record.tower(t).replicability is not None]
    if not towers:
        return "-"
    worst = max(towers, key=lambda t: t.replicability)
    verdict = "ok" if worst.replicable else "over 5%"
    return f"{100 * worst.replicability:.1f}% ({len(worst.repeats)}x, {verdict})"


def accuracy_table(rows, title: str) -> Table:
    """Per job: Recall@1/5/10 both ways (CLIP_benchmark's definition) and fidelity to fp32 PyTorch."""
    mixed = len(datasets(rows)) > 1
    table = Table(title=title)
    for column in ("job", "T>I R@1", "R@5", "R@10", "I>T R@1", "R@5", "R@10", "cos fp32"):
        table.add_column(column, justify="left" if column == "job" else "right")
    notes: set = set()
    for row in rows:
        if row.status != "ok":
            continue
        r = row.record
        _notes(r, notes)
        cos = r.fidelity.worst_mean_cosine() if r.fidelity else None
        cells = [recall_cell(r, f"{d}_retrieval_recall@{k}") for d in ("image", "text") for k in (1, 5, 10)]
        table.add_row(job_label(row, mixed), *cells, _num(cos, "{:.4f}"))
    if notes:
        table.caption = "; ".join(sorted(notes))
    return table


def figures_table(row) -> Table:
    """Every figure of both towers of one job (the record's TOWER_FIGURES), for `show --figures`."""
    table = Table(title=f"{job_label(row)} on {row.device} [{row.dataset}]")
    table.add_column("figure")
    for tower in ("image", "text"):
        table.add_column(tower, justify="right")
    for fig in TOWER_FIGURES:
        table.add_row(fig.name, *(fig.cell(row.record.tower(t)) for t in ("image", "text")))
    return table


def print_run_details(console, rows, dataset: str | None, figures: bool, device: str = "") -> None:
    """What `show` prints for one run's jobs: speed and accuracy tables, notes, and with `figures` every figure."""
    head = f"{device}: " if device else ""
    console.print(speed_table(rows, f"{head}speed and memory"))
    console.print(accuracy_table(rows, f"{head}{dataset} test: recall % and fidelity"))
    for line in job_notes(rows):
        console.print(line)
    if figures:
        for row in rows:
            if row.status == "ok":
                console.print(figures_table(row))


def job_json(row) -> dict:
    """A job row as `show --json` prints it: the row's fields and its full record."""
    return {**{k: v for k, v in row.__dict__.items() if k != "record"}, "record": row.record.to_json()}


def job_notes(rows) -> list[str]:
    """Lines for `show`: failures with reasons, statistical notes, fidelity verdicts, provenance."""
    lines = []
    for row in rows:
        r = row.record
        label = job_label(row)
        if r.lab is not None and r.lab.concurrent:
            lines.append(f"[yellow]{label} on {row.device}: taken concurrently with {', '.join(r.lab.concurrent_with)} "
                         "(one machine, --allow-shared-hardware): its timings are disturbed[/]")
        if row.status != "ok":
            phase = f" in {r.phase}" if r.phase else ""
            lines.append(f"[{'red' if row.status == 'failed' else 'yellow'}]{row.status}[/] {label}{phase}: {row.error}")
            continue
        for name in ("image", "text"):
            for note in r.tower(name).notes:
                lines.append(f"note {label} {name}: {note}")
        if r.verdict.message:
            lines.append(f"[red]{label}: {r.verdict.message}[/]")
        source = (r.artifact.samples.get("source") if r.artifact else None) or "?"
        lines.append(f"[dim]{label}: calibration and parity inputs from {source}[/]")
        prov = r.provenance
        model = prov.model if prov else None
        runtime = r.tower("image").runtime
        lines.append(
            f"[dim]{label}: weights {model.weights_status if model else '?'} {(model.weights_sha256 if model else '')[:12]}; "
            f"runtime {runtime.name} {runtime.version}; executor {r.tower('image').executor}; "
            f"edge-bench {prov.edge_bench_version if prov else '?'}[/]"
        )
    return lines
