"""The tables of a device report, as text cells (shared by the HTML and Markdown exporters)."""

from __future__ import annotations

from edge_bench.report import fmt
from edge_bench.report.document import Table
from edge_bench.report.model import DeviceReport

FLAG_LEGEND = {
    "untrained": "untrained: random weights, recall is chance level",
    "host recall": "host recall: recall from the device's artifact run on the host",
    "DISAGREES": "DISAGREES: the device's outputs differ from the host's run of the same artifact; recall not comparable",
    "front": "front: on the accuracy-versus-throughput Pareto front",
}


def fingerprint_rows(fingerprint: dict, prefix: str = "") -> list[tuple[str, str]]:
    """A nested fingerprint flattened to (dotted key, value) rows, empty values left out."""
    rows = []
    for key, value in fingerprint.items():
        name = f"{prefix}{key}"
        if value in (None, "", [], {}) or key in ("per_cpu", "schema"):
            continue
        if isinstance(value, dict):
            rows.extend(fingerprint_rows(value, name + "."))
        elif isinstance(value, list):
            rows.append((name, ", ".join(str(v) for v in value)[:160]))
        elif key.endswith("_bytes") and isinstance(value, (int, float)):
            rows.append((name, f"{value / 2**30:.1f} GiB"))
        else:
            rows.append((name, str(value)[:160]))
    return rows


def latency_table(report: DeviceReport) -> Table:
    """Batch-1 latency per tower: median, p90, p99 (ms) and the number of timed runs."""
    rows = []
    for e in report.entries:
        i, t = e.figures("image"), e.figures("text")
        rows.append((report.label(e), fmt.num(i.latency_median_ms), fmt.num(i.latency_p90_ms), fmt.num(i.latency_p99_ms),
                     fmt.num(t.latency_median_ms), fmt.num(t.latency_p90_ms), fmt.num(t.latency_p99_ms),
                     f"{i.latency_n or 0}/{t.latency_n or 0}"))
    return Table(("job", "img med", "img p90", "img p99", "txt med", "txt p90", "txt p99", "n img/txt"), tuple(rows),
                 title="Batch-1 latency (ms)", caption="median, 90th and 99th percentile of the timed runs; n = timed runs")


SUMMARY_KEYS = ("model", "machine", "soc", "cpu.model", "cpu.cores", "cpu.max_mhz", "cpu.reported_mhz", "cpu.governor",
                "memory.total_bytes", "os", "android_version", "kernel", "python.version", "transport")
"""Fingerprint facts the Device section shows; the full fingerprint is in the Provenance section."""


def fingerprint_summary(fingerprint: dict) -> Table | None:
    """The fingerprint facts that identify the hardware, and the runtimes found, in one short table."""
    facts = dict(fingerprint_rows(fingerprint))
    rows = [(k, facts[k]) for k in SUMMARY_KEYS if k in facts]
    runtimes = ", ".join(f"{k[len('runtimes.'):]} {v}" for k, v in facts.items() if k.startswith("runtimes."))
    if runtimes:
        rows.append(("runtimes", runtimes))
    return Table(("fact", "value"), tuple(rows), align="ll", title="Fingerprint (newest record used)") if rows else None


def _recall(entry, key: str) -> str:
    """A recall as a percentage, with [pessimistic-optimistic] when tied scores make the hit depend on their order."""
    from edge_bench.records.job import tie_bounds

    text = fmt.pct(entry.recall.get(key))
    bounds = tie_bounds(entry.ties, key)
    return f"{text} [{fmt.pct(bounds[0])}-{fmt.pct(bounds[1])}]" if bounds else text


def _share(tower) -> str:
    """Achieved over the measured ceiling of the same runtime and precision; a model above it flags the ceiling."""
    if tower.ceiling_error:
        return "ceiling?"
    return fmt.pct(tower.ceiling_share) if tower.ceiling_share is not None else fmt.DASH


def resources_table(report: DeviceReport) -> Table:
    """Gallery throughput, load time, peak memory, artifact size and achieved GFLOP/s with its share of the peak."""
    rows = []
    for e in report.entries:
        i, t = e.figures("image"), e.figures("text")
        load = sum(v for v in (i.load_ms, t.load_ms) if v) or None
        peak = max((v for v in (i.peak_rss_bytes, t.peak_rss_bytes) if v), default=None)
        model = max((v for v in (i.model_increment_bytes, t.model_increment_bytes) if v is not None), default=None)
        size = sum(v for v in (i.artifact_size_bytes, t.artifact_size_bytes) if v) or None
        rows.append((report.label(e), fmt.num(i.throughput_items_per_s), fmt.num(t.throughput_items_per_s), str(i.gallery_batch or fmt.DASH),
                     fmt.num(load), fmt.mib(model), fmt.mib(peak), fmt.mib(size), fmt.num(i.achieved_gflop_per_s), _share(i),
                     fmt.num(t.achieved_gflop_per_s), _share(t)))
    peak = f"{report.peak_gflop_per_s:g} GFLOP/s" if report.peak_gflop_per_s else "unknown (no peak_gflops in the profile)"
    return Table(("job", "img/s", "txt/s", "batch", "load ms", "model MiB", "peak MiB", "size MiB", "img GF/s", "img %ceil", "txt GF/s", "txt %ceil"),
                 tuple(rows), title="Throughput, load, memory, size, compute",
                 caption=f"gallery throughput at the batch shown; load = both towers' batch-1 load; "
                         f"model = the model's own memory (peak minus the runtime's RSS before load: the ExecuTorch Python runtime imports "
                         f"torch, LiteRT's interpreter does not); peak = highest peak RSS "
                         f"of the two tower processes; size = both batch-1 artifacts; GF/s achieved at batch 1 and its share "
                         f"(%ceil) of the device's measured ceiling for the same runtime and precision (a GEMM-shaped "
                         f"artifact); 'ceiling?' = the model beat its ceiling, so the ceiling was measured badly; "
                         f"theoretical fp32 peak {peak}")


def retrieval_table(report: DeviceReport) -> Table:
    """Recall@1/5/10 both ways, mean recall, fidelity to fp32 PyTorch, and the flags a reader must see."""
    front = set(report.pareto_front)
    rows, used = [], set()
    for e in report.entries:
        flags = e.flags() + (["front"] if e.job_id in front else [])
        used.update(flags)
        cos = {n: (e.fidelity.get(n) or {}).get("cosine_mean") for n in ("image", "text")}
        rows.append((report.label(e), *(_recall(e, f"{d}_retrieval_recall@{k}") for d in ("image", "text") for k in (1, 5, 10)),
                     fmt.pct(e.recall.get("mean_recall")), _cos(cos["image"]), _cos(cos["text"]), ", ".join(flags) or fmt.DASH))
    datasets = sorted({f"{e.dataset} test, {e.n_images} images, {e.n_captions} captions" for e in report.entries})
    legend = "; ".join(FLAG_LEGEND[f] for f in FLAG_LEGEND if f in used)
    return Table(("job", "T>I R@1", "R@5", "R@10", "I>T R@1", "R@5", "R@10", "mean", "cos img", "cos txt", "flags"),
                 tuple(rows), align="l" + "r" * 9 + "l", title=f"Retrieval recall (%) on {'; '.join(datasets)}",
                 caption="T>I = text-to-image (image_retrieval_recall@k), I>T = image-to-text (text_retrieval_recall@k); "
                         "[a-b] = the recall if every tied score broke against / for the query; "
                         "CLIP_benchmark's definition; cos = mean cosine to fp32 PyTorch" + (f". {legend}" if legend else ""))


def _cos(value) -> str:
    return fmt.DASH if value is None else f"{value:.4f}"


def distillation_table(report: DeviceReport) -> Table:
    """Each student against the teacher: recall change (points) and speed-up."""
    rows = []
    for r in report.distillation:
        flags = (["untrained"] if r.untrained else []) + (["DISAGREES"] if r.disagrees else [])
        rows.append((r.student, f"{r.backend} {r.precision}", fmt.points(r.delta_recall.get("image_retrieval_recall@1")),
                     fmt.points(r.delta_recall.get("text_retrieval_recall@1")), fmt.points(r.delta_recall.get("mean_recall")),
                     fmt.times(r.speedup.get("image")), fmt.times(r.speedup.get("text")), fmt.times(r.throughput_ratio),
                     ", ".join(flags) or fmt.DASH))
    return Table(("student", "runtime", "dT>I R@1", "dI>T R@1", "d mean", "img x", "txt x", "img/s x", "flags"), tuple(rows),
                 align="ll" + "r" * 6 + "l",
                 title=f"Students against the teacher {report.teacher}",
                 caption="d = student minus teacher in percentage points; x = teacher's median batch-1 latency over the "
                         "student's (above 1: the student is faster); img/s x = gallery throughput ratio")


def problems_table(report: DeviceReport) -> Table:
    """Failed and skipped jobs with their phase and reason."""
    rows = tuple((p.label, p.status, p.phase or fmt.DASH, p.reason, p.job_id) for p in report.problems)
    return Table(("job", "status", "phase", "reason", "job id"), rows, align="lllll")


def runs_table(report: DeviceReport) -> Table:
    """The runs looked at: how many jobs each had and how many the report uses."""
    rows = tuple((r.id, r.created.replace("+00:00", "Z"), r.status, r.dataset or fmt.DASH, str(r.n_jobs), str(r.n_used))
                 for r in report.runs)
    return Table(("run", "created (UTC)", "status", "dataset", "jobs", "used"), rows, align="llllrr")


def provenance_table(report: DeviceReport) -> Table:
    """Per job: ids, weights, artifact key, runtime and converter versions."""
    rows = []
    for e in report.entries:
        prov = e.provenance
        model = prov.get("model") or {}
        weights = f"{model.get('weights_status', '?')} {(model.get('weights_sha256') or '')[:12]}".strip()
        art = prov.get("artifact") or {}
        runtime = (e.tower("image") or e.tower("text"))
        conv = prov.get("converter_versions") or {}
        converter = ", ".join(f"{k} {v}" for k, v in conv.items() if k != "edge_bench")
        rows.append((report.label(e), e.job_id, e.run_id, weights, fmt.short(art.get("key")), runtime.runtime if runtime else fmt.DASH,
                     converter or fmt.DASH, str(prov.get("edge_bench_version") or fmt.DASH)))
    return Table(("job", "job id", "run", "weights", "artifact key", "runtime", "converter", "edge-bench"), tuple(rows),
                 align="llllllll", caption="full provenance (every artifact file's sha256, host, fingerprint) is in the JSON report")
