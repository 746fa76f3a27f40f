"""`edge-bench models`: the student zoo."""

from __future__ import annotations

import typer

from edge_bench.cli import app


@app.command("models")
def models_command(
    pattern: str = typer.Argument(None, help="Wildcard filter, e.g. 'MobileCLIP*'."),
) -> None:
    """List the student zoo: parameters per tower, input size, embedding size, weights."""
    from rich.table import Table

    from edge_bench.cli.ui import console, err_console
    from edge_bench.models.catalog import describe_all

    rows = describe_all(pattern, on_build=lambda name: err_console.print(f"[dim]measuring {name}…[/]"))
    from rich import box

    table = Table(title="edge-bench student zoo", caption="image, text: parameters per tower; ctx: text context length",
                  box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for column in ("model", "image", "text", "input", "embed", "ctx", "weights"):  # fits 80 columns
        table.add_column(column, justify="left" if column in ("model", "weights") else "right", no_wrap=True)
    for row in rows:
        table.add_row(
            row["name"], f"{row['image_params'] / 1e6:.2f}M", f"{row['text_params'] / 1e6:.2f}M",
            f"{row['image_size']}px", str(row["embed_dim"]), str(row["context_length"]), row["weights"],
        )
    console.print(table)
