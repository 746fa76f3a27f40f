"""The report's plots as PNG bytes: Pareto front, latency distributions, profile roll-up, distillation, device comparison.

matplotlib is imported inside the functions (Agg, no pyplot: safe from a
worker thread). Every plot function returns None when it has nothing to draw.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Sequence

from edge_bench.profile.model import BLOCKS
from edge_bench.report.analysis import throughput
from edge_bench.report.model import TOWERS, CompareReport, DeviceReport, JobEntry

MARKERS = {"executorch": "o", "tflite": "s", "coreml": "^"}
METRIC_LABELS = {"image_retrieval_recall@1": "text→image R@1 (%)", "text_retrieval_recall@1": "image→text R@1 (%)",
                 "mean_recall": "mean recall (%)"}
DPI = 110


@dataclass(frozen=True)
class Plot:
    """One rendered plot: a file-name stem, a caption and the PNG bytes."""

    name: str
    caption: str
    png: bytes


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    fig.set_facecolor("white")
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _colours(models: Sequence[str]) -> dict[str, tuple]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(models) <= 10 else "tab20"]
    return {m: cmap(i % cmap.N) for i, m in enumerate(models)}


def _legend(ax, colours: dict, backends: Sequence[str], extra: Sequence[tuple[str, dict]] = ()) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="", marker="o", color=c, label=m) for m, c in colours.items()]
    handles += [Line2D([], [], ls="", marker=MARKERS.get(b, "D"), color="0.3", label=b) for b in backends]
    handles += [Line2D([], [], label=label, **style) for label, style in extra]
    ax.legend(handles=handles, fontsize=7, loc="best", framealpha=0.85)


def _scale(ax, values: Sequence[float], ratio: float = 10.0) -> None:
    """A log x scale with plain tick labels when the values span more than `ratio`, else linear."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    values = [v for v in values if v and v > 0]
    if not values or max(values) / min(values) <= ratio:
        return
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _pad_flat(ax, values: Sequence[float], pad: float = 2.0) -> None:
    """Keep a visible y range when every point has (nearly) the same value."""
    if values and max(values) - min(values) < 0.5:
        ax.set_ylim(min(values) - pad, max(values) + pad)


def _point(ax, x: float, y: float, e: JobEntry, colour, size: float = 60) -> None:
    face = "none" if e.untrained else colour
    ax.scatter([x], [y], s=size, marker=MARKERS.get(e.backend, "D"), facecolors=face, edgecolors=[colour], linewidths=1.5, zorder=3)
    if e.disagrees:
        ax.scatter([x], [y], s=size * 2.2, marker="x", color="red", linewidths=2, zorder=4)


def pareto_plot(report: DeviceReport) -> Plot | None:
    """Accuracy against gallery throughput; the front highlighted, untrained models hollow."""
    metric = report.pareto_metric
    points = [(e, throughput(e), e.recall.get(metric)) for e in report.entries]
    points = [(e, x, 100 * y) for e, x, y in points if x and y is not None]
    if not points:
        return None
    fig = _figure(7.5, 4.8)
    ax = fig.add_subplot()
    colours = _colours(sorted({e.model for e, _, _ in points}))
    front = [(x, y) for e, x, y in sorted(points, key=lambda p: p[1]) if e.job_id in report.pareto_front]
    if front:
        xs, ys = zip(*front)
        # the best recall available at a throughput of at least x: drop at each front point, then run right
        ax.step(xs, ys, where="pre", color="0.2", lw=1.2, ls="--", zorder=2)
        ax.scatter(xs, ys, s=240, facecolors="none", edgecolors="gold", linewidths=2.5, zorder=2)
    for e, x, y in points:
        _point(ax, x, y, e, colours[e.model])
        ax.annotate(e.precision, (x, y), textcoords="offset points", xytext=(6, 5), fontsize=7, color="0.25")
    _scale(ax, [x for _, x, _ in points])
    _pad_flat(ax, [y for _, _, y in points])
    ax.margins(x=0.08, y=0.12)
    ax.set_xlabel("gallery throughput (images/s, higher is better)")
    ax.set_ylabel(METRIC_LABELS[metric])
    untrained = any(e.untrained for e, _, _ in points)
    ax.set_title(f"accuracy vs throughput on {report.device}" + (" (hollow: untrained, chance-level recall)" if untrained else ""),
                 fontsize=10)
    ax.grid(alpha=0.3)
    extra = [("Pareto front", {"ls": "--", "color": "0.2", "marker": "o", "mfc": "none", "mec": "gold", "mew": 2})]
    if any(e.disagrees for e, _, _ in points):
        extra.append(("DISAGREES with host", {"ls": "", "marker": "x", "color": "red"}))
    _legend(ax, colours, sorted({e.backend for e, _, _ in points}), extra)
    return Plot("pareto", f"{METRIC_LABELS[metric]} against gallery throughput; dashed: the Pareto front", _png(fig))


def latency_plot(report: DeviceReport) -> Plot | None:
    """Batch-1 latency distributions per tower (box plots of the raw samples)."""
    entries = [e for e in report.entries if any(e.tower(t) and e.tower(t).latency_samples_ms for t in TOWERS)]
    if not entries:
        return None
    fig = _figure(9, 1.2 + 0.42 * len(entries))
    axes = fig.subplots(1, 2, sharey=True)
    labels = [report.label(e) for e in entries]
    for ax, tower in zip(axes, TOWERS):
        data = [list(e.tower(tower).latency_samples_ms) if e.tower(tower) else [] for e in entries]
        ax.boxplot([d or [float("nan")] for d in data], orientation="horizontal", tick_labels=labels, widths=0.6,
                   flierprops={"marker": ".", "markersize": 3, "alpha": 0.5}, medianprops={"color": "crimson"})
        _scale(ax, [v for d in data for v in d], ratio=20)
        ax.set_xlabel(f"{tower} tower, batch 1 (ms)")
        ax.grid(axis="x", alpha=0.3)
    axes[0].invert_yaxis()  # shared y: once for both; the first entry on top
    axes[0].tick_params(axis="y", labelsize=7)
    fig.suptitle(f"latency distributions on {report.device} (raw timed samples; red: median)", fontsize=10)
    return Plot("latency", "batch-1 latency per tower: box = quartiles, whiskers 1.5 IQR, dots beyond", _png(fig))


def profile_blocks_ms(entry: JobEntry, tower: str) -> dict[str, float]:
    """A profiled tower's roll-up by block (ms per inference, BLOCKS order, blocks with time only); {} when not profiled."""
    figures = entry.tower(tower)
    values = figures.values if figures else {}
    out = {b: values.get(f"profile_{b.replace(' ', '_')}_ms") for b in BLOCKS}
    return {b: float(ms) for b, ms in out.items() if ms}


def profile_plot(report: DeviceReport) -> Plot | None:
    """A stacked bar per profiled job and tower: the profiling pass's roll-up by block, in ms per inference."""
    entries = [e for e in report.entries if any(profile_blocks_ms(e, t) for t in TOWERS)]
    if not entries:
        return None
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    colours = {b: cmap(i % cmap.N) for i, b in enumerate(BLOCKS)}
    fig = _figure(9, 1.6 + 0.42 * len(entries))
    axes = fig.subplots(1, 2, sharey=True)
    labels = [report.label(e) for e in entries]
    drawn: set[str] = set()
    for ax, tower in zip(axes, TOWERS):
        left = [0.0] * len(entries)
        for block in BLOCKS:
            widths = [profile_blocks_ms(e, tower).get(block, 0.0) for e in entries]
            if not any(widths):
                continue
            ax.barh(range(len(entries)), widths, left=left, color=colours[block], height=0.6,
                    label=None if block in drawn else block)
            drawn.add(block)
            left = [a + w for a, w in zip(left, widths)]
        ax.set_xlabel(f"{tower} tower, profiled ms per inference")
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(entries)), labels)
    axes[0].invert_yaxis()
    axes[0].tick_params(axis="y", labelsize=7)
    fig.legend(loc="outside lower center", ncols=min(6, len(drawn)), fontsize=7)
    fig.suptitle(f"where the time goes on {report.device} (profiling pass, roll-up by block)", fontsize=10)
    return Plot("profile", "per job and tower: the profile's roll-up by block, stacked (ms per inference)", _png(fig))


def distillation_plot(report: DeviceReport) -> Plot | None:
    """Each student's change in text-to-image R@1 against its speed-up over the teacher."""
    rows = [r for r in report.distillation if r.speedup.get("image") and r.delta_recall.get("image_retrieval_recall@1") is not None]
    if not rows:
        return None
    fig = _figure(7.5, 4.5)
    ax = fig.add_subplot()
    colours = _colours(sorted({r.student for r in rows}))
    ax.axhline(0, color="0.5", lw=0.8)
    ax.axvline(1, color="0.5", lw=0.8)
    ax.scatter([1], [0], marker="*", s=220, color="black", zorder=4)
    ax.annotate(f"teacher: {report.teacher}", (1, 0), textcoords="offset points", xytext=(8, -12), fontsize=8)
    for r in rows:
        x, y = r.speedup["image"], 100 * r.delta_recall["image_retrieval_recall@1"]
        face = "none" if r.untrained else colours[r.student]
        ax.scatter([x], [y], s=70, marker=MARKERS.get(r.backend, "D"), facecolors=face, edgecolors=[colours[r.student]],
                   linewidths=1.5, zorder=3)
        if r.disagrees:
            ax.scatter([x], [y], s=150, marker="x", color="red", linewidths=2, zorder=4)
        ax.annotate(r.precision, (x, y), textcoords="offset points", xytext=(6, 5), fontsize=7, color="0.25")
    _scale(ax, [1.0] + [r.speedup["image"] for r in rows])
    _pad_flat(ax, [0.0] + [100 * r.delta_recall["image_retrieval_recall@1"] for r in rows])
    ax.margins(x=0.1, y=0.12)
    ax.set_xlabel("image-tower speed-up over the teacher (×, batch-1 median latency; right of 1: faster)")
    ax.set_ylabel("change in text→image R@1 (points)")
    untrained = any(r.untrained for r in rows)
    ax.set_title(f"distillation on {report.device}: what each student trades" + (" (hollow: untrained)" if untrained else ""),
                 fontsize=10)
    ax.grid(alpha=0.3, which="both")
    extra = [("DISAGREES with host", {"ls": "", "marker": "x", "color": "red"})] if any(r.disagrees for r in rows) else []
    _legend(ax, colours, sorted({r.backend for r in rows}), extra)
    return Plot("distillation", "students against the teacher on the same backend and precision", _png(fig))


def compare_plot(report: CompareReport) -> Plot | None:
    """Median batch-1 latency per shared job on both devices, per tower."""
    if not report.rows:
        return None
    import numpy as np

    fig = _figure(9, 1.4 + 0.5 * len(report.rows))
    axes = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(report.rows))
    for ax, tower in zip(axes, TOWERS):
        for offset, side, name in ((-0.2, "a", report.a.device), (0.2, "b", report.b.device)):
            values = [getattr(row, side).tower(tower).latency_median_ms if getattr(row, side).tower(tower) else np.nan
                      for row in report.rows]
            ax.barh(y + offset, values, height=0.38, label=name)
        ax.set_yticks(y, [report.label(row) for row in report.rows], fontsize=7)
        ax.set_xlabel(f"{tower} tower median latency (ms)")
        ax.grid(axis="x", alpha=0.3)
    axes[0].invert_yaxis()  # shared y: once for both; the first job on top, A above B
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{report.a.device} vs {report.b.device}: batch-1 latency", fontsize=10)
    return Plot("compare-latency", "median batch-1 latency of each shared job on both devices", _png(fig))


def message_plot(text: str) -> Plot:
    """An image that says why there is no plot (for formats that must write one)."""
    import textwrap

    fig = _figure(7, 1.6)
    fig.text(0.5, 0.5, textwrap.fill(text, 70), ha="center", va="center", fontsize=11)
    return Plot("no-plots", text, _png(fig))


def device_plots(report: DeviceReport) -> list[Plot]:
    """Every plot of a device report that has data."""
    return [p for p in (pareto_plot(report), latency_plot(report), profile_plot(report), distillation_plot(report)) if p]


def compare_plots(report: CompareReport) -> list[Plot]:
    """Every plot of a comparison that has data."""
    return [p for p in (compare_plot(report),) if p]
