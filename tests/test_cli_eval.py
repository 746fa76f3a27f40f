"""`edge-bench eval` and `edge-bench models` from the command line: real output, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import write_karpathy


def cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge_bench.cli", *args], capture_output=True, text=True, timeout=timeout)


def test_eval_on_a_karpathy_folder_writes_the_record(tmp_path):
    write_karpathy(tmp_path / "flickr", "flickr30k")
    out = cli("eval", "--model", "edgeclip-s-scratch", "--dataset", "flickr30k", "--data-dir", str(tmp_path / "flickr"),
              "--json", str(tmp_path / "r.json"))
    assert out.returncode == 0, out.stderr[-2000:]
    record = json.loads((tmp_path / "r.json").read_text())
    assert record["n_images"] == 6 and record["n_captions"] == 30
    assert set(record["metrics"]) >= {"image_retrieval_recall@1", "text_retrieval_recall@10", "mean_recall"}
    assert record["images_per_s"] > 0 and record["texts_per_s"] > 0
    assert "images/s" in out.stdout


def test_eval_labels_untrained_recall():
    out = cli("eval", "--model", "ViT-B-32", "--n-images", "10", "--batch-size", "10")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "UNTRAINED" in out.stdout


def _bad(tmp_path, case: str):
    root = tmp_path / "data"
    if case == "missing json":
        root.mkdir()
    else:
        write_karpathy(root, "flickr30k")
    if case == "malformed json":
        (root / "dataset_flickr30k.json").write_text("{oops")
    if case == "bad image":
        (root / "flickr30k-images" / "00006.jpg").write_bytes(b"not a jpeg")
    if case == "empty split":
        data = json.loads((root / "dataset_flickr30k.json").read_text())
        data["images"] = [i for i in data["images"] if i["split"] != "test"]
        (root / "dataset_flickr30k.json").write_text(json.dumps(data))
    return ["eval", "--model", "edgeclip-s-scratch", "--dataset", "flickr30k", "--data-dir", str(root)]


@pytest.mark.parametrize("case, message", [
    ("missing json", "not found"),
    ("malformed json", "not valid JSON"),
    ("bad image", "does not decode"),
    ("empty split", "split is empty"),
])
def test_eval_bad_inputs_one_line(tmp_path, case, message):
    out = cli(*_bad(tmp_path, case))
    assert out.returncode == 1
    errors = [l for l in out.stderr.splitlines() if l.startswith("edge-bench: error:")]
    assert len(errors) == 1 and message in errors[0], out.stderr[-2000:]
    assert "Traceback" not in out.stderr


def test_eval_unknown_model_one_line():
    out = cli("eval", "--model", "MobileCLIP-S0")
    assert out.returncode == 1 and "unknown model 'MobileCLIP-S0'" in out.stderr and "Traceback" not in out.stderr


def test_models_lists_every_entry():
    out = subprocess.run([sys.executable, "-m", "edge_bench.cli", "models"], capture_output=True, text=True, timeout=900,
                         env={**__import__("os").environ, "COLUMNS": "200"})
    assert out.returncode == 0, out.stderr[-2000:]
    from edge_bench.models import list_models

    for name in list_models():
        assert name in out.stdout
