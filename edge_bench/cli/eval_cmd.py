"""`edge-bench eval`: a zoo model in PyTorch eager on the host, over a retrieval split."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from edge_bench.cli import app


@app.command("eval")
def eval_command(
    model: str = typer.Option("edgeclip-s-distilled", "--model", "-m", help="Zoo entry (see `edge-bench models`)."),
    weights: Path = typer.Option(None, "--weights", help="Checkpoint file or Hugging Face CLIP folder to load; 'untrained': its random initialisation."),
    dataset: str = typer.Option("synthetic", "--dataset", "-d", help="synthetic, flickr30k or mscoco."),
    data_dir: Path = typer.Option(None, "--data-dir", help="Folder with the Karpathy JSON and images (flickr30k, mscoco)."),
    split: str = typer.Option("test", "--split", help="Split to evaluate: test (default), val or train."),
    n_images: int = typer.Option(None, "--n-images", help="Only the first N images of the split (and their captions)."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Images or captions per forward pass."),
    threads: int = typer.Option(None, "--threads", min=1, help="PyTorch threads (default: PyTorch's choice)."),
    json_out: Path = typer.Option(None, "--json", help="Also write the record to this JSON file."),
) -> None:
    """Recall@1/5/10 both ways and images/s, texts/s of a model in PyTorch eager on this machine."""
    from edge_bench.cli.ui import console, progress_bars
    from edge_bench.cli.tables import eval_table
    from edge_bench.data import load_dataset
    from edge_bench.evaluate import evaluate
    from edge_bench.models import create_model

    ds = load_dataset(dataset, split=split, data_dir=data_dir, n_images=n_images)
    clip = create_model(model, weights)
    with progress_bars() as update:
        result = evaluate(clip, ds, batch_size=batch_size, threads=threads, progress=update)
    console.print(eval_table(result))
    if json_out is not None:
        from edge_bench.errors import ConfigError

        try:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(json.dumps(result.as_dict(), indent=2))
        except OSError as exc:
            raise ConfigError(f"cannot write {json_out}: {exc.strerror}") from None
        console.print(f"wrote {json_out}")
