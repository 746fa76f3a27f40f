"""Reports laid out as documents: a device report and a two-device comparison, in reading order (provenance last)."""

from __future__ import annotations

from edge_bench.report import fmt
from edge_bench.report.document import Bullets, Document, Figure, Para, Section, Table
from edge_bench.report.model import TOWERS, CompareReport, DeviceReport
from edge_bench.report.plots import Plot
from edge_bench.report.tables import (distillation_table, fingerprint_rows, fingerprint_summary, latency_table,
                                      problems_table, provenance_table, resources_table, retrieval_table, runs_table)


def _device_section(report: DeviceReport) -> Section:
    peak = (f"{report.peak_gflop_per_s:g} GFLOP/s" + (f" ({report.peak_derivation})" if report.peak_derivation else "")
            if report.peak_gflop_per_s else "not given in the profile")
    blocks: list = [Para(report.description or "(no description)"), Para(f"Peak compute: {peak}.")]
    summary = fingerprint_summary(report.fingerprint)
    if summary:
        blocks.append(summary)
    else:
        blocks.append(Para("No fingerprint: no record of this device was used.", "muted"))
    return Section("Device", blocks, "device")


def _results_sections(report: DeviceReport, plots: dict[str, Plot]) -> list[Section]:
    if not report.entries:
        return []
    sections = [Section("Results", [latency_table(report), resources_table(report), retrieval_table(report)], "results")]
    pareto = [Figure(plots["pareto"])] if "pareto" in plots else [Para("No plot: no job has both throughput and recall.", "muted")]
    front = [report.label(e) for e in report.entries if e.job_id in report.pareto_front]
    if front:
        pareto.insert(0, Para(f"On the front ({report.pareto_metric} against images/s): {'; '.join(front)}."))
    sections.append(Section("Accuracy versus throughput", pareto, "pareto"))
    latency = [Figure(plots["latency"])] if "latency" in plots else [Para("No raw latency samples in the records.", "muted")]
    sections.append(Section("Latency distributions", latency, "latency"))
    profile = _profile_section(report, plots)
    if profile:
        sections.append(profile)
    sections.append(_distillation_section(report, plots))
    return sections


def _profile_section(report: DeviceReport, plots: dict[str, Plot]) -> Section | None:
    """The profiled jobs' roll-up, the parts quantized recipes keep float; none without a profiled job."""
    from edge_bench.report.profile_tables import kept_float_table, profile_table

    table = profile_table(report)
    if table is None:
        return None
    blocks: list = [table]
    kept = kept_float_table(report)
    if kept is not None:
        blocks.append(kept)
    if "profile" in plots:
        blocks.append(Figure(plots["profile"]))
    return Section("Where the time goes", blocks, "profile")


def _distillation_section(report: DeviceReport, plots: dict[str, Plot]) -> Section:
    if not report.teacher:
        return Section("Distillation", [Para(f"No distillation view: {report.teacher_reason}.", "muted")], "distillation")
    blocks: list = [Para(f"Teacher: {report.teacher} ({report.teacher_reason}).")]
    if not report.distillation:
        blocks.append(Para("No student shares a backend and precision with the teacher in this report.", "muted"))
        return Section("Distillation", blocks, "distillation")
    if any(r.untrained for r in report.distillation):
        blocks.append(Para("Untrained weights on one side: these recall changes are noise around chance level, "
                           "not the effect of distillation.", "alert"))
    blocks.append(distillation_table(report))
    if "distillation" in plots:
        blocks.append(Figure(plots["distillation"]))
    return Section("Distillation", blocks, "distillation")


def _runs_blocks(report: DeviceReport) -> list:
    runs = [runs_table(report)] if report.runs else [Para("No stored run was selected.", "muted")]
    return [Para(f"Selection: {report.selection}.")] + runs


def device_sections(report: DeviceReport, plots: dict[str, Plot]) -> list[Section]:
    """Alerts first, provenance last."""
    sections = []
    head = [Para(a, "alert") for a in report.alerts]
    if report.message:
        head.append(Para(report.message, "alert"))
    if head:
        sections.append(Section("Read this first", head, "alerts"))
    sections.append(_device_section(report))
    sections.extend(_results_sections(report, plots))
    if report.problems:
        sections.append(Section("Failed and skipped jobs", [problems_table(report)], "problems"))
    if report.notes:
        sections.append(Section("Notes: thermal state, outliers, consistency", [Bullets(tuple(report.notes))], "notes"))
    sections.append(Section("Runs and jobs used", _runs_blocks(report), "runs"))
    provenance = [provenance_table(report)] if report.entries else []
    rows = fingerprint_rows(report.fingerprint)
    if rows:
        provenance.append(Table(("fact", "value"), tuple(rows), align="ll", title="Device fingerprint, in full"))
    if provenance:
        sections.append(Section("Provenance", provenance, "provenance"))
    return sections


def _ratio(value) -> str:
    return fmt.DASH if value is None else f"{value[0]:.2f} ± {value[1]:.2f}"


def compare_table(report: CompareReport) -> Table:
    """Per shared job: medians on A and B, B/A latency ratios, throughput and recall on both."""
    rows = []
    for r in report.rows:
        cells = [report.label(r)]
        for tower in TOWERS:
            cells += [fmt.num(r.a.figures(tower).latency_median_ms), fmt.num(r.b.figures(tower).latency_median_ms),
                      _ratio(r.latency_ratio.get(tower))]
        cells += [fmt.num(r.a.figures("image").throughput_items_per_s), fmt.num(r.b.figures("image").throughput_items_per_s),
                  *(fmt.pct(x.recall.get("image_retrieval_recall@1")) + ("*" if x.untrained else "") + ("!" if x.disagrees else "")
                    for x in (r.a, r.b))]
        rows.append(tuple(cells))
    return Table(("job", "img ms A", "img ms B", "img B/A", "txt ms A", "txt ms B", "txt B/A", "img/s A", "img/s B",
                  "T>I R@1 A", "T>I R@1 B"), tuple(rows), title=f"A = {report.a.device}, B = {report.b.device}",
                 caption="ms = median batch-1 latency; B/A = ratio of mean latencies ± propagated sd (below 1: B is faster); "
                         "img/s = gallery throughput; * untrained weights (chance-level recall); ! device disagrees with the host")


def compare_document(report: CompareReport, plots: list[Plot]) -> Document:
    """The comparison of two devices: alerts, the side-by-side table, its plot, the devices, the runs used."""
    a, b = report.a, report.b
    head = [Para(f"{d.device}: {x}", "alert") for d in (a, b) for x in d.alerts]
    if report.message:
        head.append(Para(report.message, "alert"))
    sections = [Section("Read this first", head, "alerts")] if head else []
    blocks: list = [compare_table(report)] if report.rows else []
    blocks += [Figure(p) for p in plots]
    for device, only in ((a.device, report.only_a), (b.device, report.only_b)):
        if only:
            blocks.append(Para(f"Only on {device}: {'; '.join(only)}.", "muted"))
    sections.append(Section("Side by side", blocks or [Para("Nothing to show.", "muted")], "compare"))
    for d in (a, b):
        sections.append(Section(f"Device {d.device}", _device_section(d).blocks + _runs_blocks(d), f"device-{d.device}"))
    return Document(title=f"edge-bench comparison: {a.device} vs {b.device}",
                    subtitle=f"generated {report.generated.replace('+00:00', 'Z')} by edge-bench {report.edge_bench_version}",
                    sections=sections)


def device_document(report: DeviceReport, plots: list[Plot]) -> Document:
    """The sections of a device report, with the plots placed where they belong."""
    return Document(
        title=f"edge-bench report: {report.device}",
        subtitle=f"generated {report.generated.replace('+00:00', 'Z')} by edge-bench {report.edge_bench_version}; "
                 f"{report.selection}",
        sections=device_sections(report, {p.name: p for p in plots}),
    )
