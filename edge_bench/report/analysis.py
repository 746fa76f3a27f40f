"""What a report derives from its entries: the Pareto front, the distillation view, notes and alerts."""

from __future__ import annotations

from typing import Sequence

from edge_bench.errors import ConfigError
from edge_bench.report.model import TOWERS, DistillRow, JobEntry

TEACHER_ENTRY = "edgeclip-teacher"
"""The zoo's teacher; any model whose name contains 'teacher' is taken when it is absent."""
PARETO_METRICS = ("image_retrieval_recall@1", "text_retrieval_recall@1", "mean_recall")


def throughput(entry: JobEntry) -> float | None:
    """Gallery images/s of the image tower (the x axis of the Pareto plot)."""
    tower = entry.tower("image")
    return tower.throughput_items_per_s if tower else None


def pareto_front(entries: Sequence[JobEntry], metric: str) -> list[JobEntry]:
    """Entries no other entry beats on both throughput and `metric` (higher is better on both), by throughput."""
    points = [(e, throughput(e), e.recall.get(metric)) for e in entries]
    points = [(e, x, y) for e, x, y in points if x is not None and y is not None]
    front = []
    for e, x, y in points:
        dominated = any(qx >= x and qy >= y and (qx > x or qy > y) for _, qx, qy in points)
        if not dominated:
            front.append((x, e))
    return [e for _, e in sorted(front, key=lambda item: item[0])]


def find_teacher(entries: Sequence[JobEntry], requested: str | None) -> tuple[str | None, str]:
    """The teacher's model name and how it was chosen ('' reason when none)."""
    models = sorted({e.model for e in entries})
    if requested:
        if entries and requested not in models:
            raise ConfigError(f"--teacher {requested!r} has no successful job in this report",
                              hint=f"models in the report: {', '.join(models)}")
        return requested, "named with --teacher"
    if TEACHER_ENTRY in models:
        return TEACHER_ENTRY, f"the zoo's teacher entry {TEACHER_ENTRY}"
    named = [m for m in models if "teacher" in m.lower()]
    if named:
        extra = f" (also named like a teacher: {', '.join(named[1:])})" if len(named) > 1 else ""
        return named[0], f"its name contains 'teacher'{extra}"
    return None, "no model in this report is a teacher (named like 'teacher'); name one with --teacher"


def _ratio(num: float | None, den: float | None) -> float | None:
    return num / den if num and den else None


def _delta(a: dict, b: dict, key: str) -> float | None:
    return a[key] - b[key] if key in a and key in b else None


def distillation(entries: Sequence[JobEntry], teacher: str | None) -> list[DistillRow]:
    """Each student against the teacher on the same backend, precision and dataset: recall change and speed-up."""
    if not teacher:
        return []
    base = {(e.backend, e.precision, e.dataset): e for e in entries if e.model == teacher}
    rows = []
    for e in entries:
        t = base.get((e.backend, e.precision, e.dataset))
        if e.model == teacher or t is None:
            continue
        speedup = {name: _ratio(t.tower(name) and t.tower(name).latency_median_ms, e.tower(name) and e.tower(name).latency_median_ms)
                   for name in TOWERS}
        rows.append(DistillRow(
            student=e.model, backend=e.backend, precision=e.precision,
            delta_recall={k: _delta(e.recall, t.recall, k) for k in PARETO_METRICS},
            speedup=speedup, throughput_ratio=_ratio(throughput(e), throughput(t)),
            untrained=e.untrained or t.untrained, disagrees=e.disagrees or t.disagrees,
        ))
    return sorted(rows, key=lambda r: (r.backend, r.precision, -(r.speedup.get("image") or 0)))


def alerts(entries: Sequence[JobEntry]) -> list[str]:
    """Lines a reader must see first: jobs whose device disagrees with the host's run of the same artifact."""
    return [f"{e.label}: {e.verdict_message or 'the device disagrees with the host run of the same artifact'}"
            for e in entries if e.disagrees]


def _temps(thermal: dict, when: str) -> list[float]:
    return [float(v) for v in (thermal.get(when) or {}).values() if isinstance(v, (int, float))]


def thermal_notes(entries: Sequence[JobEntry]) -> list[str]:
    """Temperatures before and after each job, governors and throttling, or why there are none."""
    lines, governors = [], set()
    for e in entries:
        towers = [e.tower(n) for n in TOWERS if e.tower(n)]
        for t in towers:
            if t.thermal.get("governor"):
                governors.add(str(t.thermal["governor"]))
            if t.thermal.get("throttled"):
                lines.append(f"{e.label}: throttling reported ({t.thermal['throttled']})")
        before = _temps(towers[0].thermal, "before") if towers else []
        after = _temps(towers[-1].thermal, "after") if towers else []
        if before or after:
            fmt = lambda v: f"{max(v):.1f} °C" if v else "?"  # noqa: E731  (a one-line local helper reads better as a lambda)
            lines.append(f"{e.label}: hottest zone {fmt(before)} before, {fmt(after)} after")
    if entries and not any(" °C " in line for line in lines):
        lines.insert(0, "no temperatures recorded: the device exposes no thermal zones to edge-bench "
                        "(list them under thermal_zones in its profile)")
    if governors:
        lines.append(f"CPU frequency governor: {', '.join(sorted(governors))}")
    return lines


def statistical_notes(entries: Sequence[JobEntry]) -> list[str]:
    """The runner's outlier and slow-first-run notes, per job and tower."""
    return [f"{e.label} {name}: {note}" for e in entries for name in TOWERS if e.tower(name)
            for note in e.tower(name).notes]


def consistency_notes(entries: Sequence[JobEntry]) -> list[str]:
    """Warnings where entries are not measured alike (datasets, sizes, hardware)."""
    notes = []
    sets = sorted({f"{e.dataset} ({e.n_images} images)" for e in entries})
    if len(sets) > 1:
        notes.append(f"jobs were measured on different test sets ({'; '.join(sets)}): their recall is not comparable")
    machines = {_identity(e.provenance) for e in entries}
    if len(machines) > 1:
        notes.append(f"the records come from {len(machines)} different device fingerprints under this profile name")
    if any(e.untrained for e in entries):
        notes.append("models marked untrained have random weights: their recall is chance level, not a measure of the model")
    if any(e.host_recall for e in entries):
        notes.append("jobs marked 'host recall' got recall by running the device's artifact on the host")
    return notes


def _identity(provenance: dict) -> tuple:
    fp = ((provenance.get("device") or {}).get("fingerprint")) or {}
    cpu = fp.get("cpu") or {}
    return (fp.get("machine"), fp.get("hostname"), cpu.get("model") if isinstance(cpu, dict) else str(cpu), fp.get("os"))
