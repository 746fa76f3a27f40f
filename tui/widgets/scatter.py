"""The accuracy-versus-throughput scatter (textual-plotext): Recall@1 against images/s, untrained models marked."""

from __future__ import annotations

import math

from textual_plotext import PlotextPlot

from edge_bench.tui.compare_model import Point

SIDE_COLOURS = {"A": "cyan", "B": "orange"}
TRAINED_MARKER, UNTRAINED_MARKER = "●", "x"


class AccuracyScatter(PlotextPlot):
    """Each job of both sides as a point; x = gallery images/s, y = text-to-image Recall@1 (%)."""

    def show(self, points: list[Point], labels: dict[str, str]) -> None:
        """Redraw with these points; `labels` names side A and side B in the legend."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("accuracy vs throughput")
        plt.xlabel("images/s (gallery)")
        plt.ylabel("T>I R@1 %")
        for side in ("A", "B"):
            for untrained, marker in ((False, TRAINED_MARKER), (True, UNTRAINED_MARKER)):
                chosen = [p for p in points if p.side == side and p.untrained == untrained]
                if chosen:
                    label = f"{side}: {labels.get(side, side)}" + (" (untrained)" if untrained else "")
                    plt.scatter([p.images_per_s for p in chosen], [p.recall_pct for p in chosen],
                                marker=marker, color=SIDE_COLOURS[side], label=label)
        if points:
            plt.xlim(0, max(p.images_per_s for p in points) * 1.15)
            top = math.ceil(max(p.recall_pct for p in points) * 1.25 / 10) * 10
            plt.ylim(0, min(100.0, max(10.0, top)))
        else:
            plt.text("no job of either side has both a throughput and a recall", 0.5, 0.5, alignment="center")
            plt.xlim(0, 1)
            plt.ylim(0, 1)
        self.refresh()
