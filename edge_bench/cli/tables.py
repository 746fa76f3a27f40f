"""Rich tables shared by commands."""

from __future__ import annotations

from rich.table import Table

from edge_bench.cli.ui import pct


def recall_label(weights_status: str) -> str:
    """A column title that says when recall comes from an untrained model."""
    return "recall %" if weights_status == "trained" else "recall % (UNTRAINED: chance level)"


def eval_table(result) -> Table:
    """Recall both ways, mean recall, throughput and timings of a host evaluation."""
    title = f"{result.model} on {result.dataset} {result.split} ({result.n_images} images, {result.n_captions} captions)"
    if result.weights != "trained":
        title += " [bold red]untrained weights[/]"
    table = Table(title=title)
    table.add_column("metric")
    table.add_column(recall_label(result.weights), justify="right")
    for k in (1, 5, 10):
        table.add_row(f"text->image R@{k}  (image_retrieval_recall@{k})", pct(result.recall[f"image_retrieval_recall@{k}"]))
    for k in (1, 5, 10):
        table.add_row(f"image->text R@{k}  (text_retrieval_recall@{k})", pct(result.recall[f"text_retrieval_recall@{k}"]))
    table.add_row("mean recall", pct(result.recall["mean_recall"]))
    if "binding_score" in result.extra:
        table.add_row("binding score (chance 50)", pct(result.extra["binding_score"]))
    table.add_section()
    table.add_row("images/s (eager, host)", f"{result.images_per_s:.1f}")
    table.add_row("texts/s (eager, host)", f"{result.texts_per_s:.1f}")
    table.add_row("preprocessing s", f"{result.preprocess_s:.2f}")
    table.add_row("threads, batch", f"{result.threads}, {result.batch_size}")
    return table
